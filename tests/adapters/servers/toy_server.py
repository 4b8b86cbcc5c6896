"""A downstream MCP server for the proxy tests, written with the SDK's MCPServer (FastMCP in mcp 1).

Its tools only describe what they were asked to do (they touch nothing), so a
test sees exactly what reached the downstream.
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("toy-server", instructions="A toy server for guardrail's tests.")
LOG = os.environ.get("TOY_SERVER_LOG")


def _log(line: str) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(line + "\n")


@server.tool()
def echo(text: str) -> str:
    """Return the text."""
    _log(f"echo {text}")
    return text


@server.tool()
def write_file(path: str, content: str) -> str:
    """Pretend to write a file (mapped to a guardrail file write)."""
    _log(f"write_file {path}")
    return f"wrote {len(content)} bytes to {path}"


@server.tool()
def run_command(command: str) -> dict[str, object]:
    """Pretend to run a command (mapped to a guardrail shell call); structured output."""
    _log(f"run_command {command}")
    return {"command": command, "exit_code": 0}


@server.tool()
def frobnicate(level: int = 1) -> str:
    """A tool no mapping knows."""
    _log(f"frobnicate {level}")
    return f"frobnicated at {level}"


@server.tool()
def nuke_everything() -> str:
    """A tool the test policy denies by name."""
    _log("nuke_everything")
    return "boom"


@server.tool()
def hang(seconds: float = 3600) -> str:
    """Never answers in time (the proxy must give up)."""
    _log("hang")
    time.sleep(seconds)
    return "late"


@server.tool()
def crash() -> str:
    """Dies mid-call, like a downstream that crashes."""
    _log("crash")
    sys.stdout.flush()
    os._exit(3)


@server.resource("toy://readme")
def readme() -> str:
    """A resource passed through by the proxy."""
    return "toy readme"


@server.prompt()
def greet(name: str) -> str:
    """A prompt passed through by the proxy."""
    return f"Hello {name}"


if __name__ == "__main__":
    server.run()
