"""HostSandbox (`--no-sandbox`): same timeout and cap semantics, and it says so."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from guardrail.sandbox.config import SandboxConfig
from guardrail.sandbox.host import HostSandbox


@pytest.fixture
def host(workspace: Path) -> HostSandbox:
    return HostSandbox(SandboxConfig(output_cap=4096, timeout=30), workspace, "test")


def test_says_it_is_not_contained(host: HostSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    host.exec("true", cwd=str(host.workspace))
    host.exec("true", cwd=str(host.workspace))
    assert capsys.readouterr().err.count("not contained") == 1


def test_status_output_stdin_env(host: HostSandbox) -> None:
    result = host.exec(
        'cat; echo "$GREETING" >&2; pwd; exit 7',
        cwd=str(host.workspace),
        stdin=b"in\n",
        env={"GREETING": "hi"},
    )
    assert result.exit_code == 7
    assert result.stdout == f"in\n{host.workspace}\n".encode()
    assert result.stderr == b"hi\n"


def test_output_is_capped(host: HostSandbox) -> None:
    result = host.exec("head -c 1000000 /dev/zero", cwd="/")
    assert result.stdout_truncated
    assert result.stdout.startswith(b"\0" * 4096 + b"\n[guardrail: stdout cut at 4096 bytes")


def test_timeout_kills_the_process_group(host: HostSandbox, workspace: Path) -> None:
    pidfile = workspace / "bg.pid"
    started = time.monotonic()
    result = host.exec(f"sleep 300 & echo $! > {pidfile}; wait", cwd="/", timeout=0.5)
    assert result.timed_out and result.exit_code == 124
    assert time.monotonic() - started < 10
    background = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(background) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(background)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone: it runs nothing
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_background_leftovers_die_unless_kept(workspace: Path) -> None:
    for keep in (False, True):
        host = HostSandbox(SandboxConfig(keep_background=keep), workspace, "test")
        pidfile = workspace / f"bg-{keep}.pid"
        result = host.exec(f"sleep 300 >/dev/null 2>&1 & echo $! > {pidfile}", cwd="/")
        assert result.exit_code == 0
        background = int(pidfile.read_text())
        deadline = time.monotonic() + 5
        while _alive(background) and not keep and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _alive(background) is keep
        if keep:
            os.kill(background, 9)
