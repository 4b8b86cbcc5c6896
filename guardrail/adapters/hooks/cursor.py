"""Cursor's agent hooks: beforeShellExecution, beforeMCPExecution, beforeReadFile.

Input (stdin): the common fields `hook_event_name`, `conversation_id`,
`generation_id`, `workspace_roots`, plus per event `command` and `cwd`
(shell), `tool_name` and `tool_input` (MCP; an object, or a JSON string in
older releases), `file_path` (read). Output (stdout):

    {"permission": "allow" | "deny" | "ask", "user_message": "...", "agent_message": "..."}

beforeReadFile accepts only allow and deny, so an `ask` there is a deny that
says a human must allow it (fail closed). An event guardrail does not know
is answered with `ask`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from guardrail.adapters.hooks.base import HookContext, HookDecision
from guardrail.decision import Decision


class Cursor:
    name = "cursor"

    def workspace(self, payload: Mapping[str, Any]) -> str | None:
        roots = payload.get("workspace_roots")
        if isinstance(roots, list) and roots and isinstance(roots[0], str) and roots[0]:
            return roots[0]
        cwd = payload.get("cwd")
        return cwd if isinstance(cwd, str) and cwd else None

    def session(self, payload: Mapping[str, Any]) -> str | None:
        cid = payload.get("conversation_id")
        return f"cursor-{cid}" if isinstance(cid, str) and cid else None

    def decide(self, ctx: HookContext, payload: Mapping[str, Any]) -> HookDecision:
        event = payload.get("hook_event_name")
        if event == "beforeShellExecution":
            call: dict[str, Any] = {"tool": "shell", "command": payload.get("command")}
            cwd = payload.get("cwd")
            if isinstance(cwd, str) and cwd:
                call["cwd"] = cwd
            return ctx.check_calls("shell", [call])
        if event == "beforeReadFile":
            return ctx.check_calls("read", [{"tool": "file", "op": "read", "path": payload.get("file_path")}])
        if event == "beforeMCPExecution":
            name = payload.get("tool_name")
            args = payload.get("tool_input")
            if isinstance(args, str):
                try:
                    args = json.loads(args) if args.strip() else {}
                except ValueError:
                    return HookDecision("mcp", Decision.deny("the MCP tool_input is not JSON"))
            if not isinstance(name, str) or not name:
                return HookDecision("mcp", Decision.deny("the hook input has no tool_name"))
            server = payload.get("server") or payload.get("url") or payload.get("command") or ""
            return ctx.check_mcp(name, str(server), name, args if args is not None else {})
        return ctx.unknown(f"{event} event")

    def render(self, payload: Mapping[str, Any], result: HookDecision) -> dict[str, Any]:
        verdict = str(result.verdict)
        message = result.message()
        if payload.get("hook_event_name") == "beforeReadFile":
            if verdict == "ask":
                return {"permission": "deny", "user_message": message + " (Cursor cannot ask for a file read: "
                        "allow it in the policy or read it yourself)"}
            return {"permission": verdict}
        out: dict[str, Any] = {"permission": verdict}
        if verdict != "allow":
            out["user_message"] = message
            out["agent_message"] = message
        return out

    def render_error(self, reason: str) -> dict[str, Any]:
        return {"permission": "deny", "user_message": reason, "agent_message": reason}
