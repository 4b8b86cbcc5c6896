"""The `guardrail` command.

`main` keeps the hot paths cheap: `guardrail check` (run once per agent
action by hooks) and `guardrail hook` are dispatched without importing typer
or rich; everything else goes through the typer app in `guardrail.cli.app`.

Exit codes, everywhere: 0 ok, 1 denied or findings, 2 usage error or invalid
policy, 3 internal error, 126 a command refused by `guardrail run`,
130 interrupted.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_REFUSED = 126
EXIT_INTERRUPTED = 130

# Commands with a typer-free fast path: name -> "module:function(argv) -> int".
FAST_PATHS: dict[str, str] = {
    "check": "guardrail.cli.check:fast_main",
    "hook": "guardrail.cli.hook:fast_main",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] in FAST_PATHS:
            module_name, func_name = FAST_PATHS[args[0]].split(":")
            import importlib

            func = getattr(importlib.import_module(module_name), func_name)
            return int(func(args[1:]))
        from guardrail.cli.app import run_app

        return run_app(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
