"""An MCP client talking to a server through `guardrail mcp proxy`.

    python examples/mcp_proxy.py

The downstream is examples/mcp_notes_server.py. The proxy decides each
tools/call with the default policy plus a name rule, so writing a note in the
workspace works, writing /etc/passwd is refused with the rule, and
`delete_all_notes` is not even listed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

HERE = Path(__file__).resolve().parent
POLICY = """version: 1
extends: default
mcp:
  tools:
    - {tool: "delete_*", decision: deny, reason: "deleting notes needs a human"}
"""


async def run(ws: Path) -> None:
    (ws / "policy.yaml").write_text(POLICY)
    server = [sys.executable, str(HERE / "mcp_notes_server.py")]
    params = StdioServerParameters(command=sys.executable, args=[
        "-m", "guardrail", "mcp", "proxy", "--policy", str(ws / "policy.yaml"), "--workspace", str(ws), "--",
        *server], cwd=str(ws))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        print("tools:", [t.name for t in (await session.list_tools()).tools])
        for name, args in [("write_file", {"path": str(ws / "todo.md"), "content": "- ship it\n"}),
                           ("read_file", {"path": str(ws / "todo.md")}),
                           ("write_file", {"path": "/etc/passwd", "content": "x"}),
                           ("delete_all_notes", {})]:
            result = await session.call_tool(name, args)
            text = " ".join(getattr(c, "text", "") for c in result.content).strip()
            print(f"{name:18} {'ERROR' if result.is_error else 'ok':5} {text[:110]}")


def main() -> int:
    with tempfile.TemporaryDirectory() as ws:
        anyio.run(run, Path(ws))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
