"""Loading a policy: from the cache when its sources are unchanged, else compiled.

`guardrail check` runs in a fresh process for every agent action, so the
common path must be cheap: this module imports neither yaml nor pydantic.
A cache entry (a pickle under `$XDG_CACHE_HOME/guardrail`) is named after
the policy's path, HOME (path globs expand `~`), the guardrail version and
the policy code's own files, and it records the SHA-256 of every source file
(the policy and each base it extends); it is used only when all of them still
hash the same. A corrupt, foreign or unwritable cache is ignored, never
fatal. On a miss, `guardrail.policy.compiler` validates, merges, compiles and
checks each rule's examples, and the result is written back.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.errors import PolicyError
from guardrail.policy.compiled import FORMAT, CompiledPolicy

try:  # the builtin module: hashlib's OpenSSL binding costs ~2 ms to import
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - other builds and versions
    from hashlib import sha256

if TYPE_CHECKING:
    from guardrail.effects import Effect

    EffectsOf = Callable[[str | dict[str, Any]], Sequence[Effect]]

POLICY_DIR = Path(__file__).resolve().parent
SHIPPED_DIR = POLICY_DIR.parent / "policies"
DEFAULT_POLICY = "default"
# Files whose change makes every cache entry stale (the compiled form and how it is built).
_CODE_FILES = (
    "compiled.py",
    "compiler.py",
    "indexing.py",
    "loader.py",
    "matchers.py",
    "schema.py",
    "source.py",
    "vocabulary.py",
)


def resolve_policy_path(name_or_path: str | Path | None) -> Path:
    """A shipped policy's name (`default`, `strict`, `ci`) or a path to a YAML file."""
    if name_or_path is None:
        name_or_path = DEFAULT_POLICY
    if (
        isinstance(name_or_path, str)
        and "/" not in name_or_path
        and not name_or_path.endswith((".yaml", ".yml"))
    ):
        shipped = SHIPPED_DIR / f"{name_or_path}.yaml"
        if shipped.is_file():
            return shipped.resolve()
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        shipped_names = sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))
        raise PolicyError(
            f"no policy {str(name_or_path)!r}: give a YAML file or a shipped policy "
            f"({', '.join(shipped_names) or 'none shipped yet'})"
        )
    return path.resolve()


def load_policy(
    name_or_path: str | Path | None = None,
    *,
    use_cache: bool = True,
    check_examples: bool = True,
    effects_of: EffectsOf | None = None,
) -> CompiledPolicy:
    """Load a policy by shipped name or path (None: the shipped `default`).

    Each rule's `examples` are checked when the policy is compiled (not on a
    cached load), with `effects_of`, or else the pipeline's
    `effects_for_example` when it can be imported; `check_examples=False`
    skips them. A policy compiled with a caller's own `effects_of` is not
    cached (its examples were checked against something else).

    Raises `PolicyError` (`compiler.PolicyErrors` with every problem in
    `.errors`), or `PolicyExampleError` when a rule's examples fail.
    """
    path = resolve_policy_path(name_or_path)
    home = os.environ.get("HOME", "")
    entry = cache_file(path, home) if use_cache and effects_of is None else None
    if entry is not None:
        cached = read_cache(entry)
        if cached is not None and (
            cached.examples_checked or not check_examples or not _pipeline_exists()
        ):
            return cached
    from guardrail.policy import compiler

    if check_examples and effects_of is None:
        effects_of = compiler.default_effects_of()
    name = path.stem if path.parent == SHIPPED_DIR.resolve() else str(path)
    result = compiler.compile_path(
        path, home=home, effects_of=effects_of if check_examples else None, name=name
    )
    if entry is not None:
        write_cache(entry, result.hashes, result.policy)
    return result.policy


def _pipeline_exists() -> bool:
    """Whether examples could be checked now (a cache entry made without them is then stale)."""
    return (POLICY_DIR.parent / "pipeline.py").is_file()


# -- the cache -----------------------------------------------------------------


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "guardrail"


def _version() -> str:
    package = sys.modules.get("guardrail")
    return str(getattr(package, "__version__", "dev"))


def _code_fingerprint() -> str:
    """Size and mtime of the policy code: a changed compiler never meets an old entry."""
    parts = []
    for name in _CODE_FILES:
        try:
            info = os.stat(POLICY_DIR / name)
        except OSError:
            continue
        parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return ",".join(parts)


def cache_file(path: Path, home: str) -> Path:
    key = "\0".join((str(FORMAT), _version(), home, str(path), _code_fingerprint()))
    return cache_dir() / f"policy-{sha256(key.encode()).hexdigest()[:32]}.pickle"


def _trusted(fd: int) -> bool:
    """Only unpickle a file this user owns and nobody else can write: pickle runs code."""
    info = os.fstat(fd)
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _sources_unchanged(hashes: dict[str, str]) -> bool:
    for source, digest in hashes.items():
        try:
            data = Path(source).read_bytes()
        except OSError:
            return False
        if sha256(data).hexdigest() != digest:
            return False
    return True


def read_cache(entry: Path) -> CompiledPolicy | None:
    """The cached policy if the entry is sound and its sources unchanged, else None."""
    try:
        with open(entry, "rb") as handle:
            if not _trusted(handle.fileno()):
                return None
            stored = pickle.load(handle)
        fmt, hashes, policy = stored
        if fmt != FORMAT or not isinstance(policy, CompiledPolicy) or not isinstance(hashes, dict):
            return None
        return policy if _sources_unchanged(hashes) else None
    except Exception:  # a corrupt or truncated entry is a miss, never an error
        return None


def write_cache(entry: Path, hashes: dict[str, str], policy: CompiledPolicy) -> None:
    """Write atomically (rename into place); any failure leaves the cache as it was."""
    import tempfile

    tmp: str | None = None
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = pickle.dumps((FORMAT, hashes, policy), protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".policy-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, entry)
        tmp = None
    except Exception:
        return
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
