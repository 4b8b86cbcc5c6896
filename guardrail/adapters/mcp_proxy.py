"""`guardrail mcp proxy`: an MCP server in front of another, deciding every tools/call.

    agent (MCP client) --stdio--> proxy --stdio--> downstream MCP server

The proxy is a server to the agent and a client (`ClientSession`) to the
downstream, both with the official SDK. tools/list, resources and prompts
pass through (tools the policy denies whatever their arguments are left out
of tools/list); each tools/call is decided (`McpRules.decide`):

- allow: forwarded; the downstream's result goes back unchanged;
- deny: a tool result with `isError: true`, the reason and rule in its text
  (so the agent can adapt) and `structuredContent` {decision, rules, call_id};
- ask: `elicitation/create` to the agent's client when it declared the
  capability, else the policy's approver; no clear "allow" is a deny.

A downstream that dies or does not answer within `mcp.call_timeout` gives an
error result, never a hang. Every call, decision, approval and result goes
to the audit trail.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp import ClientSession, MCPError
from mcp.server.context import ServerRequestContext

from guardrail.adapters.mcp_approval import McpApprover
from guardrail.adapters.mcp_policy import McpDecision, McpRules
from guardrail.calls import call_to_dict
from guardrail.decision import Verdict

T = TypeVar("T")


def error_result(text: str, structured: dict[str, Any] | None = None) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                structured_content=structured, is_error=True)


def refusal(d: McpDecision, call_id: str, why: str) -> types.CallToolResult:
    """The tool result of a refused call: what was refused, why, by which rule."""
    rules = d.decision.rules
    text = (f"guardrail refused the call of tool {d.tool!r}: {why}"
            + (f" [rule: {', '.join(rules)}]" if rules else "") + f" (call_id {call_id})")
    return error_result(text, {"decision": "deny", "rules": rules, "call_id": call_id})


@dataclass
class McpProxy:
    """The handlers of the proxy's server side, speaking to one downstream session."""

    guard: Any
    rules: McpRules
    downstream: ClientSession
    server_name: str
    approver: McpApprover
    audit: bool = True
    _dead: str | None = field(default=None, init=False)

    # ------------------------------------------------------------ pass-through
    async def list_tools(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None,
                         ) -> types.ListToolsResult:
        result = await self._forward(self.downstream.list_tools(params=params))
        tools = [t for t in result.tools if not self.rules.always_denied(self.server_name, t.name)]
        return result.model_copy(update={"tools": tools})

    async def list_resources(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None,
                             ) -> types.ListResourcesResult:
        return await self._forward(self.downstream.list_resources(params=params))

    async def list_resource_templates(self, ctx: ServerRequestContext[Any],
                                      params: types.PaginatedRequestParams | None,
                                      ) -> types.ListResourceTemplatesResult:
        return await self._forward(self.downstream.list_resource_templates(params=params))

    async def read_resource(self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams,
                            ) -> types.ReadResourceResult:
        result = await self._forward(self.downstream.read_resource(str(params.uri)))
        if not isinstance(result, types.ReadResourceResult):
            raise MCPError(types.INTERNAL_ERROR, "the downstream server asked for input; not supported by the proxy")
        return result

    async def list_prompts(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None,
                           ) -> types.ListPromptsResult:
        return await self._forward(self.downstream.list_prompts(params=params))

    async def get_prompt(self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams,
                         ) -> types.GetPromptResult:
        result = await self._forward(self.downstream.get_prompt(params.name, params.arguments))
        if not isinstance(result, types.GetPromptResult):
            raise MCPError(types.INTERNAL_ERROR, "the downstream server asked for input; not supported by the proxy")
        return result

    async def _forward(self, request: Coroutine[Any, Any, T]) -> T:
        """A pass-through request, bounded in time; a dead downstream is a protocol error."""
        if self._dead:
            request.close()
            raise MCPError(types.INTERNAL_ERROR, self._dead)
        try:
            with anyio.fail_after(self.rules.call_timeout):
                return await request
        except TimeoutError:
            raise MCPError(types.INTERNAL_ERROR, "the downstream MCP server did not answer in time") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
            self._dead = f"the downstream MCP server is gone ({type(exc).__name__})"
            raise MCPError(types.INTERNAL_ERROR, self._dead) from None

    # ------------------------------------------------------------ tools/call
    async def call_tool(self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams,
                        ) -> types.CallToolResult:
        name, arguments = params.name, dict(params.arguments or {})
        call_id = uuid.uuid4().hex
        decision = self.rules.decide(self.guard, self.server_name, name, arguments)
        mode = str(self.guard.policy.mode)
        enforce = mode == "enforce"
        try:
            self._record("call", self._call_record(call_id, decision, arguments, mode))
            from guardrail.audit import decision_data

            effective = str(decision.verdict) if enforce else "allow"
            self._record("decision", decision_data(decision.decision, call_id=call_id, mode=mode,
                                                   effective=effective))
        except Exception as exc:
            return refusal(decision, call_id, f"the audit trail cannot be written ({exc}); refused to be safe")
        if enforce and decision.verdict is Verdict.DENY:
            return refusal(decision, call_id, decision.decision.reason)
        if self._dead:
            return await self._call_downstream(name, arguments, call_id, decision)
        if enforce and decision.verdict is Verdict.ASK:
            approval = await self.approver.approve(ctx, decision, arguments, call_id)
            for answer in approval.answers:
                try:
                    from guardrail.audit import approval_data

                    self._record("approval", approval_data(answer, call_id=call_id))
                except Exception as exc:
                    return refusal(decision, call_id, f"the audit trail cannot be written ({exc}); refused")
            if not approval.allowed:
                return refusal(decision, call_id, f"{decision.decision.reason}; {approval.reason}")
        return await self._call_downstream(name, arguments, call_id, decision)

    async def _call_downstream(self, name: str, arguments: dict[str, Any], call_id: str,
                               decision: McpDecision) -> types.CallToolResult:
        start = time.monotonic()
        error: str | None = None
        result: types.CallToolResult
        if self._dead:
            error = self._dead
        else:
            try:
                with anyio.fail_after(self.rules.call_timeout):
                    got = await self.downstream.call_tool(name, arguments)
                if isinstance(got, types.CallToolResult):
                    result = got
                else:
                    error = "the downstream server answered with a result the proxy cannot pass on"
            except TimeoutError:
                error = f"the downstream MCP server did not answer within {self.rules.call_timeout:g} s"
            except MCPError as exc:
                if exc.code == types.CONNECTION_CLOSED:
                    self._dead = error = f"the downstream MCP server is gone ({exc.message})"
                else:
                    error = f"the downstream MCP server answered with an error: {exc.message}"
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
                self._dead = error = f"the downstream MCP server is gone ({type(exc).__name__})"
        if error is not None:
            result = error_result(f"{error} (call_id {call_id})",
                                  {"decision": "error", "rules": decision.decision.rules, "call_id": call_id})
        try:
            from guardrail.audit import result_data

            self._record("result", result_data(call_id=call_id, exit_status=1 if result.is_error else 0,
                                               duration=time.monotonic() - start, error=error))
        except Exception:  # the call ran; a lost result record must not hide its output
            pass
        return result

    # ------------------------------------------------------------ audit
    def _call_record(self, call_id: str, d: McpDecision, arguments: Mapping[str, Any], mode: str) -> dict[str, Any]:
        call = (call_to_dict(d.calls[0]) if len(d.calls) == 1
                else {"tool": "mcp", "server": self.server_name, "name": d.tool,
                      "calls": [call_to_dict(c) for c in d.calls]})
        return {"call_id": call_id, "session": self.guard.session, "mode": mode, "source": "mcp-proxy",
                "mcp": {"server": self.server_name, "tool": d.tool, "arguments": arguments}, "call": call}

    def _record(self, kind: str, data: dict[str, Any]) -> None:
        if self.audit:
            trail = self.guard.trail
            if trail is not None:
                trail.append(kind, data)


def describe_for_human(d: McpDecision, arguments: Mapping[str, Any]) -> str:
    """The text a human sees when asked: the tool, the parsed calls, the rule and the risk."""
    lines = [f"guardrail: the agent wants to call MCP tool {d.tool!r} of server {d.server or '?'}."]
    if d.calls:
        lines.append("It amounts to:")
        lines += [f"  {json.dumps(call_to_dict(c), ensure_ascii=False)[:500]}" for c in d.calls]
    else:
        lines.append(f"Arguments: {json.dumps(dict(arguments), ensure_ascii=False, default=str)[:500]}")
    rules = ", ".join(d.decision.rules) or "-"
    lines.append(f"Rule: {rules}; risk: {d.decision.risk}.")
    lines.append(f"Why: {d.decision.reason}")
    return "\n".join(lines)




async def run_proxy(command: list[str], guard: Any, *, server_name: str | None = None, audit: bool = True,
                    env: dict[str, str] | None = None, cwd: str | None = None) -> None:
    """Start the downstream server, then serve the agent on stdio until it hangs up."""
    import os
    import sys

    from mcp import StdioServerParameters, stdio_client
    from mcp.server.lowlevel.server import Server
    from mcp.server.stdio import stdio_server

    import guardrail

    rules = McpRules.from_policy(guard.policy)
    # the downstream sees the proxy's whole environment (the SDK would pass only a safe subset)
    params = StdioServerParameters(command=command[0], args=command[1:], env=env or dict(os.environ), cwd=cwd)
    async with stdio_client(params, errlog=sys.stderr) as (read, write), ClientSession(read, write) as downstream:
        with anyio.fail_after(rules.call_timeout):
            init = await downstream.initialize()
        name = server_name or init.server_info.name
        approver = McpApprover(guard, elicitation=rules.elicitation)
        proxy = McpProxy(guard, rules, downstream, name, approver, audit)
        server: Server[Any] = Server(f"guardrail-proxy:{name}", version=getattr(guardrail, "__version__", "0"),
                                     instructions=init.instructions, **handlers(proxy, init.capabilities))
        async with stdio_server() as (server_read, server_write):
            await server.run(server_read, server_write, server.create_initialization_options())


def handlers(proxy: McpProxy, caps: types.ServerCapabilities) -> dict[str, Any]:
    """The proxy's request handlers: tools always, resources and prompts when the downstream has them."""
    out: dict[str, Any] = {"on_list_tools": proxy.list_tools, "on_call_tool": proxy.call_tool}
    if caps.resources is not None:
        out.update(on_list_resources=proxy.list_resources, on_list_resource_templates=proxy.list_resource_templates,
                   on_read_resource=proxy.read_resource)
    if caps.prompts is not None:
        out.update(on_list_prompts=proxy.list_prompts, on_get_prompt=proxy.get_prompt)
    return out
