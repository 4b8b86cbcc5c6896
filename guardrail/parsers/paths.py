"""Where a path lies: workspace-relative resolution, `~`, `..`, symlinks.

Every tool's paths go through `resolve`, so `cat ../x`, a file-tool read of
`../x` and `cp ../x .` agree on what `../x` is. The workspace W and its
scratch space (/tmp, /var/tmp) count as inside; everything else is outside.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from collections.abc import Mapping
from dataclasses import dataclass

from guardrail.effects import Location

SCRATCH_ROOTS = ("/tmp", "/var/tmp")
HARMLESS_DEVICES = frozenset(
    {
        "/dev/null",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/full",
    }
)
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Resolved:
    """A resolved path and what it means relative to the workspace."""

    path: str | None  # absolute, normalised; None when not known
    location: Location
    whole: bool = False  # W, /tmp or /var/tmp itself, or all of it (a `*` directly in it)
    ancestor: bool = False  # contains W: / , ~ , .. above W
    in_git: bool = False  # W/.git or below


@dataclass(frozen=True)
class PathContext:
    workspace: str  # absolute and resolved
    home: str

    @classmethod
    def create(cls, workspace: str, home: str | None = None) -> PathContext:
        ws = os.path.realpath(os.path.abspath(workspace))
        return cls(workspace=ws, home=home or os.environ.get("HOME") or "/root")


def expand_home(raw: str, home: str) -> str:
    """`~`, `~/x`, `$HOME`, `${HOME}` at the start -> the home directory."""
    for prefix in ("$HOME", "${HOME}"):
        if raw == prefix or raw.startswith(prefix + "/"):
            return home + raw[len(prefix) :]
    if raw == "~" or raw.startswith("~/"):
        return home + raw[1:]
    if raw.startswith("~"):
        # ~user: another user's home; where exactly does not matter, it is outside W.
        user, _, rest = raw[1:].partition("/")
        if user and user.replace("-", "").replace("_", "").replace(".", "").isalnum():
            base = "/root" if user == "root" else f"/home/{user}"
            return base + ("/" + rest if rest else "")
    return raw


def _realpath_existing(path: str, follow_last: bool, base: str = "/",
                       links: Mapping[str, str] | None = None, depth: int = 0) -> str:
    """Resolve an absolute path the way the kernel would, as far as it exists.

    `..` is taken physically (the parent of where a symlink led), not
    folded away first: `link/../x` with `link -> /etc` is `/x`. `base` is a
    prefix known to be resolved already (the workspace): only the
    components after it are looked at, one `lstat` each; from the first
    component that does not exist on, the rest is folded lexically.
    """
    if base != "/" and (path == base or path.startswith(base + "/")):
        current, rest = base, path[len(base) + 1 :]
    else:
        current, rest = "", path
    parts = [p for p in rest.split("/") if p and p != "."]
    missing = False
    for index, part in enumerate(parts):
        if part == "..":
            current = current.rsplit("/", 1)[0]
            continue
        candidate = f"{current}/{part}"
        last = index == len(parts) - 1
        if last and not follow_last:
            return candidate
        if links and candidate in links and depth < 8:
            current = _realpath_existing(links[candidate], True, "/", links, depth + 1).rstrip("/")
            continue
        if missing:
            current = candidate  # below a missing directory nothing exists but links made in the line
            continue
        try:
            mode = os.lstat(candidate).st_mode
        except (OSError, ValueError):
            missing = True
            current = candidate
            continue
        if stat.S_ISLNK(mode):
            try:
                current = os.path.realpath(candidate).rstrip("/")
            except (OSError, ValueError):
                current = candidate
        else:
            current = candidate
    return current or "/"


def joined(raw: str, cwd: str, home: str) -> str:
    """Absolute, `~` expanded, `..` kept (for physical resolution)."""
    expanded = expand_home(raw, home)
    out = expanded if expanded.startswith("/") else f"{cwd}/{expanded}"
    return "/" + out.lstrip("/")


def normalise(raw: str, cwd: str, home: str) -> str:
    """Absolute, `~` expanded, `..` folded (lexically; symlinks later)."""
    expanded = expand_home(raw, home)
    joined = expanded if expanded.startswith("/") else posixpath.join(cwd, expanded)
    norm = posixpath.normpath(joined)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def classify(path: str, ctx: PathContext) -> Resolved:
    """Location flags of an absolute, resolved path."""
    ws = ctx.workspace
    if path in HARMLESS_DEVICES or path.startswith("/dev/fd/") or path == "/dev/fd":
        return Resolved(path, "harmless_device")
    if path.startswith("/proc/self/fd/") or path.startswith("/proc/self/fd"):
        return Resolved(path, "harmless_device")
    if _under(path, "/dev"):
        return Resolved(path, "device")
    if _under(path, ws):
        return Resolved(path, "inside", whole=(path == ws), in_git=_under(path, ws + "/.git"))
    if path in SCRATCH_ROOTS:
        return Resolved(path, "scratch", whole=True)
    if _under(ws, path):
        return Resolved(path, "outside", ancestor=True)
    home = ctx.home.rstrip("/")
    if home and _under(path, home):
        return Resolved(path, "outside")  # the home directory is never scratch, even below /tmp
    for root in SCRATCH_ROOTS:
        if _under(path, root):
            return Resolved(path, "scratch", whole=(path == root))
    return Resolved(path, "outside")


def resolve(raw: str, cwd: str | None, ctx: PathContext, *, follow_last: bool = True,
            links: Mapping[str, str] | None = None) -> Resolved:
    """A literal path as written (no unknown parts) -> where it lies.

    Globs are judged by the directory before their first glob character:
    `build/*.o` lies in `build`; `*` or `.*` directly in W (or /tmp) is all
    of it.
    """
    if cwd is None and not (raw.startswith("/") or raw.startswith("~") or raw.startswith("$HOME") or raw.startswith("${HOME}")):
        return Resolved(None, "unknown")
    base = cwd or ctx.workspace
    if any(ch in GLOB_CHARS for ch in raw):
        return _resolve_glob(raw, base, ctx, links)
    norm = normalise(raw, base, ctx.home)
    if norm in HARMLESS_DEVICES or norm.startswith("/dev/fd/"):
        return Resolved(norm, "harmless_device")  # /dev/fd/2 is a pipe or the terminal, not its target
    real = _realpath_existing(joined(raw, base, ctx.home), follow_last, ctx.workspace, links)
    res = classify(real, ctx)
    if res.location == "harmless_device" or norm in HARMLESS_DEVICES:
        return Resolved(norm, "harmless_device")
    return res


def _resolve_glob(raw: str, base: str, ctx: PathContext, links: Mapping[str, str] | None = None) -> Resolved:
    norm = normalise(raw, base, ctx.home)
    parts = norm.split("/")
    fixed: list[str] = []
    for i, part in enumerate(parts):
        if any(ch in GLOB_CHARS for ch in part):
            rest = parts[i:]
            break
        fixed.append(part)
    else:
        rest = []
    directory = "/".join(fixed) or "/"
    real_dir = _realpath_existing(directory, True, ctx.workspace, links)
    res = classify(real_dir, ctx)
    if res.location == "device":
        return Resolved(norm, "device")
    whole = len(rest) == 1 and rest[0] in ("*", ".*", "*.*", "{*,.*}", ".[!.]*", "..?*", "[!.]*")
    if res.location == "inside" and real_dir == ctx.workspace:
        # `.gi?/HEAD`, `.g*`: a pattern that can name the repository's .git is treated as it
        could_be_git = bool(rest) and rest[0].startswith(".") and fnmatch.fnmatchcase(".git", rest[0])
        return Resolved(norm, "inside", whole=whole, in_git=could_be_git)
    if res.location == "inside":
        return Resolved(norm, "inside", in_git=res.in_git or _under(real_dir, ctx.workspace + "/.git"))
    if res.location == "scratch":
        at_root = real_dir in SCRATCH_ROOTS
        return Resolved(norm, "scratch", whole=at_root and whole)
    if res.ancestor:
        return Resolved(norm, "outside", ancestor=True)
    return Resolved(norm, res.location)


def resolve_prefix(prefix: str, cwd: str | None, ctx: PathContext,
                   links: Mapping[str, str] | None = None) -> Resolved:
    """A path whose value is known only up to `prefix` (`build/$X`, `/srv/{}`).

    Inside W when the known directory lies strictly inside W (or strictly
    below a scratch root); outside when it lies outside W and is not an
    ancestor of W; otherwise unknown. W itself as the known directory stays
    unknown: `./$X` may be `./` itself.
    """
    if not prefix or (cwd is None and not prefix.startswith(("/", "~", "$HOME", "${HOME}"))):
        return Resolved(None, "unknown")
    base = cwd or ctx.workspace
    directory = prefix if prefix.endswith("/") else posixpath.dirname(prefix)
    if not directory:
        return Resolved(None, "unknown")
    if any(ch in GLOB_CHARS for ch in directory):
        directory = directory.split("*")[0].split("?")[0].split("[")[0]
        directory = directory if directory.endswith("/") else posixpath.dirname(directory)
    norm = normalise(directory, base, ctx.home)
    real = _realpath_existing(norm, True, ctx.workspace, links)
    res = classify(real, ctx)
    if res.location == "inside" and real != ctx.workspace:
        return Resolved(real, "inside", in_git=res.in_git)
    if res.location == "scratch" and real not in SCRATCH_ROOTS:
        return Resolved(real, "scratch")
    if res.location in ("outside", "device") and not res.ancestor:
        return Resolved(real, res.location)
    return Resolved(None, "unknown")
