"""FakeSandbox: records calls, answers from its script, streams the scripted output."""

from __future__ import annotations

from pathlib import Path

from guardrail.sandbox.base import ExecResult
from guardrail.sandbox.fake import FakeCall, FakeSandbox


def test_records_and_answers() -> None:
    fake = FakeSandbox(results={"ls": ExecResult(0, b"a\nb\n", b"")})
    fake.script("false", ExecResult(1, b"", b"no\n"))
    fake.script("echo $X", lambda call: ExecResult(0, (call.env or {}).get("X", "").encode(), b""))
    streamed: list[tuple[str, bytes]] = []
    assert (
        fake.exec("ls", cwd="/w", on_output=lambda s, d: streamed.append((s, d))).stdout
        == b"a\nb\n"
    )
    assert fake.exec("false", cwd="/w").exit_code == 1
    assert fake.exec("echo $X", cwd="/w", env={"X": "42"}).stdout == b"42"
    assert fake.exec("unknown", cwd="/w", timeout=3).exit_code == 0  # the default
    assert fake.commands == ["ls", "false", "echo $X", "unknown"]
    assert fake.calls[-1] == FakeCall("unknown", "/w", 3, None, None)
    assert streamed == [("stdout", b"a\nb\n")]


def test_lifecycle_and_copies(tmp_path: Path) -> None:
    fake = FakeSandbox()
    fake.start()
    fake.copy_in(tmp_path / "f", "/tmp/f")
    fake.copy_out("/tmp/g", tmp_path / "g")
    fake.release()
    fake.close()
    assert fake.started and fake.released and fake.closed
    assert fake.copies == [
        ("in", str(tmp_path / "f"), "/tmp/f"),
        ("out", "/tmp/g", str(tmp_path / "g")),
    ]
    assert fake.exec("ls", cwd="/").error  # closed: refuses, does not pretend
