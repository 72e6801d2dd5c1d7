"""pii: every kind planted in several surface forms is found and masked; look-alikes are not flagged."""

import json

import pytest

from auditor.testing import run_check
from dataset_auditor_checks.pii import Pii


def chat(user, answer="Thanks, noted."):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


PLANTED = [  # (kind, text holding it, the raw value that must never be printed)
    ("email", "Write to jane.doe@gmail.com today", "jane.doe@gmail.com"),
    ("email", "cc: Bob.Smith+billing@corp-mail.co.uk, thanks", "Bob.Smith+billing@corp-mail.co.uk"),
    ("phone", "Call me on (415) 555-2671 after five", "(415) 555-2671"),
    ("phone", "my mobile is +44 7911 123456", "+44 7911 123456"),
    ("phone", "reach us at 212.555.7890", "212.555.7890"),
    ("card", "card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("card", "Amex 3782-822463-10005 please", "3782-822463-10005"),
    ("card", "number 5555555555554444 was declined", "5555555555554444"),
    ("iban", "IBAN DE89 3704 0044 0532 0130 00 for the refund", "DE89 3704 0044 0532 0130 00"),
    ("iban", "send it to GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("ip", "login from 81.2.69.160 was blocked", "81.2.69.160"),
    ("ip", "the host 2a00:1450:4001:81c::200e answered", "2a00:1450:4001:81c::200e"),
    ("ssn", "SSN 123-45-6789 on file", "123-45-6789"),
    ("secret", "my key AKIAIOSFODNN7EXAMPLE stopped working", "AKIAIOSFODNN7EXAMPLE"),
    ("secret", "token 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 in CI", "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"),
    ("secret", "use sk_live_4eC39HqLyjWDarjtT1zdp7dc for payments", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("secret", "curl https://admin:Tr0ub4dor3@api.shop.io/v1", "Tr0ub4dor3"),
    ("secret", 'config: password = "hunter2-is-bad"', "hunter2-is-bad"),
    ("secret", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75\n-----END RSA PRIVATE KEY-----",
     "MIIEpAIBAAKCAQEA75"),
    ("secret", "xoxb-123456789012-1234567890123-abcdefghijabcdefghijabcd is our bot",
     "xoxb-123456789012-1234567890123-abcdefghijabcdefghijabcd"),
]

LOOK_ALIKES = [
    "Order #123456789 shipped on 2024-01-15",
    "ISBN 978-3-16-148410-0, the second edition",
    "It happened on 15/01/2024 at 12:30:45",
    "Upgrade to version 10.0.19041.1 or v1.2.3.4 first",
    "request id 550e8400-e29b-41d4-a716-446655440000",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",
    "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d08c8c1b0a2f3",
    "write to support@example.com or test@mail.test",
    "placeholders: <EMAIL>, [REDACTED], xxx-xxx-xxxx, api_key = <YOUR_API_KEY>",
    "the router is at 192.168.1.1 and 10.0.0.7, loopback ::1",
    "call 555-0123 in the film",
    "the total was 1234 5678 dollars over 3 years",
    "a ratio of 3:2:1 and a time of 10:45",
    "reset your password in settings, then choose a new token",
    # false alarms seen on the real sets: arithmetic, a password tool's JSON reply, placeholder domains
    "the park was left with 30000 - 11520 = <<30000-11520=18480>>18480 elephants",
    '{"password": "a9B7$#fG3&Z1"} is the generated one',
    "send it to john.doe@email.com or bob@company.com",
]


def test_every_planted_kind_is_found_on_its_line_with_a_masked_excerpt_and_no_look_alike_is():
    rows = [chat(text) for _, text, _ in PLANTED] + [chat(text) for text in LOOK_ALIKES]
    result = run_check(Pii, rows)
    found = {(f.location.line, f.data["kind"]) for f in result.findings}
    assert found == {(i + 1, kind) for i, (kind, _, _) in enumerate(PLANTED)}
    for finding in result.findings:
        blob = json.dumps(finding.to_dict())
        value = PLANTED[finding.location.line - 1][2]
        assert value not in blob and value.replace(" ", "") not in blob
    by_line = {f.location.line: f for f in result.findings}
    assert by_line[1].message == "E-mail address in the prompt: j***@gmail.com"
    assert by_line[6].message == "Payment card number in the prompt: **** **** **** 1111"
    assert by_line[14].message == "Credential in the prompt: AWS Access Key: AKIA…"
    assert by_line[1].data["span"] == [9, 27] and by_line[1].data["field"] == "prompt" and by_line[1].data["turn"] == 0
    assert by_line[14].code == "PII002" and by_line[14].severity.value == "error"
    assert by_line[1].code == "PII001" and by_line[1].severity.value == "warning"
    assert result.metrics["train_rows_with"]["secret"] == 7 and result.metrics["train_rows_with"]["email"] == 2
    clean = run_check(Pii, [chat(text) for text in LOOK_ALIKES])
    assert clean.findings == [] and clean.status.value == "pass"


def test_the_same_address_on_many_lines_is_one_finding_and_allow_lists_and_options_apply():
    rows = [chat(f"ticket {i}: write to jane@shop.com") for i in range(5)] + [chat("hi", "call +1 415 555 2671")]
    result = run_check(Pii, rows)
    assert [(f.location.line, f.data.get("line_count"), f.data["field"], f.data["turn"]) for f in result.findings] == [
        (1, 5, "prompt", 0), (6, None, "response", 1)]
    assert run_check(Pii, rows, allow=["shop.com", "4155552671"]).findings == []
    only = run_check(Pii, rows, kinds=["phone"], personal_severity="error", exclude=True)
    assert [f.data["kind"] for f in only.findings] == ["phone"] and only.excluded == {5}
    assert only.status.value == "fail"


def test_no_report_format_or_terminal_line_holds_a_planted_value(tmp_path, capsys, monkeypatch):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "train.jsonl", [chat(text) for _, text, _ in PLANTED])
    outputs = []
    for report in ("json", "markdown", "html", "sarif"):
        with pytest.raises(SystemExit):
            main(["audit", "train.jsonl", "--select", "pii", "--no-cache", "--report", report, "--output", f"r.{report}"])
        outputs.append(capsys.readouterr().out)
        outputs.append((tmp_path / f"r.{report}").read_text())
    with pytest.raises(SystemExit):
        main(["audit", "train.jsonl", "--select", "pii", "--hook"])
    outputs.append(capsys.readouterr().out)
    assert "PII002" in outputs[0] and "j***@gmail.com" in outputs[1]
    for _, _, value in PLANTED:
        for text in outputs:
            assert value not in text and value.replace(" ", "") not in text, value


def test_clean_redact_keeps_the_rows_and_writes_each_value_as_its_placeholder_byte_for_byte(tmp_path, capsys,
                                                                                             monkeypatch):
    from auditor.cli import main

    monkeypatch.chdir(tmp_path)
    lines = [
        '{"messages": [{"role": "user", "content": "Mail jane.doe@gmail.com or call (415) 555-2671"},  '
        '{"role": "assistant", "content": "Card 4111 1111 1111 1111 noted."}]}',
        '{"messages":[{"role":"user","content":"my key AKIAIOSFODNN7EXAMPLE and\\nIBAN GB82WEST12345698765432"},'
        '{"role":"assistant","content":"Thanks."}]}',
        '{"messages": [{"role": "user", "content": "nothing personal here"}, {"role": "assistant", "content": "ok"}]}',
        '{"messages": [{"role": "user", "content": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKC\\n'
        '-----END RSA PRIVATE KEY-----"}, {"role": "assistant", "content": "caf\\u00e9 ok"}]}',
    ]
    (tmp_path / "train.jsonl").write_bytes("\r\n".join(lines).encode() + b"\r\n")
    with pytest.raises(SystemExit) as exc:
        main(["clean", "train.jsonl", "--select", "pii", "--redact", "-d", "out", "--no-cache", "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    written = (tmp_path / "out" / "train.jsonl").read_bytes().decode().split("\r\n")
    assert written[0] == ('{"messages": [{"role": "user", "content": "Mail <EMAIL> or call <PHONE>"},  '
                          '{"role": "assistant", "content": "Card <CARD> noted."}]}')
    assert written[1] == ('{"messages":[{"role":"user","content":"my key <SECRET> and\\nIBAN <IBAN>"},'
                          '{"role":"assistant","content":"Thanks."}]}')
    assert written[2] == lines[2]
    assert written[3] == ('{"messages": [{"role": "user", "content": "<SECRET>"}, '
                          '{"role": "assistant", "content": "caf\\u00e9 ok"}]}')
    assert written[4] == ""
    with pytest.raises(SystemExit) as exc:
        main(["clean", "train.jsonl", "--select", "count", "--redact", "-d", "out2", "--no-cache", "-q"])
    assert exc.value.code == 2 and "--redact needs a check that redacts" in capsys.readouterr().err


@pytest.mark.parametrize("line", [
    'password: "hunter2-is-bad"', 'db_password="Tr0ub4dor3x"', "secret => 'abcdef123'", 'my_pwd == "abc123def"',
    'if ("qwerty7788" == user_password) {', 'secret_key: "9f8e7d6c5b4a"', 'contraseña = "clave-secreta-1"',
    'password_hash "x7y8z9w0q1";',
])
def test_the_keyword_prefilter_lets_through_every_line_the_keyword_detector_reads(line):
    import re

    from detect_secrets.core.scan import scan_line

    from dataset_auditor_checks._pii_kinds import KINDS, _configure_detect_secrets

    _configure_detect_secrets()
    assert any(s.type == "Secret Keyword" for s in scan_line(line)), line  # a line the detector flags...
    assert re.search(KINDS["secret"].prefilter, line)  # ...is one the prefilter lets through


def test_prose_that_only_names_a_password_is_never_scanned(monkeypatch):
    import detect_secrets.core.scan

    scanned = []
    monkeypatch.setattr(detect_secrets.core.scan, "scan_line", lambda line: scanned.append(line) or [])
    rows = [chat(f"Ticket {i}: reset my password, the secret question and the token expired", "Password reset sent.")
            for i in range(200)]
    result = run_check(Pii, rows)
    assert result.findings == [] and scanned == []


def test_an_edited_re_run_prefilters_only_the_edited_block_and_reports_as_a_cold_run(tmp_path, monkeypatch, capsys):
    from conftest import run_cli

    import auditor.input.blocks as blocks_module
    import dataset_auditor_checks.pii as pii_module
    from auditor.testing import write_jsonl

    monkeypatch.setattr(blocks_module, "BLOCK_MIN", 2)  # blocks of 2..40 lines: this file has many
    monkeypatch.setattr(blocks_module, "BLOCK_MAX", 40)
    monkeypatch.setattr(blocks_module, "BLOCK_SPREAD", 4)
    rows = [chat(f"Ticket {i}: my order {i * 7919} is late") for i in range(120)]
    rows[7] = chat("Ticket 7: write to jane.doe@mail.com please")
    rows[90] = chat("Ticket 90: key AKIAZ3MHALF5EXAMPLQX in the log")
    train = write_jsonl(tmp_path / "train.jsonl", rows)

    def audit(cache):
        report = tmp_path / "report.json"
        run_cli(["audit", str(train), "--select", "pii", "--output-format", "json", "--output", str(report),
                 *(["--cache-dir", str(tmp_path / "cache")] if cache else ["--no-cache"])], capsys)
        result = next(r for r in json.loads(report.read_text())["results"] if r["check"] == "pii")
        return [(f["code"], f["line"], f["message"]) for f in result["findings"]]

    assert [(code, line) for code, line, _ in audit(True)] == [("PII001", 8), ("PII002", 91)]
    scanned = []
    real = pii_module._prefilter_bits
    monkeypatch.setattr(pii_module, "_prefilter_bits", lambda frame, kinds: scanned.append(frame.height)
                        or real(frame, kinds))
    rows[60] = chat("Ticket 60: call me at +44 20 7946 0958")
    write_jsonl(train, rows)
    edited = audit(True)
    assert [(code, line) for code, line, _ in edited] == [("PII001", 8), ("PII001", 61), ("PII002", 91)]
    assert scanned and max(scanned) <= 80  # a run of at most two blocks, never the 120 rows
    assert edited == audit(False)


def test_arithmetic_with_plus_signs_is_not_read_by_the_phone_finder_but_numbers_after_a_plus_are(monkeypatch):
    import phonenumbers

    read = []
    real = phonenumbers.PhoneNumberMatcher
    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", lambda text, *a, **k: read.append(text) or real(text, *a, **k))
    sums = [chat(f"Tom has {i}+{i + 3} apples and {i}.5+2.25 pears: {i}+{i} = <<{i}+{i}={2 * i}>>{2 * i}",
                 f"(4+5)*{i} = {9 * i}") for i in range(40)]
    numbers = [chat("Call me on +33 1 23 45 67 89 tonight."), chat("Reach the office at +4930 901820.")]
    result = run_check(Pii, sums + numbers)
    assert len(read) == 2  # only the two rows that write a number after a +
    assert [(f.location.line, f.code) for f in result.findings] == [(41, "PII001"), (42, "PII001")]


def test_prefilter_bits_are_each_kinds_own_match():
    # the texts are first matched against every kind at once, then each kind on the ones that matched:
    # the bits must be what each kind's prefilter alone says, for every text
    import numpy as np
    import polars as pl

    from dataset_auditor_checks._pii_kinds import KINDS
    from dataset_auditor_checks.pii import _prefilter_bits

    texts = [text for _, text, _ in PLANTED] + [
        "no personal data here", "", "Ticket 1234: order 5678 late", "version 1.2.3.4 of the app", "a:b:c",
        "API_KEY = 'x'", "٣٤٥-٦٧-٨٩٠١ in Arabic-Indic digits", "call +1 (555) 010-9999", None]
    kinds = list(KINDS.values())
    frame = pl.DataFrame({"prompt": texts, "response": list(reversed(texts))}, schema={"prompt": pl.String,
                                                                                      "response": pl.String})
    bits = _prefilter_bits(frame, kinds)
    for j, field in enumerate(("prompt", "response")):
        for k, kind in enumerate(kinds):
            alone = frame[field].str.contains(kind.prefilter).fill_null(False).to_numpy()
            assert np.array_equal((bits[:, j] >> k) & 1, alone.astype(np.uint32)), (field, kind.name)
    assert bits[-1, 0] == 0 and bits[0, 1] == 0  # a missing text matches nothing
    assert (bits[:len(PLANTED), 0] != 0).all()  # every planted value is worth reading
