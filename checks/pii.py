"""Check `pii`: personal data and credentials in prompts and responses, reported masked."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import Check, Severity, counted, merge_repeated, option

from ._pii_kinds import KINDS, Context

PERSONAL = "PII001"
SECRET = "PII002"
_FIELDS = ("prompt", "response")


class Pii(Check):
    """Personal data (e-mail, phone, card, IBAN, IP, US SSN) and credentials in the texts, masked.

    ## What it does
    Reads every valid row's prompt (system and user turns) and response for:

    - `email`: e-mail addresses (documentation domains such as example.com, *.test, *.invalid are not).
    - `phone`: phone numbers, found and validated by Google's `phonenumbers` (numbers without a
      country code are read as `region`'s), written with a `+` country code, an area code in
      parentheses or separated groups (a bare run of digits is as often an order number);
      fictional 555-01xx numbers and arithmetic (`30000 - 11520 =`) are not.
    - `card`: payment card numbers: an issuer prefix (Visa, Mastercard, Amex, Discover, JCB,
      Diners) and length, and the Luhn checksum (`python-stdnum`).
    - `iban`: IBANs with a valid checksum (`python-stdnum`).
    - `ip`: public IPv4 and IPv6 addresses (private, loopback and documentation ranges identify no
      one; a number after `v`, `version` or `build` is a version).
    - `ssn`: US social security numbers written ddd-dd-dddd, in the ranges ever issued.
    - `secret`: credentials, by `detect-secrets`' plugins: AWS keys, GitHub, GitLab, Slack and Stripe
      tokens, private key blocks, JSON Web Tokens, passwords in URLs, and values assigned to
      key-like names (`password = "..."`); placeholders (`<TOKEN>`, `xxx`, `your_api_key`) are not.

    Each kind on a row is one finding (PII001 personal data, PII002 credentials) naming the field,
    the character span and a masked excerpt (`j***@mail.com`, `**** **** **** 4242`): the value
    itself never reaches a report, the terminal or the cache. The same masked value on many lines
    is one finding listing them. Columns are prefiltered with one regular expression per kind, so
    only rows that could hold one are read (the matches are kept per block of lines in the cache: an
    edited re-run scans the edited block only). Metrics: rows with each kind, per split.

    ## Why is this bad?
    A fine-tuned model can repeat its training data verbatim: a customer's address or card number,
    or a key pasted into a ticket, becomes something the model tells anyone who asks.

    ## Example
    ```jsonl
    {"messages": [{"role": "user", "content": "Mail me at jane.doe@mail.com"}, {"role": "assistant", "content": "Done."}]}
    ```
    `E-mail address in the prompt: j***@mail.com` (PII001, a warning). Allow a domain or a known
    test value with `allow = ["mail.com"]`.

    ## Fix
    `auditor clean --redact` keeps the rows and writes each value found as a typed placeholder
    (`<EMAIL>`, `<PHONE>`, `<CARD>`, `<IBAN>`, `<IP>`, `<SSN>`, `<SECRET>`), the rest of each line byte
    for byte (JSONL inputs).
    """

    id = "pii"
    code = PERSONAL
    provides = frozenset({"redaction"})

    @dataclass(frozen=True)
    class Options:
        kinds: list = option(list(KINDS), "Kinds to look for: " + ", ".join(KINDS) + ".")
        region: str = option("US", "Region of phone numbers written without a country code (ISO 3166, e.g. GB).")
        allow: list = option([], "Values and e-mail domains that are not findings (test numbers, your own domain).")
        personal_severity: str = option("warning", "Severity of personal data.", choices=("info", "warning", "error"))
        secret_severity: str = option("error", "Severity of credentials.", choices=("info", "warning", "error"))
        exclude: bool = option(False, "Remove rows with findings from the clean set.")

        def __post_init__(self):
            unknown = [k for k in self.kinds if k not in KINDS]
            if unknown:
                raise ValueError(f"unknown kind {unknown[0]!r} (kinds: {', '.join(KINDS)})")
            if not (len(self.region) == 2 and self.region.isalpha()):
                raise ValueError(f"region {self.region!r} is not an ISO 3166 code such as US, GB, DE")

    def _setup(self):
        """(the finders' context, the kinds looked for), from the options; made once per check."""
        if not hasattr(self, "_prepared"):
            context = Context(self.options.region.upper(), frozenset(str(a).lower() for a in self.options.allow))
            self._prepared = context, [KINDS[name] for name in dict.fromkeys(self.options.kinds)]
        return self._prepared

    def redactions(self, text):
        """Each value of every kind in `text`, with its typed placeholder (`<EMAIL>`, `<CARD>`, ...)."""
        import re

        context, kinds = self._setup()
        out = []
        for kind in kinds:
            if re.search(kind.prefilter, text):
                out += [(kind.value(value), kind.placeholder) for _, _, value in kind.find(text, context)]
        return out

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset()

    @staticmethod
    def _prefiltered(ctx, kinds):
        """(frame rows, fields) uint32, bit k set where kinds[k]'s prefilter matches the field: the rows
        worth reading in Python. Kept per block in the cache: an edited re-run scans one block."""
        import polars as pl

        key = ("pii-prefilter", tuple(kind.prefilter for kind in kinds), pl.__version__)
        return ctx.per_file(key, lambda frame: _prefilter_bits(frame, kinds))

    def run(self, ctx):
        import polars as pl

        context, kinds = self._setup()
        prefiltered = self._prefiltered(ctx, kinds)
        findings, excluded, metrics = [], set(), {}
        pending = []  # (finding, row, value): the turn a value is in, looked up below; the value is not kept
        for split in ("train", "eval"):
            rows = ctx.rows(split).select("row", "source", "line", *_FIELDS)
            seen = {kind.name: set() for kind in kinds}
            for j, field in enumerate(_FIELDS):
                bits = prefiltered[rows["row"].to_numpy(), j]
                for k, kind in enumerate(kinds):
                    candidates = rows.filter(pl.Series(((bits >> k) & 1).astype(bool)))
                    for row, source, line, text in candidates.select("row", "source", "line", field).iter_rows():
                        spans = list(kind.find(text, context))
                        if not spans:
                            continue
                        seen[kind.name].add(row)
                        start, end, value = spans[0]
                        more = f" and {len(spans) - 1:,} more" if len(spans) > 1 else ""
                        severity = Severity(self.options.secret_severity if kind.secret
                                            else self.options.personal_severity)
                        findings.append(self.finding(
                            f"{kind.title} in the {field}: {kind.mask(value)}{more}", source=source, line=line,
                            split=split, severity=severity, code=SECRET if kind.secret else PERSONAL,
                            kind=kind.name, field=field, span=[start, end], count=len(spans)))
                        pending.append((findings[-1], row, kind.value(value)))
                        if self.options.exclude:
                            excluded.add(row)
            metrics[f"{split}_rows_with"] = {name: len(found) for name, found in seen.items()}
        _add_turns(ctx, pending)
        findings = merge_repeated(findings)
        total = {name: metrics["train_rows_with"][name] + metrics["eval_rows_with"][name] for name in seen}
        found = ", ".join(f"{KINDS[name].title.lower()} on {counted(n, 'row')}" for name, n in total.items() if n)
        summary = found or f"no personal data or credentials found ({', '.join(k.name for k in kinds)})"
        return self.result(findings, summary=summary, metrics=metrics, excluded=excluded)


def _prefilter_bits(frame, kinds):
    import numpy as np
    import polars as pl

    out = np.zeros((frame.height, len(_FIELDS)), np.uint32)
    # First every kind at once: one pass of the alternation of the prefilters costs what one costs
    # (~1 GB/s: the Unicode digit classes), and most texts match none. Then each kind, on the texts
    # that matched some: a text matches the alternation exactly when it matches one of them.
    any_kind = "|".join(f"(?:{kind.prefilter})" for kind in kinds)
    some = frame.select([pl.col(field).str.contains(any_kind).fill_null(False).alias(str(j))
                         for j, field in enumerate(_FIELDS)])
    for j, field in enumerate(_FIELDS):
        rows = np.flatnonzero(some[str(j)].to_numpy())
        if not len(rows):
            continue
        texts = frame[field].gather(rows).to_frame("text")
        # polars runs the kinds' expressions side by side on every core
        hits = texts.select([pl.col("text").str.contains(kinds[k].prefilter).fill_null(False).alias(str(k))
                             for k in range(len(kinds))])
        for k in range(len(kinds)):
            out[rows, j] |= hits[str(k)].to_numpy().astype(np.uint32) << np.uint32(k)
    return out


def _add_turns(ctx, pending) -> None:
    """Each finding's `turn`: the index of the message (or ShareGPT turn) whose text holds the value."""
    records = {row: record for row, _, _, record in ctx.records(rows=sorted({row for _, row, _ in pending}))}
    for finding, row, value in pending:
        record = records.get(row, {})
        turns = record.get("messages") if isinstance(record.get("messages"), list) else record.get("conversations")
        if not isinstance(turns, list):
            continue
        for i, turn in enumerate(turns):
            if isinstance(turn, dict) and value in str(turn.get("content", turn.get("value", ""))):
                finding.data["turn"] = i
                break
