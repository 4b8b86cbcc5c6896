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


@dataclass
class RunResult:
    """What `Guard.run` did with one call."""

    call_id: str
    decision: Decision
    ran: bool  # the call was executed
    reason: str  # why it ran or was refused
    exit_code: int | None = None  # shell: the command's status
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    oom_killed: bool = False
    duration: float = 0.0
    output: Any = None  # file/db/http: the executor's result
    error: str | None = None
    approval: Any = None  # the ApprovalAnswer, when a human was asked
    would_have: str | None = None  # shadow/record mode: the verdict that was not enforced

    @property
    def refused(self) -> bool:
        return not self.ran

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "call_id": self.call_id,
            "decision": self.decision.to_dict(),
            "ran": self.ran,
            "reason": self.reason,
        }
        if self.would_have:
            out["would_have"] = self.would_have
        if self.approval is not None:
            out["approval"] = {"answer": self.approval.answer, "approver": self.approval.approver,
                               "message": self.approval.message}
        if self.ran:
            out["result"] = {
                "exit_code": self.exit_code,
                "stdout": self.stdout.decode("utf-8", "replace"),
                "stderr": self.stderr.decode("utf-8", "replace"),
                "stdout_truncated": self.stdout_truncated,
                "stderr_truncated": self.stderr_truncated,
                "timed_out": self.timed_out,
                "oom_killed": self.oom_killed,
                "duration": round(self.duration, 6),
                "output": self.output,
                "error": self.error,
            }
        return out


class Guard:
    """Checks calls against one policy for one workspace, and runs what may run.

    `check` is pure and cheap. `run` is the whole pipeline: check, ask a
    human for an `ask`, execute (shell in the session's sandbox, file/db/http
    with the tool executors), and record every step in the audit trail.
    """

    def __init__(self, policy: CompiledPolicy, workspace: Workspace | str | os.PathLike[str] | None = None,
                 *, catalog: Catalog | None = None, session: str | None = None,
                 approver: Any = None, sandbox: Any = None, no_sandbox: bool = False,
                 image: str | None = None, audit: bool | str | os.PathLike[str] = True,
                 executors: Any = None) -> None:
        self.policy = policy
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace.create(workspace)
        self._catalog = catalog
        self.session = session or os.environ.get("GUARDRAIL_SESSION") or "default"
        self._approver = approver
        self._sandbox = sandbox
        self.no_sandbox = no_sandbox
        self.image = image
        self._audit_setting = audit
        self._trail: Any = None
        self._executors = executors
        self._egress: Any = None

    @classmethod
    def from_policy(cls, name_or_path: str | os.PathLike[str] | None = None, *,
                    workspace: str | os.PathLike[str] | None = None, **options: Any) -> Guard:
        """Load a shipped policy by name (`default`, `strict`, `ci`) or a policy file.

        Options are those of the constructor (session, approver, sandbox,
        no_sandbox, image, audit, executors).
        """
        from guardrail.policy.loader import load_policy

        policy = load_policy(os.fspath(name_or_path) if name_or_path is not None else None)
        return cls(policy, workspace, **options)

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the session's sandbox (it stays warm), the egress proxy and the executors."""
        if self._egress is not None:
            self._egress.stop()
            self._egress = None
        if self._sandbox is not None and hasattr(self._sandbox, "release"):
            self._sandbox.release()
        if self._executors is not None:
            self._executors.close()

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

                call = parse_line(call, execution=False)
            else:
                call = parse_call(call, execution=False)
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


    # ------------------------------------------------------------ run
    @property
    def trail(self) -> Any:
        """The audit trail (`.guardrail/audit.jsonl` in the workspace), or None when off."""
        if self._trail is None and self._audit_setting:
            from guardrail.audit import AuditTrail

            setting = self._audit_setting
            path = (Path(self.workspace.root) / ".guardrail" / "audit.jsonl" if setting is True
                    else Path(os.fspath(setting)))
            self._trail = AuditTrail(path)
        return self._trail

    @property
    def approver(self) -> Any:
        if self._approver is None:
            from guardrail.approval import make_approver

            self._approver = make_approver(self.approval_config, workspace=self.workspace.root)
        return self._approver

    @property
    def approval_config(self) -> Any:
        from guardrail.approval.config import ApprovalConfig

        return ApprovalConfig.model_validate(dict(self.policy.approval))

    @property
    def sandbox(self) -> Any:
        if self._sandbox is None:
            from guardrail.sandbox import open_sandbox
            from guardrail.sandbox.config import config_from_policy

            config = config_from_policy(self.policy.sandbox)
            self._sandbox = open_sandbox(config, Path(self.workspace.root), self.session,
                                         self.no_sandbox, image=self.image)
            if config.network == "policy" and not self.no_sandbox:
                self._start_egress(self._sandbox)
        return self._sandbox

    def _start_egress(self, sandbox: Any) -> None:
        """`sandbox.network: policy`: serve the egress proxy on the sandbox's socket.

        Every connection from the sandbox is then decided by this guard's
        policy (HTTP rules, resolved addresses), an ask goes to its approver,
        and each connection is written to its audit trail.
        """
        from guardrail.approval.session import SessionMemory
        from guardrail.egress import EgressGate, EgressProxy, serve_in_thread, socket_path

        try:
            memory: Any = SessionMemory(self.workspace.root, self.session)
        except Exception:
            memory = None
        gate = EgressGate(self.check, approver=self.approver, memory=memory, session=self.session,
                          workspace=self.workspace.root, approval_timeout=self.approval_config.timeout)
        proxy = EgressProxy(gate, audit=self.trail, session=self.session)
        path = socket_path(sandbox.name)
        path.unlink(missing_ok=True)
        self._egress = serve_in_thread(proxy, unix_path=path)

    @property
    def executors(self) -> Any:
        if self._executors is None:
            from guardrail.tools import make_executors

            self._executors = make_executors(self.workspace.root, tools=dict(self.policy.tools),
                                             databases=dict(self.policy.databases), decide=self.check)
        return self._executors

    def _record(self, kind: str, data: dict[str, Any]) -> None:
        trail = self.trail
        if trail is not None:
            trail.append(kind, data)

    def run(self, call: ToolCall | Mapping[str, Any] | str | bytes, *, timeout: float | None = None,
            on_output: Any = None, stdin: bytes | None = None) -> RunResult:
        """Check, approve, execute and record one call; never raises for the call's own failure.

        A refused call (deny, or an ask a human did not allow) is not run;
        a call whose check or audit record fails is refused (fail closed).
        """
        import uuid

        call_id = uuid.uuid4().hex
        try:
            parsed = call if isinstance(call, ShellCall | FileCall | DbCall | HttpCall) else (
                _parse_any(call))
        except CallError as exc:
            decision = Decision.deny(f"invalid call: {exc}")
            return RunResult(call_id, decision, False, decision.reason)
        from guardrail.approval.config import apply_mode
        from guardrail.approval.session import call_hash

        mode = self.policy.mode
        digest = call_hash(parsed)
        try:
            from guardrail.audit import call_data

            self._record("call", call_data(parsed, call_id=call_id, call_hash=digest,
                                           session=self.session, mode=mode))
        except Exception as exc:
            decision = Decision.deny(f"the audit trail cannot be written ({exc}); refused to be safe",
                                     rule_id="audit-error")
            return RunResult(call_id, decision, False, decision.reason)
        decision = self.check(parsed)
        outcome = apply_mode(mode, decision.verdict)  # type: ignore[arg-type]
        would_have = str(outcome.would_have) if outcome.would_have is not None else None
        try:
            from guardrail.audit import decision_data

            effective = "allow" if outcome.run else str(decision.verdict)
            self._record("decision", decision_data(decision, call_id=call_id, mode=mode, effective=effective))
        except Exception as exc:
            return RunResult(call_id, decision, False, f"the audit trail cannot be written ({exc}); refused")
        answer = None
        allowed = outcome.run
        reason = decision.reason
        if outcome.ask:
            answer = self._ask(parsed, decision, call_id)
            allowed = bool(answer.allowed)
            if not allowed:
                from guardrail.approval.flow import denial_reason

                reason = f"{decision.reason}; {denial_reason(answer)}"
            else:
                reason = f"{decision.reason}; approved ({answer.answer} by {answer.approver})"
        if not allowed:
            return RunResult(call_id, decision, False, reason, approval=answer, would_have=would_have)
        result = self._execute(parsed, call_id, decision, reason, timeout, on_output, stdin)
        result.approval = answer
        result.would_have = would_have
        return result

    def _ask(self, call: ToolCall, decision: Decision, call_id: str) -> Any:
        from guardrail.approval.flow import make_request, obtain_approval
        from guardrail.approval.session import SessionMemory
        from guardrail.audit import approval_data

        config = self.approval_config
        request = make_request(call, decision, workspace=self.workspace.root, session=self.session)
        try:
            memory: Any = SessionMemory(self.workspace.root, self.session)
        except Exception:
            memory = None
        answer = obtain_approval(request, self.approver, timeout=config.timeout, memory=memory,
                                 allow_session=config.allow_session, allow_always=config.allow_always)
        try:
            self._record("approval", approval_data(answer, call_id=call_id))
        except Exception as exc:
            from dataclasses import replace

            return replace(answer, answer="deny", message=f"the audit trail cannot be written ({exc})")
        return answer

    def _execute(self, call: ToolCall, call_id: str, decision: Decision, reason: str,
                 timeout: float | None, on_output: Any, stdin: bytes | None) -> RunResult:
        import time

        from guardrail.audit import result_data

        start = time.monotonic()
        if isinstance(call, ShellCall):
            cwd = _resolve_cwd(call.cwd, self.workspace.paths) or self.workspace.root
            try:
                res = self.sandbox.exec(call.command, cwd=cwd, timeout=timeout, stdin=stdin, on_output=on_output)
            except Exception as exc:
                res = None
                error = f"the sandbox failed: {exc}"
            if res is None:
                out = RunResult(call_id, decision, False, f"{reason}; {error}", error=error,
                                duration=time.monotonic() - start)
            else:
                out = RunResult(call_id, decision, res.error is None, reason, exit_code=res.exit_code,
                                stdout=res.stdout, stderr=res.stderr, stdout_truncated=res.stdout_truncated,
                                stderr_truncated=res.stderr_truncated, timed_out=res.timed_out,
                                oom_killed=res.oom_killed, duration=res.duration, error=res.error)
            self._safe_record(result_data(call_id=call_id, exit_status=out.exit_code, duration=out.duration,
                                          stdout_bytes=len(out.stdout), stderr_bytes=len(out.stderr),
                                          error=out.error, timed_out=out.timed_out))
            return out
        tool_result = self.executors.execute(call)
        duration = time.monotonic() - start
        out = RunResult(call_id, decision, True, reason, exit_code=0 if tool_result.ok else 1,
                        output=tool_result.output, error=tool_result.error, duration=duration)
        self._safe_record(result_data(call_id=call_id, exit_status=out.exit_code, duration=duration,
                                      error=tool_result.error))
        return out

    def _safe_record(self, data: dict[str, Any]) -> None:
        try:
            self._record("result", data)
        except Exception:  # the call already ran; a lost result record must not hide its output
            import sys

            print("guardrail: warning: could not write the result to the audit trail", file=sys.stderr)


def _parse_any(call: Mapping[str, Any] | str | bytes) -> ToolCall:
    if isinstance(call, str | bytes):
        from guardrail.calls import parse_line

        return parse_line(call)
    return parse_call(call)


# ---------------------------------------------------------------- effects of calls

_CATALOGS: dict[str, Catalog] = {}


def catalog_for(policy: CompiledPolicy) -> Catalog:
    """The command catalogue extended by the policy's `commands:` section (cached by its content)."""
    import json

    key = json.dumps(policy.commands, sort_keys=True, default=str)
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
