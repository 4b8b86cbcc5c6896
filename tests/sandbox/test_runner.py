"""The resident runner without Docker: its source runs here, framed as the engine frames it.

The engine wraps the runner's stdout in its own 8-byte frames; a thread
does the same here over a socket pair, so the guardrail side (`Runner`)
reads exactly what it reads from a container.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrail.sandbox.output import OutputCapture
from guardrail.sandbox.runner import RUNNER_SOURCE, Runner


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    ours, theirs = socket.socketpair()
    (tmp_path / "state" / "run").mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER_SOURCE],
        env={**os.environ, "GUARDRAIL_STATE_DIR": str(tmp_path / "state")},
        stdin=theirs.fileno(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None

    def frame(pipe: int, stream: int) -> None:
        while chunk := os.read(pipe, 65536):
            theirs.sendall(struct.pack(">BxxxL", stream, len(chunk)) + chunk)

    pumps = [
        threading.Thread(target=frame, args=(proc.stdout.fileno(), 1), daemon=True),
        threading.Thread(target=frame, args=(proc.stderr.fileno(), 2), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    client = Runner(ours, ours, ours.recv)
    assert client.wait_ready(10)
    yield client
    client.close()
    proc.wait(10)
    for pump in pumps:
        pump.join(5)
    proc.stdout.close()
    proc.stderr.close()
    theirs.close()


def call(runner: Runner, command: str, **kw: object) -> tuple[int, bytes, bytes, bool, str | None]:
    capture = OutputCapture(1024)
    args: dict[str, object] = {"cwd": "/", "env": {}, "stdin": None, "keep": False, "limit": 10.0}
    args.update(kw)
    result = runner.call(command, capture=capture, grace=3.0, **args)  # type: ignore[arg-type]
    return (
        result.status,
        capture.stdout.value(),
        capture.stderr.value(),
        result.timed_out,
        result.error,
    )


def test_status_streams_stdin_env_cwd(runner: Runner, tmp_path: Path) -> None:
    status, out, err, timed_out, error = call(
        runner,
        'cat; pwd; echo "$X" >&2; exit 9',
        cwd=str(tmp_path),
        env={"X": "ex"},
        stdin=b"in\n",
    )
    assert (status, out, err, timed_out, error) == (
        9,
        f"in\n{tmp_path}\n".encode(),
        b"ex\n",
        False,
        None,
    )


def test_timeout_kills_the_group(runner: Runner) -> None:
    started = time.monotonic()
    status, _, _, timed_out, _ = call(runner, "sleep 100 & sleep 100", limit=0.5)
    assert timed_out and status == 128 + 9
    assert time.monotonic() - started < 5


def test_leftovers_are_reaped_and_caps_hold(runner: Runner, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    call(runner, f"sleep 300 >/dev/null 2>&1 & echo $! > {pidfile}")
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _running(pid)
    _, out, _, _, _ = call(runner, "head -c 100000 /dev/zero")
    assert out.startswith(b"\0" * 1024 + b"\n[guardrail: stdout cut at 1024 bytes; 98976 more")


def test_a_call_that_cannot_start_is_an_error(runner: Runner) -> None:
    *_, error = call(runner, "true", cwd="/no/such/dir")
    assert error is not None and "/no/such/dir" in error


def test_calls_mark_the_heartbeat(runner: Runner, tmp_path: Path) -> None:
    last = tmp_path / "state" / "last"
    call(runner, "true")
    assert last.exists()
    assert list((tmp_path / "state" / "run").iterdir()) == []  # its pid file went with it


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
