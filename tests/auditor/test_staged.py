"""auditor.staged reads the lines a staged change adds from git's own diff."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from auditor.staged import _parse, added_lines


def test_a_unified_diff_gives_the_staged_numbers_of_added_and_changed_lines(tmp_path):
    patch = (b"diff --git a/d/t.jsonl b/d/t.jsonl\n--- a/d/t.jsonl\n+++ b/d/t.jsonl\n"
             b"@@ -2 +2 @@\n-old\n+new\n@@ -9,0 +10,3 @@\n++++ b/looks like a header\n+b\n+c\n"
             b"diff --git a/gone.jsonl b/gone.jsonl\n--- a/gone.jsonl\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x\n-y\n"
             b"diff --git a/z.gz b/z.gz\nBinary files a/z.gz and b/z.gz differ\n")
    root = str(tmp_path)
    assert _parse(patch, root) == {os.path.realpath(os.path.join(root, "d/t.jsonl")): {2, 10, 11, 12}}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_added_lines_of_a_real_repository_and_none_outside_one(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True,
                       env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)})

    monkeypatch.chdir(tmp_path)
    assert added_lines(["a.jsonl"]) is None  # not a work tree
    git("init", "-q")
    (tmp_path / "a.jsonl").write_text("1\n2\n3\n")
    (tmp_path / "other.jsonl").write_text("x\n")
    git("add", "a.jsonl", "other.jsonl")
    assert added_lines(["a.jsonl"]) == {str(tmp_path.resolve() / "a.jsonl"): {1, 2, 3}}  # a new file: every line
    git("-c", "user.email=a@b.c", "-c", "user.name=n", "commit", "-qm", "one")
    (tmp_path / "a.jsonl").write_text("1\ntwo\n3\n4\n")
    assert added_lines(["a.jsonl"]) == {}  # not staged yet
    git("add", "a.jsonl")
    assert added_lines(["a.jsonl", "other.jsonl"]) == {str(tmp_path.resolve() / "a.jsonl"): {2, 4}}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_hook_run_between_two_refs_reads_what_the_later_one_adds(tmp_path, monkeypatch):
    def git(*args):
        return subprocess.run(["git", "-c", "user.email=a@b.c", "-c", "user.name=n", *args], cwd=tmp_path,
                              check=True, capture_output=True, text=True,
                              env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}).stdout.strip()

    monkeypatch.chdir(tmp_path)
    git("init", "-q")
    (tmp_path / "a.jsonl").write_text("1\n2\n3\n")
    git("add", "a.jsonl")
    git("commit", "-qm", "one")
    base = git("rev-parse", "HEAD")
    (tmp_path / "a.jsonl").write_text("0\n1\n2\n3\n4\n")
    git("commit", "-qam", "two")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    assert added_lines(["a.jsonl"]) == {str(tmp_path.resolve() / "a.jsonl"): {1, 5}}
