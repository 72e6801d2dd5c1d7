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
