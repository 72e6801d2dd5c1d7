"""Dataset text printed anywhere (terminal summary, hook lines, Markdown, errors) is escaped for its
medium: no escape sequence, bidi override or line break from a row reaches the reader raw."""


import pytest

from auditor.cli import main
from auditor.render.visible import visible
from auditor.testing import write_jsonl

ESC = "\x1b]0;pwned\x07\x1b[2J"  # set the window title, clear the screen
WORKFLOW = "\n::error file=README.md,line=1::owned"  # a GitHub Actions command on a line of its own
BIDI = "\u202eevil\u202c"


def hostile_rows():
    rows = [{"messages": [{"role": "user", "content": f"question {i}"},
                          {"role": "assistant", "content": f"answer {i}"}]} for i in range(6)]
    rows[1] = rows[1] | {ESC + "key": 1, WORKFLOW: 2}  # unknown keys are named in a warning
    rows[2] = {"messages": [{"role": "user" + ESC, "content": "hi"}, {"role": "assistant", "content": "ok"}]}
    rows[3] = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok",
                                                                 "weight": BIDI}]}
    rows[4] = {"tools": [{"type": "function", "function": {"name": "f" + ESC, "parameters": {"type": "object"}}}],
               "messages": [{"role": "user", "content": "go"},
                            {"role": "assistant", "content": None, "tool_calls": [
                                {"id": "c" + WORKFLOW, "type": "function",
                                 "function": {"name": "g" + ESC, "arguments": "{}"}}]}]}
    return rows


def test_visible_escapes_what_would_act_and_keeps_what_reads():
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("x\n::error::y") == "x\\n::error::y"
    assert visible("abc\u202edef") == "abc\\u202edef"
    assert visible("caf\u00e9 \u00a0 नमस्ते 👩\u200d💻") == "caf\u00e9 \u00a0 नमस्ते 👩\u200d💻"


@pytest.mark.parametrize("flags", [[], ["--hook"], ["--report", "markdown", "--output", "-"]],
                         ids=["summary", "hook", "markdown"])
def test_no_row_reaches_the_terminal_raw(tmp_path, monkeypatch, capsys, flags):
    monkeypatch.chdir(tmp_path)
    name = "data" + ESC + ".jsonl"
    write_jsonl(tmp_path / name, hostile_rows())
    with pytest.raises(SystemExit):
        main(["audit", name, "--no-cache", *flags])
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
        assert not any(line.startswith("::") for line in stream.splitlines())
    assert "\\x1b" in captured.out  # the text is shown, escaped, not dropped


def test_an_error_naming_a_hostile_file_is_one_escaped_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "missing" + ESC + "\n.jsonl", "--no-cache"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "\x1b" not in err and len(err.strip().splitlines()) == 1
