"""`guardrail hook AGENT`: answer one agent pre-tool hook call (JSON on stdin).

Agents start this once per tool call, so `fast_main` parses its own options
and imports no typer or rich (it is in `FAST_PATHS`). It exits 0 with the
decision in the agent's JSON, a deny on any failure; 2 (which Claude Code and
Cursor treat as "block") only on a usage error or when stdout is unwritable.
Never another status: agents let the call through on those.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

USAGE = "usage: guardrail hook {claude-code,cursor} [--policy P] [--workspace DIR] [--no-audit]"
EXIT_BLOCK = 2


def _parse(argv: list[str]) -> dict[str, Any] | str:
    opts: dict[str, Any] = {"agent": None, "policy": os.environ.get("GUARDRAIL_POLICY") or None,
                            "workspace": None, "audit": True}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if arg in ("-h", "--help"):
            return "help"
        if arg == "--no-audit":
            opts["audit"] = False
        elif name in ("--policy", "-p", "--workspace", "-w"):
            if not eq:
                if i + 1 >= len(argv):
                    return f"{name} needs a value"
                i += 1
                value = argv[i]
            opts["policy" if name in ("--policy", "-p") else "workspace"] = value
        elif arg.startswith("-"):
            return f"unknown option {arg!r}"
        elif opts["agent"] is None:
            opts["agent"] = arg
        else:
            return f"unexpected argument {arg!r}"
        i += 1
    return opts


def fast_main(argv: list[str]) -> int:
    try:
        return _main(argv)
    except BaseException as exc:  # whatever happens, block rather than let the call through
        try:
            print(f"guardrail hook: internal error ({type(exc).__name__}: {exc}); blocking", file=sys.stderr)
        finally:
            return EXIT_BLOCK  # noqa: B012


def _main(argv: list[str]) -> int:
    from guardrail.adapters.hooks import AGENTS

    opts = _parse(argv)
    if opts == "help":
        print(USAGE + "\n\nReads one pre-tool hook payload of AGENT on stdin and writes guardrail's\n"
              "decision in the agent's JSON format. Exit 0 (a deny on any failure); 2 on a usage\n"
              "error. GUARDRAIL_POLICY names the policy when --policy is not given.")
        return 0
    if isinstance(opts, str) or opts["agent"] not in AGENTS:
        problem = opts if isinstance(opts, str) else f"unknown agent {opts['agent']!r}: one of {', '.join(AGENTS)}"
        print(f"guardrail hook: {problem}\n{USAGE}", file=sys.stderr)
        return EXIT_BLOCK
    from guardrail.adapters.hooks.base import load_agent, run_hook

    agent = load_agent(opts["agent"])
    try:
        data = sys.stdin.buffer.read()
    except (OSError, ValueError) as exc:
        answer = agent.render_error(f"guardrail: cannot read the hook input ({exc}); denied to be safe")
    else:
        from guardrail.cli.isolation import in_child

        # decided in a forked child: even a crash of the native parser is a deny, not a signal status
        decided = in_child(lambda: json.dumps(run_hook(
            agent, data, policy=opts["policy"], workspace=opts["workspace"], audit=opts["audit"],
        )).encode())
        if decided is None:
            answer = agent.render_error("guardrail: the checker crashed on this call; denied to be safe")
        else:
            answer = json.loads(decided)
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


def hook_command(agent: str, policy: str = "", workspace: str = "", no_audit: bool = False) -> None:
    """Answer an agent's pre-tool hook (claude-code, cursor): payload on stdin, decision as JSON."""
    argv = [agent] + (["--policy", policy] if policy else []) + (["--workspace", workspace] if workspace else [])
    raise SystemExit(fast_main(argv + (["--no-audit"] if no_audit else [])))
