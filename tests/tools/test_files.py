"""The file executor: every op, confinement to the workspace, and symlink races."""

from __future__ import annotations

import ctypes
import os
import random
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from support import require

from guardrail.calls import FileCall, FileOp
from guardrail.tools.base import ToolResult
from guardrail.tools.config import ToolsConfig
from guardrail.tools.files import FileExecutor, apply_mode


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory that is neither the workspace nor scratch (scratch is replaced below)."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("OUTSIDE SECRET\n")
    return path


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    path = tmp_path / "scratch"
    path.mkdir()
    return path


@pytest.fixture
def fx(workspace: Path, scratch: Path) -> Iterator[FileExecutor]:
    # The real /tmp holds pytest's tmp_path, so a stand-in scratch keeps "outside" outside.
    ex = FileExecutor(workspace, ToolsConfig(max_read_bytes=4096), scratch=(str(scratch),))
    yield ex
    ex.close()


def run(ex: FileExecutor, op: str, path: str, **kw: Any) -> ToolResult:
    return ex.execute(FileCall(op=cast(FileOp, op), path=path, **kw))


def ok(ex: FileExecutor, op: str, path: str, **kw: Any) -> Any:
    result = run(ex, op, path, **kw)
    assert result.ok, result.error
    return result.output


# ---------------------------------------------------------------- each op


def test_read_text(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "a.txt").write_text("one\ntwo\nthree\n")
    out = ok(fx, "read", "a.txt")
    assert out["content"] == "one\ntwo\nthree\n"
    assert out["lines"] == 3 and "next_offset" not in out


def test_read_window(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "a.txt").write_text("".join(f"line {i}\n" for i in range(100)))
    out = ok(fx, "read", "a.txt", offset=10, limit=3)
    assert out["content"] == "line 10\nline 11\nline 12\n"
    assert out["next_offset"] == 13


def test_read_missing(fx: FileExecutor) -> None:
    result = run(fx, "read", "nope.txt")
    assert not result.ok and "nope.txt" in (result.error or "")


def test_read_binary_not_dumped(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "img.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    out = ok(fx, "read", "img.bin")
    assert out["binary"] is True and out["content"] is None


def test_read_huge_file_capped(fx: FileExecutor, workspace: Path) -> None:
    with open(workspace / "big.log", "w") as f:
        for i in range(200_000):
            f.write(f"record {i:08d} payload payload payload\n")
    result = run(fx, "read", "big.log")
    assert result.ok and result.truncated
    assert len(result.output["content"].encode()) <= 4096
    assert result.output["next_offset"] == result.output["lines"]
    assert result.output["size"] > 1_000_000
    # Paging on continues where the cut was.
    nxt = ok(fx, "read", "big.log", offset=result.output["next_offset"], limit=1)
    assert nxt["content"] == f"record {result.output['lines']:08d} payload payload payload\n"


def test_read_single_huge_line_cut_on_char_boundary(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "one.txt").write_text("é" * 10_000)
    result = run(fx, "read", "one.txt")
    assert result.ok and result.truncated
    assert set(result.output["content"]) == {"é"}


def test_list(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "b.txt").write_text("x")
    (workspace / "a").mkdir()
    (workspace / "l").symlink_to("b.txt")
    out = ok(fx, "list", ".")
    assert [(e["name"], e["type"]) for e in out["entries"]] == [
        ("a", "dir"),
        ("b.txt", "file"),
        ("l", "symlink"),
    ]


def test_write_creates_parents_and_is_atomic(fx: FileExecutor, workspace: Path) -> None:
    out = ok(fx, "write", "src/pkg/new.py", content="print('hi')\n")
    assert out["created"] is True
    assert (workspace / "src/pkg/new.py").read_text() == "print('hi')\n"
    assert not [p for p in (workspace / "src/pkg").iterdir() if "guardrail-tmp" in p.name]


def test_write_keeps_mode(fx: FileExecutor, workspace: Path) -> None:
    target = workspace / "run.sh"
    target.write_text("old")
    target.chmod(0o751)
    inode = target.stat().st_ino
    ok(fx, "write", "run.sh", content="new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert target.stat().st_ino != inode  # replaced by rename, not rewritten in place


def test_write_needs_content(fx: FileExecutor) -> None:
    assert "content" in (run(fx, "write", "x.txt").error or "")


def test_edit(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "m.py").write_text("a = 1\nb = 2\n")
    (workspace / "m.py").chmod(0o640)
    ok(fx, "edit", "m.py", old="b = 2", new="b = 3")
    assert (workspace / "m.py").read_text() == "a = 1\nb = 3\n"
    assert stat.S_IMODE((workspace / "m.py").stat().st_mode) == 0o640


def test_edit_missing_old(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "m.py").write_text("a = 1\n")
    result = run(fx, "edit", "m.py", old="zzz", new="y")
    assert not result.ok and "not found" in (result.error or "")
    assert (workspace / "m.py").read_text() == "a = 1\n"


def test_edit_not_unique(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "m.py").write_text("x\nx\nx\n")
    result = run(fx, "edit", "m.py", old="x", new="y")
    assert not result.ok and "3 times" in (result.error or "")
    assert (workspace / "m.py").read_text() == "x\nx\nx\n"


def test_delete_file_and_tree(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "f").write_text("x")
    (workspace / "d/e").mkdir(parents=True)
    (workspace / "d/e/g").write_text("x")
    assert ok(fx, "delete", "f")["deleted"] == "file"
    assert ok(fx, "delete", "d")["deleted"] == "directory"
    assert list(workspace.iterdir()) == []


def test_delete_symlink_removes_link_only(fx: FileExecutor, workspace: Path, outside: Path) -> None:
    (workspace / "l").symlink_to(outside / "secret.txt")
    assert ok(fx, "delete", "l")["deleted"] == "symlink"
    assert (outside / "secret.txt").exists()


def test_delete_workspace_itself_refused(fx: FileExecutor, workspace: Path) -> None:
    result = run(fx, "delete", ".")
    assert not result.ok and "root" in (result.error or "")
    assert workspace.is_dir()


def test_move_rename_and_into_dir(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "a.txt").write_text("A")
    (workspace / "dir").mkdir()
    ok(fx, "move", "a.txt", dest="b.txt")
    ok(fx, "move", "b.txt", dest="dir")
    assert (workspace / "dir/b.txt").read_text() == "A"
    assert not (workspace / "a.txt").exists()


def test_move_to_scratch(fx: FileExecutor, workspace: Path, scratch: Path) -> None:
    (workspace / "a.txt").write_text("A")
    ok(fx, "move", "a.txt", dest=str(scratch / "a.txt"))
    assert (scratch / "a.txt").read_text() == "A"


def test_copy_file_keeps_mode(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "s.sh").write_text("echo")
    (workspace / "s.sh").chmod(0o755)
    ok(fx, "copy", "s.sh", dest="t.sh")
    assert (workspace / "t.sh").read_text() == "echo"
    assert stat.S_IMODE((workspace / "t.sh").stat().st_mode) == 0o755


def test_copy_tree(fx: FileExecutor, workspace: Path, outside: Path) -> None:
    (workspace / "d/sub").mkdir(parents=True)
    (workspace / "d/sub/f").write_text("F")
    (workspace / "d/link").symlink_to(outside / "secret.txt")
    out = ok(fx, "copy", "d", dest="d2")
    assert out["bytes"] == 1
    assert (workspace / "d2/sub/f").read_text() == "F"
    assert (workspace / "d2/link").is_symlink()  # copied as a link, never followed
    assert run(fx, "read", "d2/link").ok is False


def test_chmod(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "x").write_text("")
    (workspace / "x").chmod(0o644)
    assert ok(fx, "chmod", "x", mode="u+x,go-r")["mode"] == "0700"
    assert ok(fx, "chmod", "x", mode="640")["mode"] == "0640"
    assert stat.S_IMODE((workspace / "x").stat().st_mode) == 0o640


def test_chmod_setuid_refused(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "x").write_text("")
    (workspace / "x").chmod(0o755)
    for mode in ("u+s", "4755", "g+s"):
        result = run(fx, "chmod", "x", mode=mode)
        assert not result.ok and "setuid" in (result.error or "")
    assert stat.S_IMODE((workspace / "x").stat().st_mode) == 0o755


def test_chmod_hard_linked_file_refused(fx: FileExecutor, workspace: Path, outside: Path) -> None:
    os.link(outside / "secret.txt", workspace / "alias.txt")
    (outside / "secret.txt").chmod(0o600)
    result = run(fx, "chmod", "alias.txt", mode="644")
    assert not result.ok and "hard links" in (result.error or "")
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) == 0o600


def test_apply_mode_language() -> None:
    assert apply_mode("+x", 0o644, False) == 0o755
    assert apply_mode("a=r", 0o777, False) == 0o444
    assert apply_mode("u=rwx,g=rx,o=", 0o000, False) == 0o750
    assert apply_mode("a+X", 0o644, True) == 0o755
    assert apply_mode("a+X", 0o644, False) == 0o644


# ---------------------------------------------------------------- confinement


@pytest.mark.parametrize("op", ["read", "list", "delete", "chmod"])
def test_dotdot_out_of_workspace_refused(fx: FileExecutor, outside: Path, op: str) -> None:
    result = run(fx, op, "../outside/secret.txt", mode="777")
    assert not result.ok and "outside the workspace" in (result.error or "")
    assert (outside / "secret.txt").read_text() == "OUTSIDE SECRET\n"


def test_absolute_paths(fx: FileExecutor, workspace: Path, outside: Path, scratch: Path) -> None:
    (workspace / "in.txt").write_text("IN\n")
    assert ok(fx, "read", str(workspace / "in.txt"))["content"] == "IN\n"
    assert ok(fx, "read", str(workspace / "sub/../in.txt"))["content"] == "IN\n"
    assert not run(fx, "read", str(outside / "secret.txt")).ok
    assert not run(fx, "write", str(outside / "new.txt"), content="x").ok
    assert not (outside / "new.txt").exists()
    ok(fx, "write", str(scratch / "s.txt"), content="scratch")  # scratch is like W
    assert (scratch / "s.txt").read_text() == "scratch"


def test_home_expansion_is_outside(fx: FileExecutor, workspace: Path) -> None:
    home = Path(os.environ["HOME"])
    (home / ".bashrc").write_text("x")
    assert not run(fx, "write", "~/.bashrc", content="evil").ok
    assert not run(fx, "write", "$HOME/.bashrc", content="evil").ok
    assert (home / ".bashrc").read_text() == "x"


def test_symlinks_followed_only_inside(fx: FileExecutor, workspace: Path, outside: Path) -> None:
    (workspace / "real").mkdir()
    (workspace / "real/f.txt").write_text("REAL\n")
    (workspace / "inlink").symlink_to("real")
    (workspace / "abslink").symlink_to(workspace / "real/f.txt")
    (workspace / "outlink").symlink_to(outside)
    (workspace / "relout").symlink_to("../outside/secret.txt")
    assert ok(fx, "read", "inlink/f.txt")["content"] == "REAL\n"
    assert ok(fx, "read", "abslink")["content"] == "REAL\n"
    for path in ("outlink/secret.txt", "relout"):
        result = run(fx, "read", path)
        assert not result.ok and "outside" in (result.error or ""), path
    assert not run(fx, "write", "outlink/new.txt", content="x").ok
    assert not run(fx, "write", "relout", content="x").ok
    assert not (outside / "new.txt").exists()
    assert (outside / "secret.txt").read_text() == "OUTSIDE SECRET\n"


def test_symlink_loop(fx: FileExecutor, workspace: Path) -> None:
    (workspace / "a").symlink_to("b")
    (workspace / "b").symlink_to("a")
    result = run(fx, "read", "a")
    assert not result.ok and "symbolic links" in (result.error or "")


def test_fifo_not_opened(fx: FileExecutor, workspace: Path) -> None:
    os.mkfifo(workspace / "pipe")
    result = run(fx, "read", "pipe")
    assert not result.ok and "regular file" in (result.error or "")


# ---------------------------------------------------------------- races


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads often, so the swapper interleaves with the steps of a call."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


_LIBC = ctypes.CDLL(None, use_errno=True)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two names atomically (renameat2 RENAME_EXCHANGE): neither is ever absent."""
    if _LIBC.renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Swapper:
    """Flip `workspace/name` between the real entry and a symlink to `target`, over and over."""

    def __init__(self, workspace: Path, target: Path, name: str) -> None:
        self.spot = workspace / name
        self.evil = workspace / f"{name}.evil"
        self.evil.symlink_to(target)
        self.flips = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # A random number of flips between GIL hand-overs, so the state a call
        # meets is not always the same one.
        rng = random.Random(5)
        while not self.stop.is_set():
            for _ in range(rng.choice((1, 2, 3))):
                _exchange(self.spot, self.evil)
                self.flips += 1

    def __enter__(self) -> Swapper:
        try:
            _exchange(self.spot, self.evil)
            _exchange(self.spot, self.evil)
        except OSError as exc:
            require(False, f"renameat2(RENAME_EXCHANGE) on this file system ({exc})")
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        if self.spot.is_symlink():  # leave the real entry in place
            _exchange(self.spot, self.evil)


@pytest.mark.usefixtures("fast_switching")
@pytest.mark.parametrize("op", ["read", "write", "delete", "chmod"])
def test_symlink_swapped_during_calls(
    fx: FileExecutor, workspace: Path, outside: Path, op: str
) -> None:
    """A directory swapped for a symlink to outside, over and over, never leads outside."""
    (workspace / "d").mkdir()
    (workspace / "d/secret.txt").write_text("INSIDE\n")
    (outside / "secret.txt").chmod(0o600)
    outcomes: set[bool] = set()
    with Swapper(workspace, outside, "d") as swapper:
        for i in range(4000):  # at least 400 calls; on until both link states were met
            if i >= 400 and len(outcomes) == 2:
                break
            if op == "read":
                result = run(fx, "read", "d/secret.txt")
                if result.ok:
                    assert result.output["content"] == "INSIDE\n"
            elif op == "write":
                result = run(fx, "write", "d/secret.txt", content="INSIDE\n")
            elif op == "delete":
                result = run(fx, "delete", "d/secret.txt")
                if result.ok:
                    run(fx, "write", "d/secret.txt", content="INSIDE\n")
            else:
                result = run(fx, "chmod", "d/secret.txt", mode="644")
            outcomes.add(result.ok)
    assert swapper.flips > 0
    assert (outside / "secret.txt").read_text() == "OUTSIDE SECRET\n"
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) == 0o600
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert outcomes == {True, False}, (outcomes, result.error)  # both states of the link were met


@pytest.mark.usefixtures("fast_switching")
def test_last_component_swapped(fx: FileExecutor, workspace: Path, outside: Path) -> None:
    """A file swapped for a symlink to an outside file: never read, never written through."""
    (workspace / "f").write_text("INSIDE\n")
    outcomes: set[bool] = set()
    with Swapper(workspace, outside / "secret.txt", "f") as swapper:
        for i in range(400):
            result = run(fx, "read", "f")
            outcomes.add(result.ok)
            if result.ok:
                assert result.output["content"] == "INSIDE\n"
            if i % 4 == 0:
                run(fx, "write", "f", content="INSIDE\n")
                run(fx, "chmod", "f", mode="666")
    assert swapper.flips > 0
    assert (outside / "secret.txt").read_text() == "OUTSIDE SECRET\n"
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) != 0o666
    assert True in outcomes
