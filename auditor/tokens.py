"""Token counts of examples, as a trainer or a hosted fine-tuning service would count them.

`token_counts(ctx, tokenizer)` gives, for every frame row, the tokens of its prompt side (everything
before the first trainable token: the system and user turns, and the template text that opens the
assistant's turn) and of the whole example. With a local Hugging Face tokenizer (`tokenizer.json`,
or a model folder holding one, as in the Hugging Face cache) the counts are exact: chat records are
rendered with the folder's chat template (in a sandboxed Jinja2 environment, as `transformers` does,
without importing it) and encoded in batches by `tokenizers`. An OpenAI encoding by name (`o200k_base`,
`cl100k_base`, from the `openai-tokens` extra, whose wheel carries the encodings) counts chat records
as OpenAI counts them. Without either they are estimates, one token per 4 characters (the usual rule
for English BPE vocabularies), and say so.

`tokenizers` and `jinja2` (the `tokens` extra) and `bpe_openai` (the `openai-tokens` extra) are imported
only when a tokenizer is asked for.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .input.normalize import content_text

ESTIMATE_CHARS_PER_TOKEN = 4
ALGORITHM_VERSION = 1
NOT_COUNTED = -1  # an invalid row
_ENCODE_BATCH = 4096  # texts encoded at a time: every core busy, a batch of encodings held at once
REFUSED = -2  # the chat template raised on this conversation
# A chat template may print today's date (strftime_now): a fixed one keeps counts reproducible.
TEMPLATE_DATE = (2026, 1, 1)
# OpenAI's encodings, named instead of a path: the encoding of gpt-4o, gpt-4.1 and o-series models, and
# of gpt-4 and gpt-3.5-turbo. Hosted targets count with the first when no tokenizer is given.
OPENAI_ENCODINGS = ("o200k_base", "cl100k_base")
DEFAULT_HOSTED_ENCODING = "o200k_base"
# OpenAI's chat format around the text of a message (<|im_start|>, the separator, <|im_end|>), a name,
# and the assistant's reply opening: num_tokens_from_messages in OpenAI's cookbook ("How to count tokens
# with tiktoken", and "Data preparation and analysis for chat model fine-tuning", which uses it).
OPENAI_TOKENS_PER_MESSAGE, OPENAI_TOKENS_PER_NAME, OPENAI_REPLY_PRIMING = 3, 1, 3


@dataclass
class Tokenizer:
    """What counts tokens: a local Hugging Face tokenizer, or the estimate (`backend` None)."""

    name: str  # what reports call it
    digest: str = ""  # its files' content, part of every cache key
    backend: Any = None  # a tokenizers.Tokenizer
    template: Any = None  # a compiled chat template (jinja2), or None
    specials: dict[str, str] = field(default_factory=dict)  # bos_token, eos_token, ... for the template
    encoding: Any = None  # an OpenAI encoding's counter (bpe_openai's), instead of `backend`

    @property
    def exact(self) -> bool:
        return self.backend is not None or self.encoding is not None

    @property
    def reads_records(self) -> bool:
        """Whether chat rows are counted from their records (a template, or OpenAI's chat format)."""
        return self.template is not None or self.encoding is not None

    def count(self, texts: list[str], *, special: bool = True) -> list[int]:
        """Tokens of each text (`special`: with the tokenizer's own BOS/EOS, as when encoding plain text)."""
        if self.encoding is not None:  # one core (the counter holds the GIL), about 7M tokens a second
            return [_openai_count(self.encoding, t) for t in texts]
        if self.backend is None:
            return [math.ceil(len(t) / ESTIMATE_CHARS_PER_TOKEN) for t in texts]
        encode = getattr(self.backend, "encode_batch_fast", None) or self.backend.encode_batch
        return [len(e) for start in range(0, len(texts), _ENCODE_BATCH)
                for e in encode(texts[start:start + _ENCODE_BATCH], add_special_tokens=special)]

    def _encoded(self, texts: list[str]):
        """Each text's encoding (with offsets), a batch at a time: at most one batch's encodings are held."""
        for start in range(0, len(texts), _ENCODE_BATCH):
            yield from self.backend.encode_batch(texts[start:start + _ENCODE_BATCH], add_special_tokens=False)

    def count_split(self, openings: list[str], texts: list[str]) -> list[tuple[int, int]]:
        """(tokens before the first trainable one, tokens in all) of each text, encoded once: where a
        text starts with its opening, the opening's tokens are those before the token holding the first
        character after it (a token that spans the two is trainable)."""
        out, apart = [], []
        for k, (opening, text, encoding) in enumerate(zip(openings, texts, self._encoded(texts))):
            total = len(encoding)
            if not text.startswith(opening):
                apart.append(k)
                out.append((0, total))
                continue
            at, position = None, len(opening)
            while at is None and position < len(text):  # characters a pre-tokenizer drops (spaces) hold no token
                at = encoding.char_to_token(position)
                position += 1
            out.append((total if at is None else at, total))
        if apart:  # a template whose opening is not the start of the whole: counted on its own
            for k, n in zip(apart, self.count([openings[k] for k in apart], special=False)):
                out[k] = (n, out[k][1])
        return out

    def render(self, messages: list[dict[str, Any]], tools: Any, *, generation_prompt: bool) -> str:
        """The conversation as the chat template writes it (raises ValueError when the template refuses it)."""
        try:
            return self.template.render(messages=messages, tools=tools or None,
                                        add_generation_prompt=generation_prompt, **self.specials)
        except Exception as exc:  # a template's raise_exception(), or a conversation it cannot read
            raise ValueError(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__) from None


ESTIMATE = Tokenizer(name=f"estimate (1 token per {ESTIMATE_CHARS_PER_TOKEN} characters)")


def load_tokenizer(path: str | None) -> Tokenizer:
    """The tokenizer at `path` (a tokenizer.json, a model folder, or a Hugging Face cache folder
    `models--org--name`), or the estimate when `path` is empty.

    Raises:
        ConfigError: the path holds no tokenizer, or the `tokens` extra is not installed.
    """
    if not path:
        return ESTIMATE
    if path in OPENAI_ENCODINGS and not os.path.exists(path):
        return _openai_encoding(path)
    file, folder = _tokenizer_files(path)
    try:
        import tokenizers
    except ImportError:
        raise ConfigError("--tokenizer needs the tokens extra: pip install 'dataset-auditor[tokens]'") from None
    try:
        backend = tokenizers.Tokenizer.from_file(file)
    except Exception as exc:  # tokenizers raises its own Exception subclass on a damaged file
        raise ConfigError(f"{file}: not a tokenizer.json: {str(exc).splitlines()[0][:200]}") from None
    import hashlib

    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        digest.update(handle.read())
    config = _read_json(os.path.join(folder, "tokenizer_config.json")) if folder else {}
    source = _template_source(folder, config)
    digest.update(json.dumps([source, _specials(config)], sort_keys=True).encode())
    template = _compile(source, file) if source else None
    name = os.path.basename(os.path.normpath(folder)) if folder else os.path.basename(file)
    return Tokenizer(name=name, digest=digest.hexdigest(), backend=backend, template=template,
                     specials=_specials(config))


def hosted_tokenizer(path: str | None) -> Tokenizer:
    """The tokenizer for a hosted target's rules: `path` when given, else OpenAI's o200k_base when the
    `openai-tokens` extra is installed, else the estimate."""
    if path:
        return load_tokenizer(path)
    try:
        return _openai_encoding(DEFAULT_HOSTED_ENCODING)
    except ConfigError:
        return ESTIMATE


def _openai_encoding(name: str) -> Tokenizer:
    from importlib.metadata import version

    return Tokenizer(name=name, digest=f"{name} bpe-openai {version('bpe-openai')}", encoding=_openai_counter(name))


def _openai_counter(name: str) -> Any:
    """bpe_openai's Rust counter of `name` (its `count(text)`). Its compiled module is loaded alone: the
    package's own import first decodes every encoding into Python dictionaries (over a second, and a
    deprecated importlib call) that counting never uses; the Rust side carries the encodings itself."""
    binary = _openai_binary()
    if binary is None:
        raise ConfigError(f"--tokenizer {name} needs the openai-tokens extra: "
                          "pip install 'dataset-auditor[openai-tokens]'")
    import importlib.machinery
    import importlib.util
    import sys

    module = sys.modules.get("bpe_openai._bindings")  # a module PyO3 builds may be initialised only once
    if module is None:
        loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", binary)
        module = importlib.util.module_from_spec(
            importlib.util.spec_from_file_location("bpe_openai._bindings", binary, loader=loader))
        loader.exec_module(module)
        sys.modules["bpe_openai._bindings"] = module
    return module.tokenizer_for_encoding(name)


def _openai_binary() -> str | None:
    """The compiled module of the installed bpe_openai (found without importing the package), or None."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("bpe_openai")
    except (ImportError, ValueError):  # ValueError: hidden from the import system (sys.modules entry None)
        return None
    if spec is None or not spec.origin:
        return None
    folder = os.path.dirname(spec.origin)
    names = sorted(n for n in os.listdir(folder) if n.startswith("_bindings.") and n.endswith((".so", ".pyd")))
    return os.path.join(folder, names[0]) if names else None


_OPENAI_PIECE = 500_000  # characters counted at a time: one call's memory stays bounded


def _openai_count(counter: Any, text: str) -> int:
    """Tokens of `text` in an OpenAI encoding. A long text is counted in pieces cut just before a space
    that follows a non-space and precedes a letter: the encoding's pre-tokenizer starts a new piece there
    too (a space opens the word after it), so the sum is the count of the whole."""
    if len(text) < 2 * _OPENAI_PIECE:
        return _openai_count_piece(counter, text)
    total, start = 0, 0
    while len(text) - start >= 2 * _OPENAI_PIECE:
        cut = start + _OPENAI_PIECE
        while cut < start + 2 * _OPENAI_PIECE - 1 and not (text[cut] == " " and not text[cut - 1].isspace()
                                                          and text[cut + 1].isalpha()):
            cut += 1
        total += _openai_count_piece(counter, text[start:cut])
        start = cut
    return total + _openai_count_piece(counter, text[start:])


def _openai_count_piece(counter: Any, text: str) -> int:
    try:
        return counter.count(text)
    except UnicodeEncodeError:  # a lone surrogate: counted as the U+FFFD OpenAI's API would receive
        return counter.count(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


def tokenizer_files(path: str | None, *, hosted: bool = False) -> list[str]:
    """The files a tokenizer at `path` is read from (tokenizer.json, its config and chat template; an
    OpenAI encoding's compiled counter; with `hosted`, the default encoding's when it is installed): what a
    cached report depends on. Never the model's weights beside them."""
    if not path or (path in OPENAI_ENCODINGS and not os.path.exists(path)):
        name = path or (DEFAULT_HOSTED_ENCODING if hosted else "")
        return [f for f in [_openai_binary()] if f] if name else []
    file, folder = _tokenizer_files(path)
    beside = [os.path.join(folder, name) for name in ("tokenizer_config.json", "chat_template.jinja")] if folder else []
    return [file, *(f for f in beside if os.path.isfile(f))]


def _tokenizer_files(path: str) -> tuple[str, str | None]:
    """(the tokenizer.json, the folder of its config and template or None)."""
    if os.path.isfile(path):
        return path, os.path.dirname(path) or "."
    if not os.path.isdir(path):
        raise ConfigError(f"{path}: tokenizer not found (give a tokenizer.json or a model folder)")
    snapshots = os.path.join(path, "snapshots")
    if os.path.isdir(snapshots) and not os.path.isfile(os.path.join(path, "tokenizer.json")):
        # a Hugging Face cache folder: the snapshot refs/main names, else the only (or last) one
        ref = os.path.join(path, "refs", "main")
        names = sorted(os.listdir(snapshots))
        chosen = open(ref).read().strip() if os.path.isfile(ref) else (names[-1] if names else "")
        path = os.path.join(snapshots, chosen)
    file = os.path.join(path, "tokenizer.json")
    if not os.path.isfile(file):
        raise ConfigError(f"{path}: no tokenizer.json in this folder")
    return file, path


def _read_json(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return value if isinstance(value, dict) else {}


def _template_source(folder: str | None, config: dict[str, Any]) -> str | None:
    """The chat template: chat_template.jinja beside the tokenizer, else tokenizer_config.json's
    `chat_template` (a string, or a list of named templates: the one named "default")."""
    if folder and os.path.isfile(os.path.join(folder, "chat_template.jinja")):
        with open(os.path.join(folder, "chat_template.jinja"), encoding="utf-8") as handle:
            return handle.read()
    template = config.get("chat_template")
    if isinstance(template, list):
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) and template.strip() else None


def _specials(config: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        value = config.get(key)
        if isinstance(value, dict):  # an AddedToken as transformers writes it
            value = value.get("content")
        if isinstance(value, str):
            out[key] = value
    return out


def _compile(source: str, file: str) -> Any:
    try:
        import jinja2
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError:
        raise ConfigError("a tokenizer with a chat template needs the tokens extra: "
                          "pip install 'dataset-auditor[tokens]'") from None
    import datetime

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    def tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format: str) -> str:
        return datetime.date(*TEMPLATE_DATE).strftime(format)

    # as transformers compiles chat templates: sandboxed, blocks trimmed, loop controls, these helpers
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now)
    try:
        template = env.from_string(source)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{file}: the chat template does not compile: {exc}") from None
    # Its globals are a ChainMap over the environment's, copied into every render's context: one plain
    # dict of the same names renders the same text in half the time (nothing adds globals later).
    template.globals = dict(template.globals)
    return template


# ------------------------------------------------------------------------------------- counting


def conversation(record: dict[str, Any]) -> tuple[list[dict[str, Any]], Any] | None:
    """(messages as role/content dicts, tools) of a chat record (OpenAI `messages` or ShareGPT
    `conversations`), or None for other formats."""
    messages = record.get("messages")
    if isinstance(messages, list):
        return [m for m in messages if isinstance(m, dict)], record.get("tools")
    turns = record.get("conversations")
    if isinstance(turns, list):
        roles = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system",
                 "function_call": "assistant", "observation": "tool", "tool": "tool"}
        out = [{"role": roles.get(t.get("from"), t.get("from")), "content": t.get("value")}
               for t in turns if isinstance(t, dict)]
        return out, record.get("tools")
    return None


def count_rows(tokenizer: Tokenizer, frame: Any, records: dict[int, dict[str, Any]]) -> Any:
    """(rows of `frame`, 2) int64: prompt-side and total tokens of each row (NOT_COUNTED for an invalid
    row, REFUSED for a conversation the chat template refuses). `records` maps row ids to records
    (needed for chat rows when the tokenizer has a chat template)."""
    import numpy as np

    out = np.full((frame.height, 2), NOT_COUNTED, np.int64)
    if not tokenizer.exact:  # the estimate needs no text of its own: counted on the columns
        import polars as pl

        def estimate(column):
            return (pl.col(column).fill_null("").str.len_chars() + (ESTIMATE_CHARS_PER_TOKEN - 1)) \
                // ESTIMATE_CHARS_PER_TOKEN

        counted = frame.select(pl.col("valid"), prompt=estimate("prompt"), total=estimate("prompt") + estimate("response"))
        valid = counted["valid"].to_numpy()
        out[valid, 0] = counted["prompt"].to_numpy()[valid]
        out[valid, 1] = counted["total"].to_numpy()[valid]
        return out
    templated, plain = [], []
    for i, (row, valid, prompt, response) in enumerate(frame.select("row", "valid", "prompt", "response").iter_rows()):
        if not valid:
            continue
        chat = conversation(records[row]) if tokenizer.reads_records and row in records else None
        if chat is None:
            plain.append((i, prompt or "", response or ""))
            continue
        messages, tools = chat
        if tokenizer.encoding is not None:
            out[i] = _openai_chat_counts(tokenizer, messages, tools)
            continue
        first = next((k for k, m in enumerate(messages) if m.get("role") == "assistant"), len(messages))
        try:
            full = tokenizer.render(messages, tools, generation_prompt=False)
            opening = tokenizer.render(messages[:first], tools, generation_prompt=True)
        except ValueError:
            out[i] = REFUSED
            continue
        templated.append((i, opening, full))
    if plain:
        index = np.array([i for i, _, _ in plain], np.int64)
        prompts = tokenizer.count([p for _, p, _ in plain])
        responses = tokenizer.count([r for _, _, r in plain], special=False)
        out[index, 0] = prompts
        out[index, 1] = np.array(prompts) + np.array(responses)
    if templated:
        index = np.array([i for i, _, _ in templated], np.int64)
        # the template writes the special tokens itself, as apply_chat_template(tokenize=True) encodes
        out[index] = tokenizer.count_split([o for _, o, _ in templated], [f for _, _, f in templated])
    return out


def _openai_chat_counts(tokenizer: Tokenizer, messages: list[dict[str, Any]], tools: Any) -> tuple[int, int]:
    """(prompt side, total) of a chat example as OpenAI counts it: num_tokens_from_messages of the turns
    before the first assistant reply (what the API reports as prompt tokens), and of all turns. Tool
    definitions and tool calls, which the cookbook leaves out, are counted as their JSON text."""
    texts, per_message = [], []
    for message in messages:
        name = message.get("name")
        pieces = [v for v in (message.get("role"), name, content_text(message.get("content"))) if isinstance(v, str)]
        calls = message.get("tool_calls") or message.get("function_call")
        if calls:
            pieces.append(json.dumps(calls, ensure_ascii=False, separators=(",", ":")))
        per_message.append((len(texts), len(texts) + len(pieces), isinstance(name, str)))
        texts += pieces
    if tools:
        texts.append(json.dumps(tools, ensure_ascii=False, separators=(",", ":")))
    counts = tokenizer.count(texts, special=False)
    costs = [OPENAI_TOKENS_PER_MESSAGE + sum(counts[a:b]) + (OPENAI_TOKENS_PER_NAME if named else 0)
             for a, b, named in per_message]
    first = next((k for k, m in enumerate(messages) if m.get("role") == "assistant"), len(messages))
    fixed = OPENAI_REPLY_PRIMING + (counts[-1] if tools else 0)
    return fixed + sum(costs[:first]), fixed + sum(costs)


def token_counts(ctx: Any, tokenizer: Tokenizer) -> Any:
    """(frame rows, 2) int64 of `count_rows` for every row of the audit, per file and kept in the cache."""

    def build(frame):
        records = {}
        if tokenizer.reads_records:
            records = {row: record for row, _, _, record in ctx.records(rows=frame["row"].to_list())}
        return count_rows(tokenizer, frame, records)

    return ctx.per_file(("token-counts", tokenizer.name, tokenizer.digest, ALGORITHM_VERSION), build)


def refusal(tokenizer: Tokenizer, record: dict[str, Any]) -> str:
    """Why the chat template refuses a record's conversation (for a REFUSED row's finding)."""
    chat = conversation(record)
    if chat is None:
        return "not a conversation"
    try:
        tokenizer.render(chat[0], chat[1], generation_prompt=False)
    except ValueError as exc:
        return str(exc)
    return "the chat template refused it"
