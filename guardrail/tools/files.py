"""The file executor: read, list, write, edit, delete, move, copy, chmod.

The policy decided a path as a string; between that decision and the use,
a symlink can be swapped in to point anywhere. So no path string is ever
handed to the kernel whole. Each root (the workspace, /tmp, /var/tmp) is held
open as a directory descriptor, and a path is walked from it one component at
a time with `O_NOFOLLOW | O_DIRECTORY`. A symlink met on the way is read and
followed by hand, and its target must land in a root again. The last component
is used through its parent's descriptor (`*at` calls, `O_NOFOLLOW`), and the
descriptor actually obtained is checked once more through /proc to still lie
in a root. A swapped link therefore either resolves inside a root or fails.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from guardrail.calls import FileCall, ToolCall
from guardrail.errors import ToolError
from guardrail.tools.base import ToolResult
from guardrail.tools.config import ToolsConfig

SCRATCH = ("/tmp", "/var/tmp")
MAX_SYMLINKS = 40
BINARY_SNIFF = 8192
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_HOME_RE = re.compile(r"^(~|\$HOME|\$\{HOME\})(?=/|$)")


@dataclass(frozen=True)
class _Root:
    real: str  # the root's real path
    aliases: tuple[str, ...]  # spellings a call may use (as given, real)
    fd: int


@dataclass
class _Entry:
    """The last component of a walked path: `name` inside the open directory `fd`.

    `name` is None when the path is a directory reached as a whole (a root,
    or a symlink to `..`); `fd` is then that directory itself.
    """

    fd: int
    name: str | None
    shown: str  # the path as the caller wrote it, for messages


class FileExecutor:
    """Runs file calls confined to the workspace and scratch (see the module docstring)."""

    def __init__(
        self,
        workspace: str | os.PathLike[str],
        config: ToolsConfig | None = None,
        scratch: tuple[str, ...] = SCRATCH,
    ) -> None:
        self.config = config or ToolsConfig()
        self.workspace = os.path.abspath(os.fspath(workspace))
        first = self._open_root(self.workspace, required=True)
        assert first is not None
        roots = [first]
        for path in scratch:
            root = self._open_root(path, required=False)
            if root is not None:
                roots.append(root)
        # Longest spelling first, so a workspace under /tmp wins over /tmp.
        self._roots = roots
        self._aliases = sorted(
            ((alias, root) for root in roots for alias in root.aliases),
            key=lambda pair: len(pair[0]),
            reverse=True,
        )
        self._ops: dict[str, Callable[[FileCall], tuple[Any, bool]]] = {
            "read": self._read,
            "list": self._list,
            "write": self._write,
            "edit": self._edit,
            "delete": self._delete,
            "move": self._move,
            "copy": self._copy,
            "chmod": self._chmod,
        }

    @staticmethod
    def _open_root(path: str, *, required: bool) -> _Root | None:
        try:
            real = os.path.realpath(path)
            fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            if required:
                raise ToolError(f"workspace {path!r} cannot be opened: {exc.strerror}") from None
            return None
        aliases = tuple(dict.fromkeys((os.path.normpath(path), real)))
        return _Root(real=real, aliases=aliases, fd=fd)

    def close(self) -> None:
        for root in self._roots:
            with suppress(OSError):
                os.close(root.fd)
        self._roots = []
        self._aliases = []

    # ------------------------------------------------------------ dispatch

    def execute(self, call: ToolCall) -> ToolResult:
        """Run one file call; every failure comes back as ok=False with a reason."""
        start = time.perf_counter()
        if not isinstance(call, FileCall):
            return ToolResult.refused(f"the file executor cannot run a {call.tool} call")
        try:
            output, truncated = self._ops[call.op](call)
        except ToolError as exc:
            return ToolResult(ok=False, error=str(exc), duration=time.perf_counter() - start)
        except OSError as exc:
            error = f"{call.op} {call.path!r}: {exc.strerror or exc}"
            return ToolResult(ok=False, error=error, duration=time.perf_counter() - start)
        return ToolResult(
            ok=True, output=output, truncated=truncated, duration=time.perf_counter() - start
        )

    # ------------------------------------------------------------ resolution

    def _locate(self, path: str) -> tuple[_Root, list[str]]:
        """A path as written -> the root it lies in and the components below it."""
        home = os.environ.get("HOME")
        if home:
            path = _HOME_RE.sub(lambda _: home, path, count=1)
        if not os.path.isabs(path):
            path = os.path.join(self.workspace, path)
        norm = os.path.normpath(path)
        for alias, root in self._aliases:
            if norm == alias:
                return root, []
            if norm.startswith(alias) and norm[len(alias)] == "/":
                return root, norm[len(alias) + 1 :].split("/")
        raise ToolError(
            f"{path!r} is outside the workspace and scratch (/tmp, /var/tmp): "
            "the file tool only works there"
        )

    @contextmanager
    def _resolve(
        self, path: str, *, follow_last: bool, create_dirs: bool = False, check_dir: bool = True
    ) -> Iterator[_Entry]:
        """Walk `path` from its root without ever following a link blindly.

        Yields the entry's parent directory descriptor (closed afterwards).
        Symlinks in the middle are always followed (by hand, inside the
        roots); the last one only when `follow_last`.
        """
        root, pending = self._locate(path)
        opened: list[int] = []  # directories below root, innermost last
        links = 0
        try:
            while pending:
                name = pending.pop(0)
                if name in ("", "."):
                    continue
                cur = opened[-1] if opened else root.fd
                if name == "..":
                    if opened:
                        os.close(opened.pop())
                    else:  # above this root: lexically from its real path
                        root, pending = self._relocate(os.path.dirname(root.real), pending)
                    continue
                last = not pending
                if last and not follow_last:
                    yield _Entry(self._inside(cur) if check_dir else cur, name, path)
                    return
                if last:
                    target = _readlink(name, cur)
                    if target is None:
                        yield _Entry(self._inside(cur) if check_dir else cur, name, path)
                        return
                else:
                    fd, target = self._open_dir(name, cur, path, create_dirs)
                    if fd is not None:
                        opened.append(fd)
                        continue
                if target is not None:
                    links += 1
                    if links > MAX_SYMLINKS:
                        raise ToolError(f"{path!r}: too many levels of symbolic links")
                    if os.path.isabs(target):
                        for fd in reversed(opened):
                            os.close(fd)
                        opened.clear()
                        root, pending = self._relocate(target, pending)
                    else:
                        pending[:0] = target.split("/")
            cur = opened[-1] if opened else root.fd
            yield _Entry(self._inside(cur) if check_dir else cur, None, path)
        finally:
            for fd in opened:
                os.close(fd)

    def _relocate(self, target: str, pending: list[str]) -> tuple[_Root, list[str]]:
        """Continue a walk at an absolute spot; it must be inside a root again."""
        try:
            return self._locate(os.path.join(target, *pending))
        except ToolError:
            raise ToolError(
                "a symbolic link or '..' leads outside the workspace and scratch: refused"
            ) from None

    @staticmethod
    def _open_dir(name: str, at: int, shown: str, create: bool) -> tuple[int | None, str | None]:
        """Open a middle component: (descriptor, None), or (None, target) for a symlink."""
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=at), None
        except FileNotFoundError:
            if not create:
                raise ToolError(f"{shown!r}: directory {name!r} does not exist") from None
        except OSError as exc:
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
                raise
            target = _readlink(name, at)
            if target is None:
                raise ToolError(f"{shown!r}: {name!r} is not a directory") from None
            return None, target
        with suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=at)
        return os.open(name, _DIR_FLAGS, dir_fd=at), None

    def _inside(self, fd: int) -> int:
        """Check again, on the descriptor itself, that it lies in a root."""
        try:
            where = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            raise ToolError("cannot verify where a file lies (/proc is not mounted)") from None
        for root in self._roots:
            if where == root.real or where.startswith(root.real.rstrip("/") + "/"):
                return fd
        raise ToolError("the path moved outside the workspace while it was being opened: refused")

    def _open_file(self, entry: _Entry) -> tuple[int, os.stat_result]:
        """Open the entry for reading; it must be a regular file."""
        if entry.name is None:
            raise ToolError(f"{entry.shown!r} is a directory: use op 'list'")
        fd = os.open(entry.name, _READ_FLAGS, dir_fd=entry.fd)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise ToolError(f"{entry.shown!r} is a directory: use op 'list'")
            if not stat.S_ISREG(st.st_mode):
                raise ToolError(f"{entry.shown!r} is not a regular file (device, FIFO or socket)")
            self._inside(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    # ------------------------------------------------------------ read and list

    def _open_following(self, path: str) -> tuple[int, os.stat_result]:
        """Open a file for reading, following a final symlink (inside the roots) by hand.

        Tried first without following: the O_NOFOLLOW open itself tells a
        link (ELOOP), and the common case costs no readlink. The descriptor
        is checked on /proc, which covers the directory it was opened in.
        """
        with self._resolve(path, follow_last=False, check_dir=False) as entry:
            try:
                return self._open_file(entry)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
        with self._resolve(path, follow_last=True, check_dir=False) as entry:
            return self._open_file(entry)

    def _read(self, call: FileCall) -> tuple[Any, bool]:
        fd, st = self._open_following(call.path)
        try:
            return self._read_window(fd, call, st.st_size)
        finally:
            os.close(fd)

    def _read_window(self, fd: int, call: FileCall, size: int) -> tuple[Any, bool]:
        """Lines [offset, offset+limit) of a text file, cut at max_read_bytes.

        Works on whole chunks (bytes.count/find), not line by line: a read is
        the commonest call an agent makes and must cost little over open().
        """
        cap = self.config.max_read_bytes
        offset, limit = call.offset or 0, call.limit
        if b"\0" in os.pread(fd, BINARY_SNIFF, 0):
            return _binary(call.path, size), False
        start = _skip_lines(fd, offset) if offset else 0
        data = _read_upto(fd, start, cap + 1)
        more = len(data) > cap
        if limit is not None:
            end = _nth_newline(data, limit)
            if end is not None and end + 1 <= cap:
                more = end + 1 < len(data) or len(data) > cap
                data = data[: end + 1]
        cut = len(data) > cap
        if cut:
            data = data[:cap]
        count = data.count(b"\n")
        if data and not cut and not data.endswith(b"\n"):
            count += 1  # the last line of the file, without a newline
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = decoder.decode(data, final=not cut)
        bad = text.count("\ufffd")
        if bad * 100 > len(text) + 1:
            return _binary(call.path, size), False
        result: dict[str, Any] = {
            "path": call.path,
            "content": text,
            "offset": offset,
            "lines": count,
            "size": size,
        }
        if more:
            result["next_offset"] = offset + count
        if bad:
            result["encoding"] = "not valid UTF-8: invalid bytes shown as U+FFFD"
        if cut:
            result["note"] = (
                f"cut at {cap} bytes (max_read_bytes) inside line {offset + count + 1}: "
                "read on with offset/limit"
            )
        return result, cut

    def _list(self, call: FileCall) -> tuple[Any, bool]:
        with self._resolve(call.path, follow_last=True) as entry:
            if entry.name is None:
                fd = os.dup(entry.fd)
            else:
                try:
                    fd = os.open(entry.name, _DIR_FLAGS, dir_fd=entry.fd)
                except NotADirectoryError:
                    raise ToolError(f"{call.path!r} is not a directory: use op 'read'") from None
        try:
            self._inside(fd)
            entries = []
            with os.scandir(fd) as it:
                for item in it:
                    entries.append(_describe_entry(item))
        finally:
            os.close(fd)
        entries.sort(key=lambda e: e["name"])
        cap = self.config.max_list_entries
        result: dict[str, Any] = {
            "path": call.path,
            "entries": entries[:cap],
            "count": len(entries),
        }
        if len(entries) > cap:
            result["note"] = f"{len(entries) - cap} more entries not shown (max_list_entries {cap})"
        return result, len(entries) > cap

    # ------------------------------------------------------------ writes

    def _write(self, call: FileCall) -> tuple[Any, bool]:
        if call.content is None:
            raise ToolError("file write needs field 'content'")
        data = call.content.encode("utf-8", "surrogatepass")
        self._check_write_size(len(data))
        with self._resolve(call.path, follow_last=True, create_dirs=True) as entry:
            created = self._replace(entry, data, None, None)
        return {"path": call.path, "bytes": len(data), "created": created}, False

    def _edit(self, call: FileCall) -> tuple[Any, bool]:
        if call.old is None or call.new is None:
            raise ToolError("file edit needs fields 'old' and 'new'")
        if call.old == "":
            raise ToolError("file edit: 'old' is empty; give the exact text to replace")
        if call.old == call.new:
            raise ToolError("file edit: 'old' and 'new' are the same; nothing to change")
        with self._resolve(call.path, follow_last=True) as entry:
            fd, st = self._open_file(entry)
            with open(fd, "rb", closefd=True) as f:
                raw = f.read(self.config.max_write_bytes + 1)
            self._check_write_size(len(raw))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ToolError(f"{call.path!r} is not UTF-8 text: edit refused") from None
            found = text.count(call.old)
            if found == 0:
                raise ToolError(
                    f"file edit: 'old' was not found in {call.path!r}; "
                    "it must match the file exactly, whitespace included"
                )
            if found > 1:
                raise ToolError(
                    f"file edit: 'old' occurs {found} times in {call.path!r}; "
                    "include more surrounding text so it matches once"
                )
            data = text.replace(call.old, call.new, 1).encode("utf-8", "surrogatepass")
            self._check_write_size(len(data))
            self._replace(entry, data, st, None)
        return {"path": call.path, "replacements": 1, "bytes": len(data)}, False

    def _check_write_size(self, size: int) -> None:
        if size > self.config.max_write_bytes:
            raise ToolError(
                f"content of {size} bytes is over max_write_bytes ({self.config.max_write_bytes})"
            )

    def _replace(
        self, entry: _Entry, data: bytes, old: os.stat_result | None, mode: int | None
    ) -> bool:
        """Atomically put `data` at the entry: temp file in the same directory, then rename.

        Keeps the mode (and, where permitted, the owner) of the file replaced;
        a new file gets `mode` (default: 0o666 less the umask). Returns whether
        the file is new.
        """
        if entry.name is None:
            raise ToolError(f"{entry.shown!r} is a directory")
        if old is None:
            try:
                old = os.stat(entry.name, dir_fd=entry.fd, follow_symlinks=False)
            except FileNotFoundError:
                old = None
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise ToolError(f"{entry.shown!r} exists and is not a regular file")
        tmp = f".{entry.name[:200]}.{secrets.token_hex(4)}.guardrail-tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o600 if old else 0o666, dir_fd=entry.fd)
        try:
            try:
                if old is not None:
                    os.fchmod(fd, stat.S_IMODE(old.st_mode) & ~(stat.S_ISUID | stat.S_ISGID))
                    with suppress(PermissionError):
                        os.fchown(fd, old.st_uid, old.st_gid)
                elif mode is not None:
                    os.fchmod(fd, mode & 0o1777)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, entry.name, src_dir_fd=entry.fd, dst_dir_fd=entry.fd)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp, dir_fd=entry.fd)
            raise
        return old is None

    def _delete(self, call: FileCall) -> tuple[Any, bool]:
        with self._resolve(call.path, follow_last=False) as entry:
            name = _named(entry, "delete")
            st = os.stat(name, dir_fd=entry.fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(name, dir_fd=entry.fd)
                kind = "directory"
            else:
                os.unlink(name, dir_fd=entry.fd)
                kind = "symlink" if stat.S_ISLNK(st.st_mode) else "file"
        return {"path": call.path, "deleted": kind}, False

    @contextmanager
    def _dest(self, call: FileCall, src_name: str) -> Iterator[_Entry]:
        """The destination of move/copy; an existing directory receives the source by name."""
        assert call.dest is not None
        with self._resolve(call.dest, follow_last=True, create_dirs=True) as entry:
            if entry.name is None:
                yield _Entry(entry.fd, src_name, call.dest)
                return
            try:
                fd = os.open(entry.name, _DIR_FLAGS, dir_fd=entry.fd)
            except (FileNotFoundError, NotADirectoryError):
                yield entry
                return
            try:
                yield _Entry(self._inside(fd), src_name, call.dest)
            finally:
                os.close(fd)

    def _move(self, call: FileCall) -> tuple[Any, bool]:
        with self._resolve(call.path, follow_last=False) as src:
            src_name = _named(src, "move")
            with self._dest(call, src_name) as dst:
                assert dst.name is not None
                try:
                    os.rename(src_name, dst.name, src_dir_fd=src.fd, dst_dir_fd=dst.fd)
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    self._move_across(src, src_name, dst)
        return {"path": call.path, "dest": call.dest, "moved": True}, False

    def _move_across(self, src: _Entry, src_name: str, dst: _Entry) -> None:
        """Across file systems (workspace <-> /tmp): copy a file, then remove the source."""
        st = os.stat(src_name, dir_fd=src.fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            raise ToolError(
                f"{src.shown!r} is not a regular file: only files move across file systems "
                "(copy the directory, then delete it)"
            )
        fd, st = self._open_file(_Entry(src.fd, src_name, src.shown))
        with open(fd, "rb", closefd=True) as f:
            data = f.read(self.config.max_write_bytes + 1)
        self._check_write_size(len(data))
        self._replace(dst, data, None, stat.S_IMODE(st.st_mode))
        os.unlink(src_name, dir_fd=src.fd)

    def _copy(self, call: FileCall) -> tuple[Any, bool]:
        with self._resolve(call.path, follow_last=True) as src:
            src_name = _named(src, "copy")
            st = os.stat(src_name, dir_fd=src.fd, follow_symlinks=False)
            with self._dest(call, src_name) as dst:
                assert dst.name is not None
                if stat.S_ISDIR(st.st_mode):
                    fd = os.open(src_name, _DIR_FLAGS, dir_fd=src.fd)
                    try:
                        self._inside(fd)
                        copied = self._copy_tree(fd, dst.fd, dst.name, st)
                    finally:
                        os.close(fd)
                else:
                    copied = self._copy_file(_Entry(src.fd, src_name, call.path), dst)
        return {"path": call.path, "dest": call.dest, "bytes": copied}, False

    def _copy_file(self, src: _Entry, dst: _Entry) -> int:
        fd, st = self._open_file(src)
        with open(fd, "rb", closefd=True) as f:
            data = f.read(self.config.max_write_bytes + 1)
        self._check_write_size(len(data))
        self._replace(dst, data, None, stat.S_IMODE(st.st_mode))
        return len(data)

    def _copy_tree(self, src_fd: int, parent_fd: int, name: str, st: os.stat_result) -> int:
        """Copy a directory through descriptors; symlinks are copied as links, not followed."""
        os.mkdir(name, 0o700, dir_fd=parent_fd)
        dst_fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        total = 0
        try:
            with os.scandir(src_fd) as it:
                items = list(it)
            for item in items:
                if item.is_symlink():
                    os.symlink(os.readlink(item.name, dir_fd=src_fd), item.name, dir_fd=dst_fd)
                elif item.is_dir(follow_symlinks=False):
                    sub = os.open(item.name, _DIR_FLAGS, dir_fd=src_fd)
                    try:
                        sub_st = os.fstat(sub)
                        total += self._copy_tree(sub, dst_fd, item.name, sub_st)
                    finally:
                        os.close(sub)
                elif item.is_file(follow_symlinks=False):
                    total += self._copy_file(
                        _Entry(src_fd, item.name, item.name), _Entry(dst_fd, item.name, item.name)
                    )
            os.fchmod(dst_fd, stat.S_IMODE(st.st_mode) & 0o777)
        finally:
            os.close(dst_fd)
        return total

    def _chmod(self, call: FileCall) -> tuple[Any, bool]:
        if not call.mode:
            raise ToolError("file chmod needs field 'mode' (e.g. 644 or u+x)")
        with self._resolve(call.path, follow_last=True) as entry:
            if entry.name is None:
                fd = os.dup(entry.fd)
            else:
                fd = os.open(entry.name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=entry.fd)
            try:
                self._inside(fd)
                st = os.fstat(fd)
                if stat.S_ISLNK(st.st_mode):
                    raise ToolError(f"{call.path!r} was swapped for a symbolic link: refused")
                if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
                    # Another name of the same inode may lie outside the workspace.
                    raise ToolError(f"{call.path!r} has other hard links: chmod refused")
                new = apply_mode(call.mode, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode))
                if new & (stat.S_ISUID | stat.S_ISGID):
                    raise ToolError("setuid and setgid bits are never set by the file tool")
                # chmod through the descriptor: it names the inode checked above, not a path.
                os.chmod(f"/proc/self/fd/{fd}", new)
            finally:
                os.close(fd)
        return {"path": call.path, "mode": f"{new:04o}"}, False


# ---------------------------------------------------------------- helpers


def _readlink(name: str, at: int) -> str | None:
    """The target when `name` is a symlink, else None (missing or not a link)."""
    try:
        return os.readlink(name, dir_fd=at)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOENT):
            return None
        raise


def _read_upto(fd: int, pos: int, n: int) -> bytes:
    """Up to n bytes from pos (fewer only at the end of the file)."""
    parts: list[bytes] = []
    while n > 0:
        chunk = os.pread(fd, min(n, 1 << 20), pos)
        if not chunk:
            break
        parts.append(chunk)
        pos += len(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _skip_lines(fd: int, lines: int) -> int:
    """The byte position after `lines` newlines (or the end of the file)."""
    pos = 0
    while lines > 0:
        chunk = os.pread(fd, 1 << 16, pos)
        if not chunk:
            break
        found = chunk.count(b"\n")
        if found < lines:
            lines -= found
            pos += len(chunk)
            continue
        end = _nth_newline(chunk, lines)
        assert end is not None
        return pos + end + 1
    return pos


def _nth_newline(data: bytes, n: int) -> int | None:
    """Index of the n-th newline in data (n >= 1), or None when it has fewer."""
    if n <= 0:
        return -1
    if data.count(b"\n") < n:
        return None
    pos = -1
    for _ in range(n):
        pos = data.find(b"\n", pos + 1)
    return pos


def _named(entry: _Entry, op: str) -> str:
    if entry.name is None:
        raise ToolError(f"{entry.shown!r} is the workspace or scratch root itself: {op} refused")
    return entry.name


def _binary(path: str, size: int) -> dict[str, Any]:
    return {
        "path": path,
        "binary": True,
        "size": size,
        "content": None,
        "note": "binary file: content not shown as text",
    }


def _describe_entry(item: os.DirEntry[str]) -> dict[str, Any]:
    if item.is_symlink():
        return {"name": item.name, "type": "symlink"}
    if item.is_dir(follow_symlinks=False):
        return {"name": item.name, "type": "dir"}
    if item.is_file(follow_symlinks=False):
        return {"name": item.name, "type": "file", "size": item.stat(follow_symlinks=False).st_size}
    return {"name": item.name, "type": "other"}


_SYMBOLIC = re.compile(r"^([ugoa]*)([-+=])([rwxXst]*)$")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}
_PERM = {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000}


def apply_mode(mode: str, current: int, is_dir: bool) -> int:
    """chmod's mode language: octal (`755`) or symbolic clauses (`u+x,go-w`, `a=r`)."""
    if re.fullmatch(r"[0-7]{1,4}", mode):
        return int(mode, 8)
    result = current
    for clause in mode.split(","):
        m = _SYMBOLIC.match(clause)
        if m is None:
            raise ToolError(f"mode {mode!r} is not octal (755) or symbolic (u+x,go-w)")
        who, action, perms = m.groups()
        mask = 0
        for w in who or "a":
            mask |= _WHO[w]
        bits = 0
        for p in perms:
            if p == "X":
                if is_dir or current & 0o111:
                    bits |= 0o111
            else:
                bits |= _PERM[p]
        bits &= mask
        if action == "+":
            result |= bits
        elif action == "-":
            result &= ~bits
        else:
            result = (result & ~mask) | bits
    return result
