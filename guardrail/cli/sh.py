"""The `guardrail-sh` console script: `sh -c` for agents, checked and sandboxed.

See guardrail/adapters/shell.py. Exit status: the command's own; 126 when
guardrail refused it; 2 on a usage error or an invalid policy.
"""

from __future__ import annotations

import os
import sys

USAGE = "usage: guardrail-sh [--policy P] [--workspace DIR] [--no-sandbox] [-eux] [-o pipefail] -c COMMAND [NAME [ARG...]]"


def _stdin(mode: str) -> bytes | None:
    """Standard input for the command: all of it unless it is a terminal (or GUARDRAIL_SH_STDIN=none)."""
    if mode == "none":
        return None
    try:
        if os.isatty(0):
            return None
        return sys.stdin.buffer.read()
    except (OSError, ValueError):  # closed or absent
        return None


def main(argv: list[str] | None = None) -> int:
    from guardrail.adapters.shell import EXIT_USAGE, UsageError, parse_args, run

    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        inv = parse_args(args)
    except UsageError as exc:
        print(f"guardrail-sh: {exc}\n{USAGE}", file=sys.stderr)
        return EXIT_USAGE
    if inv.command is None and inv.script is None:
        if os.isatty(0):
            print("guardrail-sh: no interactive mode: give a command with -c\n" + USAGE, file=sys.stderr)
            return EXIT_USAGE
        inv.command = sys.stdin.buffer.read().decode("utf-8", "replace")  # `sh < script`
        stdin = None
    else:
        stdin = _stdin(os.environ.get("GUARDRAIL_SH_STDIN", "auto"))
    try:
        return run(inv, stdin=stdin)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
