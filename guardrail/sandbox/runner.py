"""A session's resident runner: calls without a `docker exec` each.

Why: an exec costs the engine and runc some 40-60 ms whatever the command,
which is most of the time of a `true`. A process that stays in the
container for the life of the guardrail process, and forks each call
itself, brings that down to a few milliseconds. It is an optimisation only:
`DockerSandbox` starts it from the second call of a process on (a one-shot
`guardrail run` would pay its start for nothing), falls back to one exec
per call when the image has no python3 or the runner fails, and keeps every
guarantee of the exec path (the call in a session of its own, its leftovers
reaped, the timeout killing its whole group, the OOM counter read).

The runner is `RUNNER_SOURCE`, run with `python3 -c` in an exec whose stdin
and stdout stay attached. Requests are JSON lines on its stdin:
`{"id", "cmd", "cwd", "env", "stdin" (base64 or null), "keep"}` starts a
call, `{"kill": id}` kills a call's process group (handled on the reading
thread, so it works even when a fork bomb leaves no pid for anything new).
Replies on its stdout are frames: a header `>BIL` (kind, call id, length)
then the payload; kinds: 1 stdout, 2 stderr, 3 exit (`"status oom_kills"`),
4 error (the call could not start), 5 ready (once, at start). When its stdin closes (guardrail went
away) it kills whatever runs and exits.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import struct
import threading
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guardrail.sandbox.output import OutputCapture

OUT, ERR, EXIT, FAIL, READY = 1, 2, 3, 4, 5
HEADER = struct.Struct(">BIL")

RUNNER_SOURCE = r"""
import base64, json, os, signal, struct, subprocess, sys, threading
D = os.environ.get("GUARDRAIL_STATE_DIR", "/tmp/.guardrail")
HEADER = struct.Struct(">BIL")
out = sys.stdout.buffer
lock = threading.Lock()
procs = {}

def send(kind, cid, data=b""):
    with lock:
        out.write(HEADER.pack(kind, cid, len(data)) + data)
        out.flush()

def oom_kills():
    for name in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(name) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
    return -1

def touch(name, text=""):
    try:
        with open(name, "w") as f:
            f.write(text)
    except OSError:
        pass

def pump(fd, kind, cid):
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        send(kind, cid, chunk)
    os.close(fd)

def feed(pipe, data):
    try:
        pipe.write(data)
        pipe.close()
    except OSError:
        pass

def killpg(pid):
    for _ in range(100):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            return

def run(req):
    cid = req["id"]
    touch(D + "/last")
    data = req.get("stdin")
    try:
        p = subprocess.Popen(
            ["sh", "-c", req["cmd"]], cwd=req["cwd"], env=dict(os.environ, **req["env"]),
            stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except Exception as exc:
        send(4, cid, ("%s: %s" % (type(exc).__name__, exc)).encode())
        return
    procs[cid] = p
    pidfile = "%s/run/r%d-%d" % (D, os.getpid(), cid)
    touch(pidfile, str(p.pid))
    pumps = [threading.Thread(target=pump, args=(os.dup(p.stdout.fileno()), 1, cid)),
             threading.Thread(target=pump, args=(os.dup(p.stderr.fileno()), 2, cid))]
    p.stdout.close()
    p.stderr.close()
    for t in pumps:
        t.start()
    if data is not None:
        threading.Thread(target=feed, args=(p.stdin, base64.b64decode(data))).start()
    code = p.wait()
    if not req.get("keep"):
        killpg(p.pid)
    for t in pumps:
        t.join()
    procs.pop(cid, None)
    try:
        os.unlink(pidfile)
    except OSError:
        pass
    touch(D + "/last")
    status = 128 - code if code < 0 else code
    send(3, cid, ("%d %d" % (status, oom_kills())).encode())

def start(req):
    try:
        threading.Thread(target=run, args=(req,), daemon=True).start()
    except Exception as exc:
        send(4, req["id"], ("cannot start the call: %s" % exc).encode())

send(5, 0, b"ready")
for line in sys.stdin.buffer:
    try:
        req = json.loads(line)
    except ValueError:
        continue
    if "kill" in req:
        p = procs.get(req["kill"])
        if p is not None:
            killpg(p.pid)
    else:
        start(req)
for p in list(procs.values()):
    killpg(p.pid)
"""


class RunnerGone(Exception):
    """The runner stopped answering; its container should be replaced."""


@dataclass
class _Call:
    capture: OutputCapture
    done: threading.Event = field(default_factory=threading.Event)
    status: int = -1
    oom_kills: int = -1
    error: str | None = None


@dataclass(frozen=True)
class RunnerResult:
    status: int
    oom_kills: int
    timed_out: bool
    error: str | None


class Runner:
    """The guardrail side: sends calls, demultiplexes the frames back to them."""

    def __init__(self, sock: Any, raw: socket.socket, read: Callable[[int], bytes]) -> None:
        self._sock = sock
        self._raw = raw
        self._read = read
        self._ids = itertools.count(1)
        self._calls: dict[int, _Call] = {}
        self._send_lock = threading.Lock()
        self.alive = True
        self.diagnostics = b""  # the runner's own stderr, for error messages
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """True once the runner said it is up; False if it died or stayed silent."""
        return self._ready.wait(timeout) and self.alive

    def call(
        self,
        command: str,
        *,
        cwd: str,
        env: dict[str, str],
        stdin: bytes | None,
        keep: bool,
        capture: OutputCapture,
        limit: float,
        grace: float,
    ) -> RunnerResult:
        """Run one call; raises RunnerGone when the runner dies or ignores a kill."""
        cid = next(self._ids)
        call = _Call(capture)
        self._calls[cid] = call
        request = {
            "id": cid,
            "cmd": command,
            "cwd": cwd,
            "env": env,
            "stdin": None if stdin is None else b64encode(stdin).decode(),
            "keep": keep,
        }
        try:
            self._send(request)
            timed_out = not call.done.wait(limit)
            if timed_out:
                self._send({"kill": cid})
                if not call.done.wait(grace):
                    raise RunnerGone("the runner did not end the call after the kill")
        finally:
            self._calls.pop(cid, None)
        if not self.alive and call.error is not None:
            raise RunnerGone(call.error)
        return RunnerResult(call.status, call.oom_kills, timed_out, call.error)

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self._raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._raw.close()
        with contextlib.suppress(Exception):
            self._sock.close()

    def _send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message).encode() + b"\n"
        try:
            with self._send_lock:
                self._raw.sendall(line)
        except OSError as exc:
            self.alive = False
            raise RunnerGone(f"cannot reach the runner: {exc}") from exc

    def _loop(self) -> None:
        """Docker frames (stream, size) carry the runner's frames (kind, id, size)."""
        buffer = bytearray()
        try:
            while True:
                header = _read_exactly(self._read, 8)
                if len(header) < 8:
                    break
                stream, size = struct.unpack(">BxxxL", header)
                payload = _read_exactly(self._read, size)
                if len(payload) < size:
                    break
                if stream == 2:
                    self.diagnostics = (self.diagnostics + payload)[-4096:]
                    continue
                buffer += payload
                self._dispatch(buffer)
        except (OSError, ValueError):
            pass
        self.alive = False
        self._ready.set()  # wakes wait_ready, which then sees it is not alive
        why = self.diagnostics.decode(errors="replace").strip()[-300:]
        for call in list(self._calls.values()):
            call.error = "the sandbox runner stopped" + (f": {why}" if why else "")
            call.done.set()

    def _dispatch(self, buffer: bytearray) -> None:
        while len(buffer) >= HEADER.size:
            kind, cid, size = HEADER.unpack_from(buffer)
            if len(buffer) < HEADER.size + size:
                return
            payload = bytes(buffer[HEADER.size : HEADER.size + size])
            del buffer[: HEADER.size + size]
            if kind == READY:
                self._ready.set()
                continue
            call = self._calls.get(cid)
            if call is None:
                continue
            if kind == OUT:
                call.capture.feed("stdout", payload)
            elif kind == ERR:
                call.capture.feed("stderr", payload)
            elif kind == EXIT:
                status, oom = payload.split()
                call.status, call.oom_kills = int(status), int(oom)
                call.done.set()
            elif kind == FAIL:
                call.error = payload.decode(errors="replace")
                call.done.set()


def _read_exactly(read: Callable[[int], bytes], n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        chunk = read(min(n, 65536))
        if not chunk:
            break
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)
