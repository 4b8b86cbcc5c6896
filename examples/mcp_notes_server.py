"""A small MCP server (the SDK's MCPServer) for the proxy example: notes in files."""

from __future__ import annotations

from pathlib import Path

from mcp.server.mcpserver import MCPServer

server = MCPServer("notes")


@server.tool()
def write_file(path: str, content: str) -> str:
    """Write a note."""
    Path(path).write_text(content, encoding="utf-8")
    return f"saved {path}"


@server.tool()
def read_file(path: str) -> str:
    """Read a note."""
    return Path(path).read_text(encoding="utf-8")


@server.tool()
def delete_all_notes() -> str:
    """Delete every note (the example policy hides and refuses it)."""
    return "would delete everything"


if __name__ == "__main__":
    server.run()
