"""Capped capture of a command's stdout and stderr, shared by every backend.

A command may print without end (a 200 MB flood, a `yes`); guardrail keeps
the first `cap` bytes of each stream, passes them on to the sink as they
come, drops the rest while still draining the pipe (so the command is not
blocked and guardrail's memory stays bounded) and marks the cut both in the
stream the user sees and in the kept bytes.
"""

from __future__ import annotations

import threading

from guardrail.sandbox.base import OutputSink

STREAMS = ("stdout", "stderr")


def cut_marker(stream: str, cap: int, dropped: int | None = None) -> bytes:
    """The line that replaces what was dropped; says how much when known."""
    if dropped is None:
        tail = "the rest is dropped"
    else:
        tail = f"{dropped} more bytes dropped"
    return f"\n[guardrail: {stream} cut at {cap} bytes; {tail}]\n".encode()


class StreamCapture:
    """Keeps up to `cap` bytes of one stream and forwards them to a sink."""

    def __init__(self, name: str, cap: int, sink: OutputSink | None) -> None:
        self.name = name
        self.cap = cap
        self._sink = sink
        self._chunks: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def feed(self, data: bytes) -> None:
        if not data:
            return
        room = self.cap - self.kept
        keep = data[:room] if room > 0 else b""
        if keep:
            self._chunks.append(keep)
            self.kept += len(keep)
            if self._sink is not None:
                self._sink(self.name, keep)
        over = len(data) - len(keep)
        if over:
            first_cut = self.dropped == 0
            self.dropped += over
            if first_cut and self._sink is not None:
                self._sink(self.name, cut_marker(self.name, self.cap))

    def value(self) -> bytes:
        data = b"".join(self._chunks)
        if self.truncated:
            data += cut_marker(self.name, self.cap, self.dropped)
        return data


class OutputCapture:
    """Both streams of one call; `feed` is safe to call from several threads."""

    def __init__(self, cap: int, sink: OutputSink | None = None) -> None:
        self._lock = threading.Lock()
        self.streams = {name: StreamCapture(name, cap, sink) for name in STREAMS}

    def feed(self, stream: str, data: bytes) -> None:
        with self._lock:
            self.streams[stream].feed(data)

    @property
    def stdout(self) -> StreamCapture:
        return self.streams["stdout"]

    @property
    def stderr(self) -> StreamCapture:
        return self.streams["stderr"]
