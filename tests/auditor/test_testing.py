"""Tests for auditor.testing, the helpers check authors use."""

import gc
from pathlib import Path

from conftest import chat

from auditor.testing import make_context


def test_make_context_removes_its_temporary_files_with_the_context():
    ctx = make_context([chat("q", "a")], [chat("q2", "a2")])
    folder = Path(ctx.datasets[0].path).parent
    assert sorted(p.name for p in folder.iterdir()) == ["eval.jsonl", "train.jsonl"]
    del ctx
    gc.collect()
    assert not folder.exists()


def test_make_context_keeps_a_given_directory(tmp_path):
    ctx = make_context([chat("q", "a")], directory=tmp_path)
    del ctx
    gc.collect()
    assert (tmp_path / "train.jsonl").exists()
