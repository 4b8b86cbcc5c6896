"""Claude Code's PreToolUse hook.

Input (stdin, one JSON object): `session_id`, `transcript_path`, `cwd`,
`permission_mode`, `hook_event_name` ("PreToolUse"), `tool_name`,
`tool_input`, `tool_use_id`. Output (stdout):

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "permissionDecision": "allow" | "ask" | "deny",
                            "permissionDecisionReason": "..."}}

A deny's reason is shown to the model, an ask's to the user. Exit status 0
(2 only when even the JSON cannot be written: Claude Code lets a call through
on any other status).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from guardrail.adapters.hooks.base import HookContext, HookDecision

EVENT = "PreToolUse"


class ClaudeCode:
    name = "claude-code"

    def workspace(self, payload: Mapping[str, Any]) -> str | None:
        project = os.environ.get("CLAUDE_PROJECT_DIR")
        cwd = payload.get("cwd")
        return project or (cwd if isinstance(cwd, str) and cwd else None)

    def session(self, payload: Mapping[str, Any]) -> str | None:
        sid = payload.get("session_id")
        return f"claude-{sid}" if isinstance(sid, str) and sid else None

    def decide(self, ctx: HookContext, payload: Mapping[str, Any]) -> HookDecision:
        tool = payload.get("tool_name")
        args = payload.get("tool_input")
        if not isinstance(tool, str) or not tool:
            return HookDecision("?", _deny("the hook input has no tool_name"))
        if not isinstance(args, Mapping):
            return HookDecision(tool, _deny(f"the {tool} call has no tool_input object"))
        if tool.startswith("mcp__"):
            server, _, name = tool[len("mcp__"):].partition("__")
            if not server or not name:
                return HookDecision(tool, _deny(f"cannot read the MCP tool name {tool!r} (mcp__server__tool)"))
            return ctx.check_mcp(tool, server, name, args)
        calls = self.calls(tool, args, payload.get("cwd"))
        if calls is None:
            return ctx.unknown(tool)
        return ctx.check_calls(tool, calls)

    @staticmethod
    def calls(tool: str, args: Mapping[str, Any], cwd: Any) -> list[dict[str, Any]] | None:
        """The guardrail calls one built-in Claude Code tool amounts to (None: a tool we do not know)."""
        path = args.get("file_path")
        if tool == "Bash":
            call: dict[str, Any] = {"tool": "shell", "command": args.get("command")}
            if isinstance(cwd, str) and cwd:
                call["cwd"] = cwd
            return [call]
        if tool == "Read":
            return [{"tool": "file", "op": "read", "path": path}]
        if tool == "Write":
            return [{"tool": "file", "op": "write", "path": path, "content": args.get("content")}]
        if tool == "Edit":
            return [{"tool": "file", "op": "edit", "path": path, "old": args.get("old_string"),
                     "new": args.get("new_string")}]
        if tool == "MultiEdit":
            edits = args.get("edits")
            if not isinstance(edits, list) or not edits:
                return [{"tool": "file", "op": "edit", "path": path}]
            return [{"tool": "file", "op": "edit", "path": path,
                     "old": e.get("old_string") if isinstance(e, Mapping) else None,
                     "new": e.get("new_string") if isinstance(e, Mapping) else None} for e in edits]
        if tool == "NotebookEdit":
            return [{"tool": "file", "op": "edit", "path": args.get("notebook_path")}]
        if tool == "WebFetch":
            return [{"tool": "http", "method": "GET", "url": args.get("url")}]
        if tool in ("Grep", "Glob", "LS"):
            where = args.get("path") or (cwd if isinstance(cwd, str) and cwd else ".")
            return [{"tool": "file", "op": "list", "path": where}]
        return None

    def render(self, payload: Mapping[str, Any], result: HookDecision) -> dict[str, Any]:
        return _output(str(result.verdict), result.message())

    def render_error(self, reason: str) -> dict[str, Any]:
        return _output("deny", reason)


def _output(decision: str, reason: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": EVENT, "permissionDecision": decision,
                                   "permissionDecisionReason": reason}}


def _deny(reason: str) -> Any:
    from guardrail.decision import Decision

    return Decision.deny(reason)
