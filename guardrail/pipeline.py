"""Guard: the one place that sequences the stages of a call.

    call -> normalise -> parse -> effects -> policy -> decision
         -> approval (ask) -> sandbox / tool executor -> audit

It fails closed: an exception in any stage becomes a deny that names the
stage, never an allow and never a crash of the host process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.calls import DbCall, FileCall, HttpCall, ShellCall, ToolCall, parse_call
from guardrail.decision import Decision
from guardrail.effects import CodeEffect, Effect, PathEffect
from guardrail.errors import CallError
from guardrail.parsers.paths import PathContext, expand_home, resolve, resolve_prefix

if TYPE_CHECKING:
    from guardrail.parsers.commands import Catalog
    from guardrail.policy.compiled import CompiledPolicy

_VAR_RE = re.compile(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])")


@dataclass(frozen=True)
class Workspace:
    """The directory the agent works in, and the home its `~` means."""

    root: str
    home: str

    @classmethod
    def create(cls, root: str | os.PathLike[str] | None = None, home: str | None = None) -> Workspace:
        ctx = PathContext.create(os.fspath(root) if root is not None else os.getcwd(), home)
        return cls(ctx.workspace, ctx.home)

    @property
    def paths(self) -> PathContext:
        return PathContext(self.root, self.home)


class Guard:
    """Checks calls against one policy for one workspace (and, later, runs them)."""

    def __init__(self, policy: CompiledPolicy, workspace: Workspace | str | os.PathLike[str] | None = None,
                 *, catalog: Catalog | None = None) -> None:
        self.policy = policy
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace.create(workspace)
        self._catalog = catalog

    @classmethod
    def from_policy(cls, name_or_path: str | os.PathLike[str] | None = None, *,
                    workspace: str | os.PathLike[str] | None = None) -> Guard:
        """Load a shipped policy by name (`default`, `strict`, `ci`) or a policy file."""
        from guardrail.policy.loader import load_policy

        policy = load_policy(os.fspath(name_or_path) if name_or_path is not None else None)
        return cls(policy, workspace)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = catalog_for(self.policy)
        return self._catalog

    # ------------------------------------------------------------ check
    def effects(self, call: ToolCall) -> list[Effect]:
        """What the call would do (raises on a bug; `check` turns that into a deny)."""
        return call_effects(call, self.workspace, self.catalog, cross_check=self.policy.cross_check)

    def check(self, call: ToolCall | Mapping[str, Any] | str | bytes) -> Decision:
        """Decide a call; never raises. A dict or a JSON line is validated first."""
        try:
            if isinstance(call, str | bytes):
                from guardrail.calls import parse_line

                call = parse_line(call)
            else:
                call = parse_call(call)
        except CallError as exc:
            return Decision.deny(f"invalid call: {exc}")
        except Exception as exc:  # validation must never crash the host
            return Decision.deny(f"invalid call: {type(exc).__name__}: {exc}")
        try:
            effects = self.effects(call)
        except RecursionError:
            effects = [CodeEffect("too_complex", "the call is nested too deeply to read", "")]
        except Exception as exc:
            return Decision.deny(f"internal error while parsing the call ({type(exc).__name__}: {exc}); denied to be safe",
                                 rule_id="internal-error")
        try:
            from guardrail.policy.engine import evaluate

            return evaluate(effects, self.policy, allow_no_effects=True)
        except Exception as exc:
            return Decision.deny(f"internal error in the policy engine ({type(exc).__name__}: {exc}); denied to be safe",
                                 rule_id="internal-error")


# ---------------------------------------------------------------- effects of calls

_CATALOGS: dict[int, Catalog] = {}


def catalog_for(policy: CompiledPolicy) -> Catalog:
    """The command catalogue extended by the policy's `commands:` section."""
    key = id(policy)
    found = _CATALOGS.get(key)
    if found is None:
        from guardrail.parsers.commands import load_catalog

        found = load_catalog(dict(policy.commands))
        _CATALOGS[key] = found
    return found


def call_effects(call: ToolCall, ws: Workspace, catalog: Catalog, *, cross_check: bool = False) -> list[Effect]:
    paths = ws.paths
    if isinstance(call, ShellCall):
        from guardrail.parsers.analyze import shell_effects

        cwd = _resolve_cwd(call.cwd, paths)
        effects = shell_effects(call.command, paths, catalog, cwd=cwd)
        if cross_check:
            from guardrail.parsers.crosscheck import disagreement

            problem = disagreement(call.command)
            if problem:
                effects.append(CodeEffect("parser_disagreement", problem, call.command[:200]))
        return effects
    if isinstance(call, FileCall):
        return file_effects(call, paths)
    if isinstance(call, DbCall):
        from guardrail.parsers.sql import parse_sql

        return list(parse_sql(call.query, call.dialect, call.query[:200]))
    if isinstance(call, HttpCall):
        from guardrail.parsers.url import http_effect

        headers = tuple(f"{k}: {v}" for k, v in call.headers.items())
        return [http_effect(call.url, call.method, headers=headers, body=call.body, source=f"{call.method} {call.url}")]
    raise CallError(f"unknown call {call!r}")


def _resolve_cwd(cwd: str | None, paths: PathContext) -> str | None:
    if cwd is None or cwd in ("", "."):
        return paths.workspace
    expanded = expand_home(cwd, paths.home)
    if _VAR_RE.search(expanded):
        return None  # unknown: relative paths become unknown
    res = resolve(expanded, paths.workspace, paths)
    return res.path


def _file_path(raw: str, op: str, paths: PathContext, **extra: Any) -> PathEffect:
    expanded = expand_home(raw, paths.home)
    expanded = expanded.replace("${PWD}", paths.workspace).replace("$PWD", paths.workspace)
    source = f"file {op} {raw}"
    m = _VAR_RE.search(expanded)
    if m:
        res = resolve_prefix(expanded[: m.start()], paths.workspace, paths)
    else:
        res = resolve(expanded, paths.workspace, paths, follow_last=op not in ("delete",))
    return PathEffect(op, res.path, res.location, source, raw, op in ("delete", "chmod"),  # type: ignore[arg-type]
                      res.whole, res.ancestor, res.in_git, **extra)


def file_effects(call: FileCall, paths: PathContext) -> list[Effect]:
    op = call.op
    if op in ("read", "list", "delete"):
        return [_file_path(call.path, op, paths)]
    if op in ("write", "edit"):
        return [_file_path(call.path, "write", paths)]
    if op in ("move", "copy"):
        first = _file_path(call.path, "delete" if op == "move" else "read", paths)
        return [first, _file_path(call.dest or "", "write", paths)]
    if op == "chmod":
        from guardrail.parsers.commands import _is_setuid_mode

        mode = call.mode or ""
        return [_file_path(call.path, "chmod", paths, mode=mode, setuid=_is_setuid_mode(mode))]
    raise CallError(f"unknown file op {op!r}")


def effects_for_example(example: str | Mapping[str, Any]) -> list[Effect]:
    """Effects of a rule example (a shell command string or a call object).

    Examples run against a workspace that does not exist, under the current
    HOME, so that `~/...` patterns compiled with HOME mean the same thing.
    """
    home = os.environ.get("HOME") or "/root"
    ws = Workspace(root=os.path.join(home, "guardrail-example", "project"), home=home)
    call = parse_call({"tool": "shell", "command": example} if isinstance(example, str) else dict(example))
    from guardrail.parsers.commands import build_catalog

    global _EXAMPLE_CATALOG
    if _EXAMPLE_CATALOG is None:
        _EXAMPLE_CATALOG = build_catalog()
    return call_effects(call, ws, _EXAMPLE_CATALOG)


_EXAMPLE_CATALOG: Catalog | None = None


def check_call(call: Any, *, policy: str | Path | None = None, workspace: str | None = None) -> Decision:
    """One-shot convenience: `Guard.from_policy(policy, workspace=...).check(call)`."""
    return Guard.from_policy(policy, workspace=workspace).check(call)


__all__ = ["Guard", "Workspace", "call_effects", "check_call", "effects_for_example", "file_effects"]
