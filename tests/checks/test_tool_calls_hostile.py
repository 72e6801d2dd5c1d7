"""tool-calls on hostile declarations: a row's schema never reaches out, hangs or knocks out the check."""

import http.server
import json
import re
import threading
import time

import pytest

from auditor.testing import run_check
from dataset_auditor_checks.tool_calls import ToolCalls


def row(parameters, arguments):
    return {"tools": [{"type": "function", "function": {"name": "f", "parameters": parameters}}],
            "messages": [{"role": "user", "content": "go"},
                         {"role": "assistant", "content": None, "tool_calls": [
                             {"id": "c1", "type": "function", "function": {"name": "f", "arguments": json.dumps(arguments)}}]}]}


GOOD = row({"type": "object", "properties": {"n": {"type": "integer"}}}, {"n": "one"})  # a real violation


@pytest.fixture
def listener():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            hits.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002 (the stdlib's name)
            hits.append(f"logged: {self.path}")  # kept out of the test's output; any request is a hit

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_references_to_urls_and_files_are_never_followed(listener, tmp_path):
    url, hits = listener
    secret = tmp_path / "secret.json"
    secret.write_text('{"type": "string", "description": "TOP-SECRET-VALUE"}')
    rows = [row({"type": "object", "properties": {"n": {"$ref": f"{url}/remote.json"}}}, {"n": 5}),
            row({"type": "object", "properties": {"n": {"$ref": secret.as_uri()}}}, {"n": 5}),
            GOOD]
    result = run_check(ToolCalls, rows)
    assert hits == []  # nothing was fetched
    assert all("TOP-SECRET" not in f.message and "TOP-SECRET" not in json.dumps(dict(f.data)) for f in result.findings)
    got = [(f.location.line, f.code) for f in result.findings]
    assert got == [(1, "TOOL005"), (2, "TOOL005"), (3, "TOOL003")]  # the third row is still checked
    assert "does not resolve inside it" in result.findings[0].message
    assert result.status.value == "fail" and result.excluded == frozenset({0, 1, 2})


def test_missing_and_endless_references_are_the_rows_finding():
    rows = [row({"$ref": "#/$defs/missing"}, {"n": 1}),
            row({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, {"n": 1}),
            GOOD]
    result = run_check(ToolCalls, rows)
    assert [(f.location.line, f.code) for f in result.findings] == [(1, "TOOL005"), (2, "TOOL005"), (3, "TOOL003")]
    assert result.findings[1].message.endswith("its references loop without end")


def test_a_catastrophic_pattern_runs_in_linear_time():
    evil = row({"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
                "patternProperties": {"^(b+)+$": {"type": "integer"}}}, {"s": "a" * 34 + "!", "b" * 40 + "!": "x"})
    start = time.perf_counter()
    result = run_check(ToolCalls, [evil, GOOD])
    assert time.perf_counter() - start < 5
    [first, second] = result.findings
    assert first.code == "TOOL003" and first.data["violations"][0]["keyword"] == "pattern"
    assert second.location.line == 2
    ok = row({"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}, {"s": "aaa"})
    assert run_check(ToolCalls, [ok]).findings == []


def test_a_user_schema_reference_outside_it_is_a_config_error_not_a_fetch(listener):
    from auditor import ConfigError
    from auditor.testing import make_context
    from dataset_auditor_checks.output_schema import OutputSchema

    url, hits = listener
    schema = {"type": "object", "properties": {"a": {"$ref": f"{url}/remote.json"}}}
    ctx = make_context([{"prompt": f"p{i}", "completion": json.dumps({"a": i})} for i in range(3)], schema=schema)
    with pytest.raises(ConfigError, match="does not resolve inside it"):
        OutputSchema(OutputSchema.make_options({})).run(ctx)
    assert hits == []


def test_the_reason_a_schema_is_invalid_does_not_depend_on_the_hash_seed(tmp_path):
    # several equally relevant errors (BFCL's "float" and "dict" types): the one named must not change
    import os
    import subprocess
    import sys

    from auditor.testing import write_jsonl

    parameters = {"type": "object", "properties": {name: {"type": "float"} for name in "abcdefgh"}}
    path = write_jsonl(tmp_path / "t.jsonl", [row(parameters, {"a": 1.5}) for _ in range(3)])
    reports = set()
    for seed in ("1", "2", "3", "4"):
        out = tmp_path / f"r{seed}.json"
        subprocess.run([sys.executable, "-m", "auditor", "audit", str(path), "--select", "tool-calls", "--no-cache",
                        "-q", "--report", "json", "--output", str(out)], check=False,
                       env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True)
        reports.add(out.read_bytes())
    assert len(reports) == 1
    findings = json.loads(reports.pop())["results"][1]["findings"]
    assert [f["code"] for f in findings] == ["TOOL005"]
    assert re.search(r"/properties/[a-h]/type: 'float' is not valid under any of the given schemas",
                     findings[0]["message"])
