"""`guardrail mcp serve`: guardrail's own tools as an MCP server.

An agent that speaks MCP gets a shell, files, SQL and HTTP whose every call
goes through `Guard.run`: checked by the policy, asked about (the policy's
approver), run in the sandbox (shell) or by the tool executors (the rest),
and written to the audit trail. A refused call is a tool result with
`isError: true`, the reason and rule in its text and `structuredContent`
{decision, rules, call_id}. Served on stdio or streamable HTTP.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from mcp import MCPError
from mcp.server.context import ServerRequestContext

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}


def _schema(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]
    to_call: Callable[[Mapping[str, Any]], dict[str, Any]]
    read_only: bool = False


def _opt(args: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: args[name] for name in names if args.get(name) is not None}


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec("shell", "Run a shell command in the workspace (sandboxed); returns exit code, stdout and stderr.",
             _schema(["command"], command={**_STR, "description": "The command line (sh syntax)."},
                     cwd={**_STR, "description": "Directory to run in, relative to the workspace."},
                     timeout={"type": "number", "exclusiveMinimum": 0, "description": "Seconds."}),
             lambda a: {"tool": "shell", "command": a.get("command"), **_opt(a, "cwd")}),
    ToolSpec("read_file", "Read a text file (optionally a window of lines).",
             _schema(["path"], path=_STR, offset={**_INT, "description": "First line (0-based)."},
                     limit={**_INT, "description": "Number of lines."}),
             lambda a: {"tool": "file", "op": "read", "path": a.get("path"), **_opt(a, "offset", "limit")}, True),
    ToolSpec("write_file", "Write (create or replace) a file with the given content.",
             _schema(["path", "content"], path=_STR, content=_STR),
             lambda a: {"tool": "file", "op": "write", "path": a.get("path"), "content": a.get("content")}),
    ToolSpec("edit_file", "Replace the exact text `old` by `new` in a file (`old` must occur once).",
             _schema(["path", "old", "new"], path=_STR, old=_STR, new=_STR),
             lambda a: {"tool": "file", "op": "edit", "path": a.get("path"), "old": a.get("old"),
                        "new": a.get("new")}),
    ToolSpec("list_dir", "List a directory.", _schema(["path"], path=_STR),
             lambda a: {"tool": "file", "op": "list", "path": a.get("path")}, True),
    ToolSpec("sql", "Run a SQL query on a database the policy names (databases:).",
             _schema(["query"], query=_STR, database={**_STR, "description": "Name in the policy's databases:."},
                     dialect={"type": "string", "enum": ["postgres", "sqlite", "mysql"]}),
             lambda a: {"tool": "db", "query": a.get("query"), **_opt(a, "database", "dialect")}),
    ToolSpec("http_request", "Make an HTTP request.",
             _schema(["url"], url=_STR, method={**_STR, "description": "Default GET."},
                     headers={"type": "object", "additionalProperties": _STR}, body=_STR),
             lambda a: {"tool": "http", "url": a.get("url"), "method": a.get("method") or "GET",
                        **_opt(a, "headers", "body")}),
)


def tool_list() -> list[types.Tool]:
    return [types.Tool(name=t.name, description=t.description, input_schema=t.input_schema,
                       annotations=types.ToolAnnotations(read_only_hint=t.read_only))
            for t in TOOLS]


def result_of(run: Any, *, shell: bool = False) -> types.CallToolResult:
    """A `RunResult` as an MCP tool result."""
    rules = list(run.decision.rules)
    if not run.ran:
        text = f"guardrail refused the call: {run.reason}" + (f" [rule: {', '.join(rules)}]" if rules else "")
        return types.CallToolResult(content=[types.TextContent(type="text", text=f"{text} (call_id {run.call_id})")],
                                    structured_content={"decision": "deny", "rules": rules,
                                                        "call_id": run.call_id, "reason": run.reason},
                                    is_error=True)
    result = run.to_dict()["result"]
    structured = {"decision": str(run.decision.verdict), "rules": rules, "call_id": run.call_id, **result}
    if run.approval is not None:
        structured["approval"] = run.approval.answer
    if run.error:
        text = f"error: {run.error}"
    elif shell:
        text = _shell_text(result)
    elif isinstance(run.output, dict) and isinstance(run.output.get("content"), str):
        text = run.output["content"]
    else:
        text = run.output if isinstance(run.output, str) else json.dumps(run.output, ensure_ascii=False, default=str)
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                structured_content=structured, is_error=bool(run.error))


def _shell_text(result: Mapping[str, Any]) -> str:
    parts = [str(result["stdout"])]
    if result["stderr"]:
        parts.append(f"[stderr]\n{result['stderr']}")
    parts.append(f"[exit code {result['exit_code']}]" + (" [timed out]" if result["timed_out"] else ""))
    return "\n".join(p for p in parts if p)


@dataclass
class GuardrailTools:
    """The handlers: each call goes through `Guard.run` in a worker thread."""

    guard: Any
    lock: anyio.Lock | None = None  # one call at a time: Guard and its sandbox are not thread-safe

    async def list_tools(self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None,
                         ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams,
                        ) -> types.CallToolResult:
        spec = next((t for t in TOOLS if t.name == params.name), None)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name!r}: one of {', '.join(t.name for t in TOOLS)}")
        args = dict(params.arguments or {})
        call = spec.to_call(args)
        timeout = args.get("timeout") if spec.name == "shell" else None
        if self.lock is None:
            self.lock = anyio.Lock()
        async with self.lock:
            run = await anyio.to_thread.run_sync(lambda: self.guard.run(
                call, timeout=float(timeout) if isinstance(timeout, int | float) else None))
        return result_of(run, shell=spec.name == "shell")


def make_server(guard: Any) -> Any:
    from mcp.server.lowlevel.server import Server

    import guardrail

    tools = GuardrailTools(guard)
    return Server("guardrail", version=getattr(guardrail, "__version__", "0"),
                  instructions="guardrail's tools: every call is checked by a policy, may need a human's approval, "
                  "and runs sandboxed. A refused call says why and which rule; adapt instead of retrying.",
                  on_list_tools=tools.list_tools, on_call_tool=tools.call_tool)


def serve(guard: Any, *, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8848,
          announce: Callable[[str], None] = print, stop: threading.Event | None = None) -> None:
    """Serve until the client hangs up (stdio) or the process is interrupted / `stop` is set (HTTP)."""
    server = make_server(guard)
    try:
        if transport == "stdio":
            anyio.run(_serve_stdio, server)
        else:
            anyio.run(_serve_http, server, host, port, announce, stop)
    finally:
        guard.close()


async def _serve_stdio(server: Any) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def _serve_http(server: Any, host: str, port: int, announce: Callable[[str], None],
                      stop: threading.Event | None) -> None:
    import uvicorn

    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    web = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(web.serve)
        while not web.started:  # uvicorn offers no startup event; poll its flag
            if web.should_exit:
                return
            await anyio.sleep(0.02)
        sock = web.servers[0].sockets[0].getsockname()
        announce(f"guardrail mcp serve: listening on http://{host}:{sock[1]}/mcp")
        if stop is not None:
            await anyio.to_thread.run_sync(stop.wait, abandon_on_cancel=True)
            web.should_exit = True
