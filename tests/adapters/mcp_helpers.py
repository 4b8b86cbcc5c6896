"""Opening a real SDK `ClientSession` on a guardrail MCP process over stdio."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client

REPO = Path(__file__).resolve().parents[2]
TOY = [sys.executable, "-m", "tests.adapters.servers.toy_server"]


def proxy_args(ws: Path, server: list[str], *, policy: Path | None = None, audit: bool = True) -> list[str]:
    args = ["-m", "guardrail", "mcp", "proxy", "--workspace", str(ws)]
    if policy is not None:
        args += ["--policy", str(policy)]
    if not audit:
        args.append("--no-audit")
    return [*args, "--", *server]


@asynccontextmanager
async def session(args: list[str], ws: Path, *, elicitation: Callable[..., Awaitable[Any]] | None = None,
                  env: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    """A client session on `python ARGS` (cwd: the repository), its stderr kept in ws/stderr.log."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("CI",)}
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    params = StdioServerParameters(command=sys.executable, args=args, cwd=str(REPO), env=full_env)
    with open(ws.parent / "stderr.log", "a", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), \
                ClientSession(read, write, elicitation_callback=elicitation, read_timeout_seconds=120) as s:
            await s.initialize()
            yield s


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)
