"""Token counting of chat rows with a real-size BPE tokenizer: cold, and served from the cache.

    python benchmarks/bench_tokens.py --rows 100000
    python benchmarks/bench_tokens.py --rows 100000 --tokenizer o200k_base   # the openai-tokens extra

Writes N seeded chat rows (a system prompt, a user turn of 20-120 words, an answer of 10-80), trains a
byte-level BPE tokenizer of 32,000 tokens on them (the size of Llama 2's vocabulary; nothing is
downloaded), gives it a ChatML chat template, and times `auditor audit FILE --select tokens
--tokenizer MODEL --max-length 2048` in a fresh process: cold (--no-cache), then twice with a cache
(the first run fills it; the second is served whole), then after one appended row (one block counted
again, the rest served by block), beside reading the file alone (`--select count`). Prints wall
seconds, peak RSS and the machine's load. `--tokenizer o200k_base` (or cl100k_base) counts in OpenAI's
encoding instead of a trained one (200,000 tokens; chat records counted as OpenAI bills them).

`--floor` also times the `tokenizers` library alone on the same rendered texts, in this process and on
every core (`encode_batch`), once with the trained BPE and once with its model swapped for a word-level
lookup that keeps the byte-level pre-tokenizer: the second figure is what pre-tokenization alone costs,
a floor no caller of the library can go below.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _child import timed  # beside this script

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def write_rows(path: Path, rows: int) -> None:
    import random

    rng = random.Random(1)
    words = [w for w in open(__file__).read().split() if w.isalpha()] * 3
    with open(path, "w") as out:
        for i in range(rows):
            user = " ".join(rng.choice(words) for _ in range(rng.randint(20, 120)))
            answer = " ".join(rng.choice(words) for _ in range(rng.randint(10, 80)))
            out.write(json.dumps({"messages": [
                {"role": "system", "content": "You are a helpful support assistant."},
                {"role": "user", "content": f"Ticket {i}: {user}"},
                {"role": "assistant", "content": answer}]}) + "\n")


def train_tokenizer(data: Path, folder: Path, vocab: int) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    def texts():
        with open(data) as handle:
            for line in handle:
                for message in json.loads(line)["messages"]:
                    yield message["content"]

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts(), trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHATML, "eos_token": "<|im_end|>"}))


def library_floor(data: Path, folder: Path) -> None:
    import time

    from tokenizers import Tokenizer, models

    texts = []
    with open(data) as handle:
        for line in handle:
            texts.append("".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
                                 for m in json.loads(line)["messages"]))
    characters = sum(map(len, texts))
    tokenizer = Tokenizer.from_file(str(folder / "model" / "tokenizer.json"))
    lookup = Tokenizer.from_file(str(folder / "model" / "tokenizer.json"))
    lookup.model = models.WordLevel(tokenizer.get_vocab(), unk_token="<|im_end|>")
    for name, encoder in (("encode_batch, trained BPE", tokenizer),
                          ("encode_batch, pre-tokenizer only", lookup)):
        wall, cpu = time.perf_counter(), time.process_time()
        encoder.encode_batch(texts, add_special_tokens=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"  {name:34} {wall:6.2f} s  {cpu:6.2f} CPU-s  {characters / cpu / 1e6:4.1f}M characters"
              f" per CPU-s  load {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--vocab", type=int, default=32_000)
    parser.add_argument("--tokenizer", default="trained", choices=("trained", "o200k_base", "cl100k_base"))
    parser.add_argument("--floor", action="store_true", help="also time the tokenizers library alone")
    args = parser.parse_args()
    auditor = str(Path(sys.executable).with_name("auditor"))
    with tempfile.TemporaryDirectory(prefix="bench_tokens_") as tmp:
        folder = Path(tmp)
        data = folder / "chat.jsonl"
        write_rows(data, args.rows)
        if args.tokenizer == "trained":
            train_tokenizer(data, folder / "model", args.vocab)
        tokenizer = str(folder / "model") if args.tokenizer == "trained" else args.tokenizer
        base = [auditor, "audit", str(data), "--select", "tokens", "--tokenizer", tokenizer,
                "--max-length", "2048", "-q", "--report", "json", "--output", str(folder / "r.json")]
        cache = ["--cache-dir", str(folder / "cache")]
        kind = f"a {args.vocab:,}-token byte-level BPE" if args.tokenizer == "trained" else args.tokenizer
        print(f"{args.rows:,} chat rows, {kind}; load {os.getloadavg()[0]:.2f}")
        wall, peak = timed([auditor, "audit", str(data), "--select", "count", "-q", "--no-cache"])
        print(f"  {'reading alone (--select count)':34} {wall:6.2f} s  peak {peak:6,} MiB")
        for name, command in (("cold (--no-cache)", base + ["--no-cache"]), ("first run, filling the cache", base + cache),
                              ("unchanged, from the cache", base + cache)):
            wall, peak = timed(command)
            metrics = json.loads((folder / "r.json").read_text())["results"][-1]["metrics"]["train"]
            print(f"  {name:34} {wall:6.2f} s  peak {peak:6,} MiB  "
                  f"{metrics['total_tokens']:,} tokens, p95 {metrics['total']['p95']:,}  load {os.getloadavg()[0]:.2f}")
        with open(data, "a") as out:
            out.write(json.dumps({"messages": [{"role": "user", "content": "one more"},
                                               {"role": "assistant", "content": "row"}]}) + "\n")
        wall, peak = timed(base + cache)
        print(f"  {'one row appended, from the cache':34} {wall:6.2f} s  peak {peak:6,} MiB  "
              f"load {os.getloadavg()[0]:.2f}")
        if args.floor and args.tokenizer == "trained":
            library_floor(data, folder)


if __name__ == "__main__":
    main()
