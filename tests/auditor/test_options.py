"""Check options: converted by their type hints, validated when the check class is defined."""

from dataclasses import dataclass

import pytest
from conftest import distinct_chats

from auditor import Check, ConfigError, option
from auditor.config import AuditConfig
from auditor.engine import audit
from auditor.registry import Registry
from auditor.testing import write_jsonl


class Typed(Check):
    """A check with one option of every kind."""

    id = "typed"
    code = "TYP001"

    @dataclass(frozen=True)
    class Options:
        flag: bool = option(False, "a bool")
        limit: int | None = option(None, "an int or none")
        share: float = option(0.5, "a float")
        name: str | None = option(None, "a str or none")
        languages: list[str] = option(["en"], "a list of strings")
        sizes: list[int] = option([1], "a list of ints")

    def run(self, ctx):
        return self.result()


def test_command_line_strings_are_converted_by_type_hint():
    opts = Typed.make_options({"flag": "yes", "limit": "5", "share": "0.25", "name": "x",
                               "languages": '["en", "de"]', "sizes": "3, 4"})
    assert (opts.flag, opts.limit, opts.share, opts.name, opts.languages, opts.sizes) == \
        (True, 5, 0.25, "x", ["en", "de"], [3, 4])
    assert type(opts.limit) is int and all(type(s) is int for s in opts.sizes)
    back = Typed.make_options({"limit": "none", "name": ""})
    assert back.limit is None and back.name is None
    toml = Typed.make_options({"limit": 7, "languages": ["fr"], "sizes": [2.0]})
    assert toml.limit == 7 and toml.languages == ["fr"] and toml.sizes == [2]


@pytest.mark.parametrize("values, message", [
    ({"flag": "maybe"}, "option 'flag' of check 'typed' must be bool, got 'maybe'"),
    ({"limit": "five"}, "option 'limit' of check 'typed' must be int or none, got 'five'"),
    ({"limit": 2.5}, "must be int or none, got 2.5"),
    ({"sizes": "1, x"}, "option 'sizes' of check 'typed' must be list, got '1, x'"),
    ({"share": None}, "option 'share' of check 'typed' must be float, got None"),
])
def test_wrong_values_are_config_errors(values, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        Typed.make_options(values)


def test_options_are_validated_when_the_check_is_defined():
    with pytest.raises(TypeError, match="Options.when needs a default"):
        class NoDefault(Check):
            """x"""
            id = "no-default"
            code = "NOD001"

            @dataclass(frozen=True)
            class Options:
                when: int

    with pytest.raises(TypeError, match="options are bool, int, float, str or lists, not complex"):
        class ComplexOption(Check):
            """x"""
            id = "complex-option"
            code = "CPX001"

            @dataclass(frozen=True)
            class Options:
                z: complex = option(1j, "a complex number")

    with pytest.raises(TypeError, match="Options defaults are invalid: too low"):
        class BadDefault(Check):
            """x"""
            id = "bad-default"
            code = "BAD001"

            @dataclass(frozen=True)
            class Options:
                n: int = option(0, "n")

                def __post_init__(self):
                    if self.n < 1:
                        raise ValueError("too low")


def test_blocking_from_the_command_line_is_a_bool_and_the_report_shows_it(tmp_path):
    train = write_jsonl(tmp_path / "t.jsonl", distinct_chats(5))
    config = AuditConfig(train=(str(train),), select=("typed",), checks={"typed": {"blocking": "false"}})
    report = audit(config, registry=Registry.from_classes([Typed]))
    assert report["checks"]["typed"]["blocking"] is False
    assert [r["blocking"] for r in report["results"] if r["check"] == "typed"] == [False]
    bad = AuditConfig(train=(str(train),), select=("typed",), checks={"typed": {"blocking": "sometimes"}})
    with pytest.raises(ConfigError, match="'blocking' of check 'typed' must be true or false, got 'sometimes'"):
        audit(bad, registry=Registry.from_classes([Typed]))
