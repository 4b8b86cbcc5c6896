"""Capped capture: what is kept, what the sink sees, how the cut is marked."""

from __future__ import annotations

from guardrail.sandbox.output import OutputCapture


def test_under_the_cap_is_kept_whole() -> None:
    seen: list[tuple[str, bytes]] = []
    capture = OutputCapture(1024, lambda s, d: seen.append((s, d)))
    capture.feed("stdout", b"hello ")
    capture.feed("stderr", b"oops")
    capture.feed("stdout", b"world")
    assert capture.stdout.value() == b"hello world"
    assert capture.stderr.value() == b"oops"
    assert not capture.stdout.truncated
    assert seen == [("stdout", b"hello "), ("stderr", b"oops"), ("stdout", b"world")]


def test_over_the_cap_is_cut_and_marked() -> None:
    seen: list[bytes] = []
    capture = OutputCapture(10, lambda s, d: seen.append(d))
    capture.feed("stdout", b"0123456")
    capture.feed("stdout", b"789abcdef")
    capture.feed("stdout", b"more")
    value = capture.stdout.value()
    assert value.startswith(
        b"0123456789\n[guardrail: stdout cut at 10 bytes; 10 more bytes dropped]"
    )
    assert capture.stdout.truncated and capture.stdout.dropped == 10
    assert b"".join(seen).startswith(b"0123456789\n[guardrail: stdout cut at 10 bytes")
    assert b"more" not in b"".join(seen)
    assert not capture.stderr.truncated


def test_a_cut_on_a_chunk_boundary_is_marked_once() -> None:
    seen: list[bytes] = []
    capture = OutputCapture(4, lambda s, d: seen.append(d))
    capture.feed("stderr", b"abcd")  # exactly the cap: nothing dropped yet
    assert not capture.stderr.truncated and seen == [b"abcd"]
    capture.feed("stderr", b"ef")
    capture.feed("stderr", b"gh")
    assert seen[1:] == [b"\n[guardrail: stderr cut at 4 bytes; the rest is dropped]\n"]
    assert (
        capture.stderr.value()
        == b"abcd\n[guardrail: stderr cut at 4 bytes; 4 more bytes dropped]\n"
    )
