"""Run the parser where a crash cannot let a call through.

The shell parser is native code (tree-sitter). Should it ever crash the
process, an agent hook would exit with a signal status — and agents let a
call through on any status but 0 and 2. So the one-shot paths (`guardrail
hook`, `guardrail check`) decide in a forked child: if the child dies, the
parent, which never parsed anything, answers with a deny.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def in_child(func: Callable[[], bytes]) -> bytes | None:
    """`func()` computed in a forked child; None when the child did not finish cleanly."""
    if not hasattr(os, "fork"):
        return func()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, hand the bytes over, leave without cleanup
        code = 70
        try:
            os.close(read_fd)
            data = func()
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    return data if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else None


class _Worker:
    """A forked child that answers one line at a time over pipes."""

    def __init__(self, decide: Callable[[bytes], dict[str, Any]]) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._to_child)
            os.close(self._from_child)
            self._serve(decide, to_child_r, from_child_w)
        os.close(to_child_r)
        os.close(from_child_w)
        self._replies = os.fdopen(self._from_child, "rb")

    @staticmethod
    def _serve(decide: Callable[[bytes], dict[str, Any]], inp_fd: int, out_fd: int) -> None:
        code = 70
        try:
            with os.fdopen(inp_fd, "rb") as inp, os.fdopen(out_fd, "wb") as out:
                while True:
                    header = inp.readline()
                    if not header:
                        break
                    line = inp.read(int(header))
                    out.write(json.dumps(decide(line)).encode() + b"\n")
                    out.flush()
            code = 0
        finally:
            os._exit(code)

    def ask(self, line: bytes) -> dict[str, Any] | None:
        try:
            os.write(self._to_child, b"%d\n" % len(line))
            view = memoryview(line)
            while view:
                view = view[os.write(self._to_child, view):]
            reply = self._replies.readline()
        except OSError:
            return None
        return json.loads(reply) if reply else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._to_child)
        with contextlib.suppress(OSError):
            self._replies.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def decide_isolated(lines: Iterable[bytes], decide: Callable[[bytes], dict[str, Any]],
                    crashed: Callable[[], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One decision per line, in order, from a worker child; a crash is `crashed()` for
    that line, and the next line gets a fresh worker."""
    if not hasattr(os, "fork"):
        yield from (decide(line) for line in lines)
        return
    worker: _Worker | None = None
    try:
        for line in lines:
            if worker is None:
                worker = _Worker(decide)
            answer = worker.ask(line)
            if answer is None:
                worker.close()
                worker = None
                answer = crashed()
            yield answer
    finally:
        if worker is not None:
            worker.close()
