"""Convert the real public datasets in shared/data into JSONL files the auditor reads, and audit them.

    python benchmarks/real_sets.py                       # convert everything into a temporary directory
    python benchmarks/real_sets.py --out /tmp/real --audit
    python benchmarks/real_sets.py --only gsm8k,mgsm --audit
    python benchmarks/real_sets.py --data /elsewhere/shared/data --out /tmp/real

From another benchmark script:

    sys.path.insert(0, str(Path(__file__).parent))
    import real_sets
    sets = real_sets.convert(real_sets.data_dir(), out_dir)      # {name: RealSet}
    subprocess.run([auditor, "audit", *sets["gsm8k"].audit_args(), ...])
    truth = real_sets.mgsm_truth(out_dir)                         # language code of every mgsm.jsonl line

The source files are described in shared/data/SOURCES.md (format and known quirks of each). The data
directory defaults to ../shared/data next to the project root (`DEFAULT_DATA`); the environment
variable AUDITOR_REAL_DATA or `--data` overrides it. Nothing is copied into the project: the JSONL
files go to `--out` (default: a new temporary directory, printed at the end), one folder per set.
Conversion is stdlib only and deterministic (same bytes every run): upstream order is kept, one
`json.dumps(ensure_ascii=False)` object per line, "\\n" line endings. A set whose source files are
absent is skipped silently. Text is never cleaned: leading/trailing whitespace, `{{name}}`
placeholders, odd schemas and the like are upstream quirks the auditor is meant to find.

Sets (train -> eval; format; expected languages):
- gsm8k: train.jsonl -> test.jsonl; prompt/completion (question -> worked answer); en.
- banking77: train.csv -> test.csv; text/label (text -> category); en.
- clinc150: train + oos_train -> val + oos_val, test + oos_test (two eval files); text/label; en.
- spider: dev.json (no eval); prompt/completion (question -> SQL); en.
- sql-eval: questions_gen_postgres.csv -> instruct_basic_postgres.csv; prompt/completion; en.
- bfcl: the six answered BFCL v4 categories in one file (simple_python, multiple, parallel,
  parallel_multiple, live_simple, live_multiple; irrelevance has no answers and is skipped); OpenAI
  chat with "tools" (function specs as given, BFCL's "dict"/"float" types untouched) and a final
  assistant "tool_calls" turn built from ground_truth (first accepted value of each argument, ""
  meaning "omit"; nested dict values resolved the same way); "metadata": {"id": BFCL id}; en.
- bfcl-json-schema: the same rows with BFCL's types mapped to JSON Schema (dict -> object, float ->
  number, tuple -> array, "any" dropped), so the declarations are valid and only the data is judged.
- llamafactory-demo / llamafactory-demo-zh: glaive_toolcall_{en,zh}_demo.json as OpenAI chat: the
  JSON-string "tools" parsed and wrapped as {"type": "function", "function": spec} (omitted when
  "[]"), function_call turns -> assistant "tool_calls" (id call_N, arguments re-serialized as a JSON
  string), observation turns -> "tool" messages answering the latest call (no tool_call_id when no
  call precedes them: 2 zh records); en / zh.
- llamafactory-identity: identity.json as Alpaca, placeholders kept; 75 zh + 16 en rows, so zh, en.
- self-instruct: seed_tasks.jsonl -> user_oriented_instructions.jsonl; Alpaca, one row per
  instance; en.
- oasst: en_100_tree.jsonl as OpenAI chat, one row per assistant message holding the path from the
  root prompt to it (ranked sibling replies become rows sharing a prompt; prompter -> user);
  "metadata": {"message_id", "tree_id"}; prompt_lottery_en_250_text.jsonl holds bare prompts only
  and is skipped; en.
- mgsm: all 11 mgsm_{lang}.tsv in one prompt/completion file, languages sorted by code
  (bn de en es fr ja ru sw te th zh), rows in file order; the per-line truth is written next to it
  as mgsm.languages.json and returned by `mgsm_truth(out_dir)` and `RealSet.truth`; expected en,
  so the 2,500 non-English rows should be flagged.  mgsm-en: mgsm_en.tsv alone; en.
- fastchat-sharegpt: dummy_conversation.json as ShareGPT JSONL (records as given); en.
- openai-cookbook: toy_chat_fine_tuning.jsonl copied byte for byte; en.

`--audit` runs `auditor audit <audit_args> -o language.languages=<languages> --no-cache
--max-findings 0 --report json --output OUT/<name>.audit.json` for each set and prints its verdict
and finding counts per code; exit code 2 of the auditor (could not audit) prints its stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MGSM_LANGS = ("bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh")
BFCL_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple")
MGSM_TRUTH = "mgsm.languages.json"


def data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory: `explicit`, else $AUDITOR_REAL_DATA, else DEFAULT_DATA."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("AUDITOR_REAL_DATA")
    return Path(env) if env else DEFAULT_DATA


@dataclass
class RealSet:
    """One converted set: its files, the field mapping it needs (none so far) and its languages."""

    name: str
    train: Path
    evals: list[Path]
    fields: dict[str, str]
    languages: list[str]
    note: str
    rows: dict[str, int] = field(default_factory=dict)  # file name -> lines written
    truth: list[str] | None = None  # mgsm: language code of every line of `train`

    def audit_args(self) -> list[str]:
        """The auditor CLI arguments for this set: train, --eval each, --field each."""
        args = [str(self.train)]
        for path in self.evals:
            args += ["--eval", str(path)]
        for key, value in self.fields.items():
            args += ["--field", f"{key}={value}"]
        return args


# ---------------------------------------------------------------- reading and writing

def _write(path: Path, rows: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False))
            handle.write("\n")
            count += 1
    return count


def _json_lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _csv_rows(path: Path) -> Iterator[dict]:
    # newline="" lets csv handle CRLF records and LF newlines embedded in quoted fields.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _tsv_pairs(path: Path) -> Iterator[tuple[str, str]]:
    # No csv module: the files are unquoted and one Spanish question contains a '"'.
    with open(path, encoding="utf-8", newline="") as handle:
        for line in handle.read().split("\n"):
            line = line.removesuffix("\r")
            if line:
                question, _, answer = line.partition("\t")
                yield question, answer


# ---------------------------------------------------------------- the sets

def _gsm8k(src: Path, out: Path) -> RealSet | None:
    train, test = src / "gsm8k" / "train.jsonl", src / "gsm8k" / "test.jsonl"
    if not (train.is_file() and test.is_file()):
        return None
    rows = {}
    for source, name in ((train, "train.jsonl"), (test, "test.jsonl")):
        rows[name] = _write(out / name, ({"prompt": r["question"], "completion": r["answer"]}
                                         for r in _json_lines(source)))
    return RealSet("gsm8k", out / "train.jsonl", [out / "test.jsonl"], {}, ["en"],
                   "GSM8K math word problems: question -> worked answer ending '#### N'", rows)


def _banking77(src: Path, out: Path) -> RealSet | None:
    train, test = src / "banking77" / "train.csv", src / "banking77" / "test.csv"
    if not (train.is_file() and test.is_file()):
        return None
    rows = {}
    for source, name in ((train, "train.jsonl"), (test, "test.jsonl")):
        rows[name] = _write(out / name, ({"text": r["text"], "label": r["category"]} for r in _csv_rows(source)))
    return RealSet("banking77", out / "train.jsonl", [out / "test.jsonl"], {}, ["en"],
                   "BANKING77 intents; texts kept unstripped (whitespace-only duplicates and leaks)", rows)


def _clinc150(src: Path, out: Path) -> RealSet | None:
    path = src / "clinc150" / "data_full.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = {}
    for name, keys in (("train.jsonl", ("train", "oos_train")), ("val.jsonl", ("val", "oos_val")),
                       ("test.jsonl", ("test", "oos_test"))):
        rows[name] = _write(out / name, ({"text": text, "label": label}
                                         for key in keys for text, label in data.get(key, [])))
    return RealSet("clinc150", out / "train.jsonl", [out / "val.jsonl", out / "test.jsonl"], {}, ["en"],
                   "CLINC150 150 intents + oos; eval files val(+oos_val) and test(+oos_test)", rows)


def _spider(src: Path, out: Path) -> RealSet | None:
    path = src / "spider" / "dev.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = {"dev.jsonl": _write(out / "dev.jsonl", ({"prompt": r["question"], "completion": r["query"]}
                                                    for r in data))}
    return RealSet("spider", out / "dev.jsonl", [], {}, ["en"],
                   "Spider dev text-to-SQL; same SQL for paraphrased questions (not contradictions)", rows)


def _sql_eval(src: Path, out: Path) -> RealSet | None:
    gen, basic = src / "sql-eval" / "questions_gen_postgres.csv", src / "sql-eval" / "instruct_basic_postgres.csv"
    if not gen.is_file():
        return None
    rows = {"questions_gen_postgres.jsonl": _write(
        out / "questions_gen_postgres.jsonl",
        ({"prompt": r["question"], "completion": r["query"]} for r in _csv_rows(gen)))}
    evals = []
    if basic.is_file():
        with open(basic, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        if {"question", "query"} <= set(header):
            rows["instruct_basic_postgres.jsonl"] = _write(
                out / "instruct_basic_postgres.jsonl",
                ({"prompt": r["question"], "completion": r["query"]} for r in _csv_rows(basic)))
            evals.append(out / "instruct_basic_postgres.jsonl")
    return RealSet("sql-eval", out / "questions_gen_postgres.jsonl", evals, {}, ["en"],
                   "defog sql-eval Postgres; gold SQL uses the non-SQL {a,b} alternative syntax", rows)


_OMIT = object()


def _pick(accepted):
    """The first accepted value of a BFCL ground-truth list ("" = the argument may be omitted)."""
    if not isinstance(accepted, list):
        return _resolve(accepted)  # a raw value (inside a value already chosen)
    if not accepted or accepted[0] == "":
        return _OMIT
    return _resolve(accepted[0])


def _resolve(value):
    """A chosen value: dicts (and dicts in lists) hold accepted-value lists again, as BFCL's checker reads them."""
    if isinstance(value, dict):
        picked = {key: _pick(inner) for key, inner in value.items()}
        return {key: inner for key, inner in picked.items() if inner is not _OMIT}
    if isinstance(value, list):
        return [_resolve(item) if isinstance(item, dict) else item for item in value]
    return value


_BFCL_TYPES = {"dict": "object", "float": "number", "tuple": "array", "list": "array", "str": "string",
               "int": "integer", "bool": "boolean"}


def _json_schema(value):
    """BFCL's Python-flavoured types as JSON Schema ("dict" is "object", "float" "number", "tuple"
    "array"; "any" is no type at all), everywhere in a parameters object."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if key == "type" and isinstance(inner, str):
                if inner == "any":
                    continue
                out[key] = _BFCL_TYPES.get(inner, inner)
            else:
                out[key] = _json_schema(inner)
        return out
    if isinstance(value, list):
        return [_json_schema(item) for item in value]
    return value


def _bfcl_row(question: dict, answer: dict, mapped: bool = False) -> dict:
    messages = [dict(m) for turn in question["question"] for m in turn]
    calls = []
    for index, call in enumerate(answer["ground_truth"]):
        for name, args in call.items():
            arguments = {key: value for key, value in ((k, _pick(v)) for k, v in args.items()) if value is not _OMIT}
            calls.append({"id": f"call_{index}", "type": "function",
                          "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}})
    messages.append({"role": "assistant", "content": None, "tool_calls": calls})
    specs = [_json_schema(spec) if mapped else spec for spec in question["function"]]
    tools = [{"type": "function", "function": spec} for spec in specs]
    return {"messages": messages, "tools": tools, "metadata": {"id": question["id"]}}


def _bfcl(src: Path, out: Path, mapped: bool = False) -> RealSet | None:
    def rows() -> Iterator[dict]:
        for category in BFCL_CATEGORIES:
            questions = src / "bfcl" / f"BFCL_v4_{category}.json"
            answers = src / "bfcl" / "possible_answer" / f"BFCL_v4_{category}.json"
            if not (questions.is_file() and answers.is_file()):
                continue
            by_id = {a["id"]: a for a in _json_lines(answers)}
            for question in _json_lines(questions):
                if question["id"] in by_id:
                    yield _bfcl_row(question, by_id[question["id"]], mapped)

    if not any((src / "bfcl" / "possible_answer" / f"BFCL_v4_{c}.json").is_file() for c in BFCL_CATEGORIES):
        return None
    counts = {"bfcl.jsonl": _write(out / "bfcl.jsonl", rows())}
    if mapped:
        return RealSet("bfcl-json-schema", out / "bfcl.jsonl", [], {}, ["en"],
                       "BFCL v4 as above, its types mapped to JSON Schema (dict -> object, float -> number, ...)",
                       counts)
    return RealSet("bfcl", out / "bfcl.jsonl", [], {}, ["en"],
                   "BFCL v4 answered categories; parameters use BFCL types (dict, float, tuple, any)", counts)


def _glaive_row(record: dict) -> dict:
    tools = json.loads(record["tools"]) if isinstance(record.get("tools"), str) else record.get("tools") or []
    messages: list[dict] = []
    last_call: str | None = None
    calls = 0
    for turn in record["conversations"]:
        role, value = turn["from"], turn["value"]
        if role == "function_call":
            call = json.loads(value)
            arguments = call.get("arguments", {})
            last_call = f"call_{calls}"
            calls += 1
            messages.append({"role": "assistant", "content": None, "tool_calls": [{
                "id": last_call, "type": "function",
                "function": {"name": call.get("name"),
                             "arguments": arguments if isinstance(arguments, str)
                             else json.dumps(arguments, ensure_ascii=False)}}]})
        elif role == "observation":
            message = {"role": "tool", "content": value}
            if last_call is not None:
                message["tool_call_id"] = last_call
            last_call = None
            messages.append(message)
        else:
            messages.append({"role": {"human": "user", "gpt": "assistant"}.get(role, role), "content": value})
    row: dict = {"messages": messages}
    if tools:
        row["tools"] = [{"type": "function", "function": spec} for spec in tools]
    return row


def _llamafactory(src: Path, out: Path) -> list[RealSet]:
    sets = []
    for lang, name in (("en", "llamafactory-demo"), ("zh", "llamafactory-demo-zh")):
        path = src / "llamafactory-demo" / f"glaive_toolcall_{lang}_demo.json"
        if path.is_file():
            target = out / name / f"glaive_toolcall_{lang}_demo.jsonl"
            rows = {target.name: _write(target, map(_glaive_row, json.loads(path.read_text(encoding="utf-8"))))}
            sets.append(RealSet(name, target, [], {}, [lang],
                                f"glaive function calling ({lang}) as OpenAI chat with tools and tool_calls", rows))
    path = src / "llamafactory-demo" / "identity.json"
    if path.is_file():
        target = out / "llamafactory-identity" / "identity.jsonl"
        rows = {target.name: _write(target, json.loads(path.read_text(encoding="utf-8")))}
        sets.append(RealSet("llamafactory-identity", target, [], {}, ["zh", "en"],
                            "identity Q&A (Alpaca), 75 zh + 16 en, {{name}}/{{author}} placeholders kept", rows))
    return sets


def _self_instruct(src: Path, out: Path) -> RealSet | None:
    seed, user = src / "self-instruct" / "seed_tasks.jsonl", src / "self-instruct" / "user_oriented_instructions.jsonl"
    if not seed.is_file():
        return None

    def alpaca(path: Path) -> Iterator[dict]:
        for task in _json_lines(path):
            for instance in task.get("instances", []):
                yield {"instruction": task["instruction"], "input": instance.get("input", ""),
                       "output": instance.get("output", "")}

    rows = {"seed_tasks.jsonl": _write(out / "seed_tasks.jsonl", alpaca(seed))}
    evals = []
    if user.is_file():
        rows["user_oriented_instructions.jsonl"] = _write(out / "user_oriented_instructions.jsonl", alpaca(user))
        evals.append(out / "user_oriented_instructions.jsonl")
    return RealSet("self-instruct", out / "seed_tasks.jsonl", evals, {}, ["en"],
                   "Self-Instruct seed tasks (train) and user-oriented instructions (eval), Alpaca", rows)


def _oasst_rows(message: dict, path: list[dict], tree_id: str) -> Iterator[dict]:
    """Depth-first, replies in upstream order: a row at every assistant message, with its root path."""
    role = "user" if message["role"] == "prompter" else message["role"]
    path = [*path, {"role": role, "content": message["text"]}]
    if role == "assistant":
        yield {"messages": path, "metadata": {"message_id": message["message_id"], "tree_id": tree_id}}
    for reply in message.get("replies") or []:
        yield from _oasst_rows(reply, path, tree_id)


def _oasst(src: Path, out: Path) -> RealSet | None:
    path = src / "oasst-sample" / "en_100_tree.jsonl"
    if not path.is_file():
        return None

    def rows() -> Iterator[dict]:
        for tree in _json_lines(path):
            yield from _oasst_rows(tree["prompt"], [], tree["message_tree_id"])

    counts = {"en_100_tree.jsonl": _write(out / "en_100_tree.jsonl", rows())}
    return RealSet("oasst", out / "en_100_tree.jsonl", [], {}, ["en"],
                   "OASST trees: one row per assistant message, root-to-message path; lottery prompts skipped",
                   counts)


def _mgsm(src: Path, out: Path) -> list[RealSet]:
    files = {lang: src / "mgsm" / f"mgsm_{lang}.tsv" for lang in MGSM_LANGS}
    present = [lang for lang in MGSM_LANGS if files[lang].is_file()]
    if not present:
        return []
    truth: list[str] = []

    def mixed() -> Iterator[dict]:
        for lang in present:
            for question, answer in _tsv_pairs(files[lang]):
                truth.append(lang)
                yield {"prompt": question, "completion": answer}

    target = out / "mgsm" / "mgsm.jsonl"
    rows = {target.name: _write(target, mixed())}
    (target.parent / MGSM_TRUTH).write_text(json.dumps(truth) + "\n", encoding="utf-8", newline="\n")
    sets = [RealSet("mgsm", target, [], {}, ["en"],
                    f"MGSM {len(present)} languages mixed (sorted by code); truth in {MGSM_TRUTH}", rows, truth)]
    if "en" in present:
        target = out / "mgsm-en" / "mgsm_en.jsonl"
        rows = {target.name: _write(target, ({"prompt": q, "completion": a} for q, a in _tsv_pairs(files["en"])))}
        sets.append(RealSet("mgsm-en", target, [], {}, ["en"],
                            "MGSM English alone (all 250 questions are in gsm8k test)", rows))
    return sets


def mgsm_truth(out_dir: Path) -> list[str]:
    """The language code of every line of OUT/mgsm/mgsm.jsonl, as written by `convert`."""
    return json.loads((Path(out_dir) / "mgsm" / MGSM_TRUTH).read_text(encoding="utf-8"))


def _fastchat(src: Path, out: Path) -> RealSet | None:
    path = src / "fastchat-sharegpt" / "dummy_conversation.json"
    if not path.is_file():
        return None
    rows = {"dummy_conversation.jsonl": _write(out / "dummy_conversation.jsonl",
                                               json.loads(path.read_text(encoding="utf-8")))}
    return RealSet("fastchat-sharegpt", out / "dummy_conversation.jsonl", [], {}, ["en"],
                   "FastChat templated identity conversations (ShareGPT)", rows)


def _cookbook(src: Path, out: Path) -> RealSet | None:
    path = src / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"
    if not path.is_file():
        return None
    out.mkdir(parents=True, exist_ok=True)
    target = out / path.name
    shutil.copyfile(path, target)
    data = target.read_bytes()
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return RealSet("openai-cookbook", target, [], {}, ["en"],
                   "cookbook's deliberately flawed toy chat file, copied as is", {target.name: lines})


# Converters of one set (writing into OUT/<name>) and of several sets (writing OUT/<each name>).
_SINGLE: dict[str, Callable[[Path, Path], RealSet | None]] = {
    "gsm8k": _gsm8k, "banking77": _banking77, "clinc150": _clinc150, "spider": _spider, "sql-eval": _sql_eval,
    "bfcl": _bfcl, "bfcl-json-schema": lambda src, out: _bfcl(src, out, mapped=True), "self-instruct": _self_instruct, "oasst": _oasst, "fastchat-sharegpt": _fastchat,
    "openai-cookbook": _cookbook,
}
_MULTI: dict[tuple[str, ...], Callable[[Path, Path], list[RealSet]]] = {
    ("llamafactory-demo", "llamafactory-demo-zh", "llamafactory-identity"): _llamafactory,
    ("mgsm", "mgsm-en"): _mgsm,
}
ORDER = ("gsm8k", "mgsm", "mgsm-en", "banking77", "clinc150", "spider", "sql-eval", "bfcl", "bfcl-json-schema",
         "llamafactory-demo",
         "llamafactory-demo-zh", "llamafactory-identity", "self-instruct", "oasst", "fastchat-sharegpt",
         "openai-cookbook")
NAMES = ORDER


def convert(data_dir: Path, out_dir: Path, only: Iterable[str] | None = None) -> dict[str, RealSet]:
    """Write every present set (or those in `only`) as JSONL under out_dir/<name>/; absent sources are skipped."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    wanted = set(only) if only else set(ORDER)
    unknown = wanted - set(ORDER)
    if unknown:
        raise ValueError(f"unknown set(s): {', '.join(sorted(unknown))} (choose from {', '.join(ORDER)})")
    found: dict[str, RealSet] = {}
    for name, converter in _SINGLE.items():
        if name in wanted:
            result = converter(data_dir, out_dir / name)
            if result is not None:
                found[name] = result
    for names, converter in _MULTI.items():
        if wanted & set(names):
            for result in converter(data_dir, out_dir):
                if result.name in wanted:
                    found[result.name] = result
    return {name: found[name] for name in ORDER if name in found}


# ---------------------------------------------------------------- auditing

def auditor_command() -> list[str]:
    script = Path(sys.executable).with_name("auditor")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "auditor"]


def audit(real: RealSet, report: Path, extra: Iterable[str] = ()) -> tuple[int, dict | None, str, float]:
    """Run the auditor on one set: (exit code, parsed JSON report or None, stderr, seconds)."""
    command = [*auditor_command(), "audit", *real.audit_args(), "-o", f"language.languages={','.join(real.languages)}",
               "--no-cache", "--max-findings", "0", "--no-progress", "-q", "--report", "json",
               "--output", str(report), *extra]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=report.parent)
    seconds = time.perf_counter() - start
    parsed = json.loads(report.read_text(encoding="utf-8")) if done.returncode in (0, 1) and report.is_file() else None
    return done.returncode, parsed, done.stderr, seconds


def finding_counts(report: dict) -> Counter:
    """Findings per code over every check of a JSON report."""
    return Counter(f["code"] for result in report["results"] for f in result["findings"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", help="shared data directory (default: $AUDITOR_REAL_DATA or ../shared/data)")
    parser.add_argument("--out", help="output directory (default: a new temporary directory)")
    parser.add_argument("--audit", action="store_true", help="audit every converted set")
    parser.add_argument("--only", help="comma-separated set names: " + ",".join(ORDER))
    args = parser.parse_args(argv)
    src = data_dir(args.data)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="real_sets_"))
    only = [name.strip() for name in args.only.split(",") if name.strip()] if args.only else None
    try:
        sets = convert(src, out, only)
    except ValueError as exc:
        parser.error(str(exc))
    if not sets:
        print(f"no data sets found under {src}", file=sys.stderr)
    for real in sets.values():
        files = ", ".join(f"{name} {count:,}" for name, count in real.rows.items())
        print(f"{real.name:22} {files}")
    status = 0
    if args.audit:
        for real in sets.values():
            code, report, stderr, seconds = audit(real, out / f"{real.name}.audit.json")
            if report is None:
                status = 2
                print(f"{real.name:22} auditor exit {code} ({seconds:.1f} s)\n{stderr.rstrip()}")
                continue
            verdict = report["verdict"]
            counts = finding_counts(report)
            shown = " ".join(f"{c}={n}" for c, n in sorted(counts.items())) or "no findings"
            print(f"{real.name:22} {verdict['status']:19} clean {verdict['clean_examples']:,}/"
                  f"{verdict['valid_examples']:,} ({seconds:.1f} s): {shown}")
            for result in report["results"]:
                if result.get("error"):
                    status = 1
                    print(f"{'':22} {result['check']} failed: {result['error']}")
    print(f"output: {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
