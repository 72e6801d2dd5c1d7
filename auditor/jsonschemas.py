"""JSON Schemas that come with the data, compiled so that they cannot reach outside themselves.

A dataset's tool declarations carry JSON Schemas written by strangers, and a user's `--schema` may
have been downloaded with the data. Validating with them must not fetch a URL, read a local file
or hang, and a broken one must be that row's problem, not the audit's:

- references resolve inside the schema only: the registry retrieves nothing, so `$ref` to
  `http://...` or `file://...` is an unresolvable reference, reported, never followed;
- `pattern` and `patternProperties` run on a linear-time engine (the Rust regex of jsonschema-rs),
  so a pattern such as `^(a+)+$` cannot take exponential time on the text it is matched against;
- a reference that does not resolve, or resolves into itself forever, surfaces as `SchemaTrouble`
  with a one-line reason, for the caller to report on the row.
"""

from __future__ import annotations

from functools import cache
from typing import Any


class SchemaTrouble(Exception):
    """A schema that cannot be used to validate: an unresolvable or endless reference."""


def compile_schema(schema: Any) -> tuple[Any, str | None]:
    """(a jsonschema validator confined to `schema`, None), or (None, the reason it is not a valid
    JSON Schema). The draft is the one `$schema` names, 2020-12 by default."""
    import jsonschema
    from jsonschema.validators import validator_for

    if not isinstance(schema, (dict, bool)):
        kind = {list: "an array", str: "a string", int: "a number", float: "a number", type(None): "null"}
        return None, f"a JSON Schema must be an object, got {kind.get(type(schema), type(schema).__name__)}"
    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        # as check_schema does, but the errors in a fixed order first: which of two equally relevant
        # errors best_match names otherwise follows the process's hash seed
        meta = validator_for(cls.META_SCHEMA, default=cls)
        metaschema = meta(cls.META_SCHEMA, format_checker=meta.FORMAT_CHECKER)
        error = jsonschema.exceptions.best_match(in_order(metaschema.iter_errors(schema)))
    except RecursionError:
        return None, "nested too deeply to check"
    if error is not None:
        pointer = "".join(f"/{p}" for p in error.absolute_path) or "(root)"
        return None, f"{pointer}: {error.message[:200]}"
    return confined_validator(cls, schema), None


def in_order(errors: Any) -> list:
    """Validation errors sorted by where they are (instance path, schema path) and what they say: the
    order jsonschema yields them in can follow set iteration, which changes from process to process."""
    return sorted(errors, key=lambda e: ([str(p) for p in e.absolute_path],
                                         [str(p) for p in e.absolute_schema_path], e.message))


def confined_validator(cls: type, schema: Any, **options: Any) -> Any:
    """A `cls` validator of `schema` whose references stay inside it and whose patterns run in linear time."""
    return _confined(cls)(schema, registry=_registry(), **options)


def iter_errors(validator: Any, value: Any) -> list:
    """Every validation error of `value`; raises SchemaTrouble when the schema cannot be followed."""
    from referencing.exceptions import Unresolvable

    try:
        return in_order(validator.iter_errors(value))
    except Unresolvable as exc:
        ref = getattr(exc, "ref", None) or str(exc)
        raise SchemaTrouble(f"its reference '{str(ref)[:200]}' does not resolve inside it "
                            "(references outside a schema are never followed)") from None
    except RecursionError:
        raise SchemaTrouble("its references loop without end") from None


@cache
def _registry():
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str):
        raise NoSuchResource(ref=uri)

    return Registry(retrieve=refuse)


@cache
def _confined(cls: type) -> type:
    """`cls` with `pattern` and `patternProperties` matched by a linear-time regex engine."""
    from jsonschema.validators import extend

    return extend(cls, {"pattern": _pattern, "patternProperties": _pattern_properties})


@cache
def _matcher(pattern: str):
    """A linear-time `search` for an ECMA-262 pattern (None: the pattern cannot be compiled)."""
    import jsonschema_rs

    try:
        validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern}, offline=True)
    except Exception:  # a pattern jsonschema-rs refuses: no match is claimed either way
        return None
    return validator.is_valid


def _pattern(validator, pattern, instance, schema):
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string"):
        return
    matches = _matcher(pattern)
    if matches is not None and not matches(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        matches = _matcher(pattern)
        if matches is None:
            continue
        for key, value in instance.items():
            if matches(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)
