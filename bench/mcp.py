"""What guardrail adds to an MCP tools/call, and what a hook process costs.

    python bench/mcp.py [--n 300] [--hook-runs 20]

1. A real SDK `ClientSession` calls a downstream MCP server (the toy server
   of tests/adapters/servers, the SDK's MCPServer) over stdio, directly and
   through `guardrail mcp proxy`, N times each after a warm-up, for:
   - `run_command` (mapped to a shell call: parsed and decided by the policy),
   - `echo` (unmapped, allowed by a tool-name rule);
   the proxy both with the audit trail (three fsync'd records a call) and
   with --no-audit. Prints median and p95 per call, the added milliseconds
   at the median and the ratio. Target (issue 7): under 5 ms added at the
   median for an allowed call.
2. `guardrail hook claude-code` as Claude Code runs it: one process per tool
   call, a Bash payload on stdin; median (and p95) of the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is named like the SDK: keep its folder off the import path so `import mcp` finds the SDK.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import anyio  # noqa: E402
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TOY = [sys.executable, "-m", "tests.adapters.servers.toy_server"]
POLICY = "version: 1\nextends: default\nmcp:\n  tools:\n    - {tool: echo, decision: allow}\n"
CALLS = {"run_command": {"command": "ls -la src"}, "echo": {"text": "hello"}}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _timings(args: list[str], n: int, ws: Path) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(command=args[0], args=args[1:], cwd=str(REPO), env=env)
    out: dict[str, list[float]] = {}
    with open(ws / "stderr.log", "a", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            await s.list_tools()
            for name, arguments in CALLS.items():
                for _ in range(20):  # warm-up
                    await s.call_tool(name, arguments)
                times = []
                for _ in range(n):
                    start = time.perf_counter()
                    result = await s.call_tool(name, arguments)
                    times.append((time.perf_counter() - start) * 1000)
                    assert not result.is_error, result
                out[name] = times
    return out


def bench_proxy(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        (ws / "src").mkdir()
        policy = ws / "policy.yaml"
        policy.write_text(POLICY)
        proxy = [sys.executable, "-m", "guardrail", "mcp", "proxy", "--policy", str(policy), "--workspace", str(ws)]
        runs = {
            "direct": anyio.run(_timings, TOY, n, ws),
            "proxy": anyio.run(_timings, [*proxy, "--", *TOY], n, ws),
            "proxy --no-audit": anyio.run(_timings, [*proxy, "--no-audit", "--", *TOY], n, ws),
        }
    print(f"MCP tools/call over stdio, n={n} per row (ms)")
    print(f"{'tool':12} {'path':18} {'median':>8} {'p95':>8} {'added@median':>13} {'ratio':>6}")
    for tool in CALLS:
        base = statistics.median(runs["direct"][tool])
        for path, data in runs.items():
            med = statistics.median(data[tool])
            print(f"{tool:12} {path:18} {med:8.3f} {_pct(data[tool], 95):8.3f} {med - base:13.3f} {med / base:6.2f}")


def bench_hook(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        payload = json.dumps({"session_id": "bench", "cwd": tmp, "hook_event_name": "PreToolUse",
                              "tool_name": "Bash", "tool_input": {"command": "git status && ls -la src"}}).encode()
        commands = {"python -m guardrail hook": [sys.executable, "-m", "guardrail", "hook", "claude-code"]}
        script = Path(sys.executable).with_name("guardrail")
        if script.exists():
            commands["guardrail hook (console script)"] = [str(script), "hook", "claude-code"]
        baseline = [sys.executable, "-c", "pass"]
        print(f"\n`guardrail hook claude-code`, one process per call, {runs} runs (ms)")
        print(f"{'command':34} {'median':>8} {'p95':>8}")
        for label, cmd in {"python -c pass (interpreter start)": baseline, **commands}.items():
            for _ in range(2):  # warm the page cache and the policy cache
                subprocess.run(cmd, input=payload, capture_output=True, cwd=tmp, check=True)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                proc = subprocess.run(cmd, input=payload, capture_output=True, cwd=tmp, check=True)
                times.append((time.perf_counter() - start) * 1000)
                if cmd is not baseline:
                    assert b'"permissionDecision"' in proc.stdout, proc.stdout
            print(f"{label:34} {statistics.median(times):8.1f} {_pct(times, 95):8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=300, help="tools/call per row")
    parser.add_argument("--hook-runs", type=int, default=20, help="hook processes to time")
    args = parser.parse_args(argv)
    bench_proxy(args.n)
    bench_hook(args.hook_runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
