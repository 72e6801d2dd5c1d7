import json

import pytest

from auditor.testing import write_jsonl


def chat(user: str, answer: str, system: str = "You are a helpful support triage assistant.") -> dict:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                         {"role": "assistant", "content": answer}]}


def distinct_chats(n: int, start: int = 0) -> list[dict]:
    """n chat records that share nothing but the system prompt."""
    return [chat(f"ticket {i} about order {i * 7919} and item {i * 104729}",
                 json.dumps({"category": "billing", "id": i})) for i in range(start, start + n)]


@pytest.fixture
def make_files(tmp_path):
    def make(train, eval=None):
        paths = [str(write_jsonl(tmp_path / "train.jsonl", train))]
        if eval is not None:
            paths.append(str(write_jsonl(tmp_path / "eval.jsonl", eval)))
        return paths
    return make


SAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "sample_data"


def sample_context(settings=None, schema=None):
    """An audit context of sample_data/train.jsonl and eval.jsonl, loaded as the engine loads them."""
    from auditor import AuditContext, Settings
    from auditor.input.dataset import load_dataset

    train = load_dataset(str(SAMPLE / "train.jsonl"), "train")
    evals = load_dataset(str(SAMPLE / "eval.jsonl"), "eval", first_row=train.lines)
    return AuditContext([train, evals], settings or Settings(), schema)


def planted_problems() -> dict:
    """The oracle of sample_data/README.md: every planted problem with its lines."""
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- planted:begin -->", 1)[1].split("<!-- planted:end -->", 1)[0]
    return json.loads(block.split("```json", 1)[1].split("```", 1)[0])


def run_cli(args, capsys):
    """(exit code, stdout, stderr) of `auditor ARGS`, run in this process."""
    from auditor.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def generated_set(tmp_path):
    """Train and eval files with exact copies, near-copies, contradictions, eval leaks and a template of
    more rows than an LSH bucket pairs in full (star and chain pairs)."""
    from auditor.config import AuditConfig

    words = "the parcel left our warehouse on monday and the courier says it will arrive within three days".split()
    train, evals = [], []
    for i in range(300):  # distinct rows
        train.append(chat(f"ticket {i}: order {i * 7919} item {i * 104729} colour {i % 13} size {i % 7}",
                          json.dumps({"category": ["billing", "shipping", "returns"][i % 3], "id": i})))
    for i in range(20):  # exact copies, in another case and spacing
        train.append(chat(f"TICKET {i}:  order {i * 7919} item {i * 104729} colour {i % 13} size {i % 7}",
                          json.dumps({"category": ["billing", "shipping", "returns"][i % 3], "id": i})))
    for i in range(40):  # near-copies: one word of a long text differs
        text = " ".join(words[:-1] + [f"word{i}"])
        train.append(chat(f"{text} and the parcel number is {i // 10}", "We will track it for you."))
    for i in range(230):  # one template, 230 near-identical rows: a bucket above 200 members
        train.append(chat(" ".join(f"step{k}" for k in range(60)) + f" reference code {i}", "Thanks, noted."))
    for i in range(15):  # contradictions: the same prompt with two structured answers
        prompt = f"classify the refund request number {i} for the blue kettle"
        train.append(chat(prompt, json.dumps({"category": "returns"})))
        train.append(chat(prompt, json.dumps({"category": "billing"})))
    for i in range(60):  # eval: distinct rows, exact leaks, near leaks and n-gram leaks
        evals.append(chat(f"eval question {i} about invoice {i * 31337} and account {i * 271}",
                          json.dumps({"category": "billing", "id": i})))
    for i in range(0, 30, 3):
        evals.append(train[i])
        evals.append(chat(f"ticket {i}: order {i * 7919} item {i * 104729} colour {i % 13} size {i % 7} thanks",
                          json.dumps({"category": "billing"})))
    evals.append(chat(" ".join(words * 2) + " please help", "Sure."))
    train_path = write_jsonl(tmp_path / "train.jsonl", train)
    eval_path = write_jsonl(tmp_path / "eval.jsonl", evals)
    return AuditConfig(train=(str(train_path),), eval=(str(eval_path),), min_examples=100, min_eval_examples=10)
