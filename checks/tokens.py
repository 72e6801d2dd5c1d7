"""Check `tokens`: tokens per example, and the rows a trainer would truncate or train on nothing."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import Check, Severity, counted, option
from auditor import tokens as token_counting

# Token bins shared by every report (powers of two: the context lengths trainers are set to).
TOKEN_BINS = (0, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
TRUNCATED = "TOK001"
NOTHING_TO_TRAIN = "TOK002"
TEMPLATE_REFUSED = "TOK003"


class Tokens(Check):
    """Tokens per example; with `max_length`, every row a trainer would truncate or train on nothing.

    ## What it does
    Counts the tokens of every valid row: the prompt side (system and user turns, and the template
    text that opens the assistant's turn) and the whole example. With `tokenizer` (a local
    `tokenizer.json` or model folder, `--tokenizer`) the counts are exact: chat records are rendered
    with the model's chat template, as the trainer renders them. Without it they are estimates (one
    token per 4 characters), and every figure says so. The metrics give, per split, p50/p95/max of
    prompt, response and total tokens, the total training tokens and tokens x `epochs`.

    With `max_length` (`--max-length`, the trainer's `max_length` / `cutoff_len`), every row longer
    than it is a finding (TOK001: the trainer cuts its end, or drops it), and every row whose
    assistant part starts at or after it keeps no trainable token (TOK002) and leaves the clean set.
    A conversation the chat template refuses (its `raise_exception`) is TOK003: training would stop
    on it.

    ## Why is this bad?
    Trainers truncate silently: TRL's SFTTrainer cuts at 1024 tokens by default, LLaMA-Factory at
    `cutoff_len` 2048, axolotl drops long rows. A truncated answer teaches the model to stop mid-way;
    a row with no trainable token teaches nothing, and a batch of them ends in "all labels are -100".

    ## Example
    With `--tokenizer ./model --max-length 2048`, a 3,000-token conversation whose answer starts at
    token 2,500 is TOK001 and TOK002 on its line, and is excluded.
    """

    id = "tokens"
    code = TRUNCATED
    provides = frozenset({"token-histograms"})

    @dataclass(frozen=True)
    class Options:
        tokenizer: str = option("", "A tokenizer.json or a local model folder (as in the Hugging Face cache); "
                                    "empty: estimated counts.")
        max_length: int = option(0, "The trainer's maximum sequence length in tokens (0: no pre-flight).")
        epochs: int = option(1, "Epochs the training runs, for the tokens x epochs figure.")

        def __post_init__(self):
            if self.max_length < 0 or self.epochs < 1:
                raise ValueError("max_length must be >= 0 and epochs >= 1")

    def files_read(self):
        return token_counting.tokenizer_files(self.options.tokenizer)

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset({"token-counts"})

    def run(self, ctx):
        import numpy as np

        tokenizer = token_counting.load_tokenizer(self.options.tokenizer)
        counts = token_counting.token_counts(ctx, tokenizer)
        kind = "tokens" if tokenizer.exact else "estimated tokens"
        metrics = {"tokenizer": tokenizer.name, "exact": tokenizer.exact, "max_length": self.options.max_length,
                   "epochs": self.options.epochs}
        for split in ("train", "eval"):
            rows = ctx.rows(split)["row"].to_numpy()
            metrics[split] = _split_metrics(counts[rows], self.options.epochs)
            metrics[f"{split}_tokens_histogram"] = _histogram(counts[rows, 1])
        findings, excluded = [], []
        where = ctx.frame.select("row", "source", "line", "split")
        refused = np.flatnonzero(counts[:, 0] == token_counting.REFUSED)
        if len(refused):
            records = {row: record for row, _, _, record in ctx.records(rows=refused.tolist())}
            for row, source, line, split in where[refused].iter_rows():
                reason = token_counting.refusal(tokenizer, records[row])
                findings.append(self.finding(f"The chat template refuses this conversation: {reason}", source=source,
                                             line=line, split=split, code=TEMPLATE_REFUSED, reason=reason))
                excluded.append(row)
        limit = self.options.max_length
        if limit:
            long = np.flatnonzero(counts[:, 1] > limit)
            for row, source, line, split in where[long].iter_rows():
                prompt, total = (int(n) for n in counts[row])
                findings.append(self.finding(
                    f"{total:,} {kind}, over max_length {limit:,}: the trainer cuts the last {total - limit:,}"
                    + (" (or drops the row)" if prompt < limit else ""),
                    source=source, line=line, split=split, severity=Severity.WARNING, code=TRUNCATED,
                    tokens=total, prompt_tokens=prompt, max_length=limit))
                if prompt >= limit:
                    findings.append(self.finding(
                        f"No trainable token within max_length {limit:,}: the answer starts at {kind[:-1]} "
                        f"{prompt + 1:,}", source=source, line=line, split=split, severity=Severity.WARNING,
                        code=NOTHING_TO_TRAIN, tokens=total, prompt_tokens=prompt, max_length=limit))
                    excluded.append(row)
            metrics["truncated_rows"] = len(long)
            metrics["untrainable_rows"] = int(((counts[:, 0] >= limit) & (counts[:, 1] > limit)).sum())
        train = metrics["train"]
        summary = (f"train: {train['total_tokens']:,} {kind} ({counted(train['examples'], 'example')}, "
                   f"p95 {train['total']['p95']:,}, max {train['total']['max']:,} per example)")
        if limit:
            summary += (f"; {counted(metrics['truncated_rows'], 'row')} over max_length {limit:,}, "
                        f"{metrics['untrainable_rows']:,} with no trainable token")
        return self.result(findings, summary=summary, metrics=metrics, excluded=excluded)


def _split_metrics(counts, epochs: int) -> dict:
    import numpy as np

    counted_rows = counts[counts[:, 0] >= 0]
    prompt, total = counted_rows[:, 0], counted_rows[:, 1]
    out = {"examples": int(len(counted_rows))}
    for name, values in (("prompt", prompt), ("response", total - prompt), ("total", total)):
        if len(values):
            p50, p95 = (int(v) for v in np.percentile(values, [50, 95], method="higher"))
            out[name] = {"p50": p50, "p95": p95, "max": int(values.max())}
        else:
            out[name] = {"p50": 0, "p95": 0, "max": 0}
    out["total_tokens"] = int(total.sum())
    out["tokens_x_epochs"] = int(total.sum()) * epochs
    return out


def _histogram(totals) -> dict:
    import numpy as np

    totals = totals[totals >= 0]
    index = np.searchsorted(np.array(TOKEN_BINS), totals, side="right") - 1
    counts = np.bincount(index, minlength=len(TOKEN_BINS)).tolist() if len(totals) else [0] * len(TOKEN_BINS)
    return {"bins": list(TOKEN_BINS), "counts": counts, "unit": "tokens"}
