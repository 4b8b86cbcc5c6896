"""`guardrail check`: decide tool calls read as JSON Lines, one decision per line.

Agent hooks run this once per action in a fresh process, so `fast_main`
parses its own few options and imports nothing heavy (no typer, no rich);
`check_command` is the same command as typer shows it in `--help`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

USAGE = "usage: guardrail check [--policy P] [--workspace DIR] [FILE]"


def _parse(argv: list[str]) -> dict[str, str | None] | str:
    opts: dict[str, str | None] = {"policy": None, "workspace": None, "file": None}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            return "help"
        name, eq, value = arg.partition("=")
        if name in ("--policy", "-p", "--workspace", "-w"):
            if not eq:
                if i + 1 >= len(argv):
                    return f"{name} needs a value"
                value = argv[i + 1]
                i += 1
            opts["policy" if name in ("--policy", "-p") else "workspace"] = value
        elif arg.startswith("-") and arg != "-":
            return f"unknown option {arg!r}"
        elif opts["file"] is None:
            opts["file"] = arg
        else:
            return f"unexpected argument {arg!r}"
        i += 1
    return opts


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    for raw in stream:
        line = raw.rstrip(b"\r\n")
        if line.strip():
            yield line


def decide_lines(guard: Any, lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """One decision per non-blank input line, in order; a bad line is a deny.

    Lines are decided in a forked worker, so that even a crash of the native
    parser is a deny for that line, not the end of the batch.
    """
    from guardrail.cli.isolation import decide_isolated
    from guardrail.decision import Decision

    def crashed() -> dict[str, Any]:
        return Decision.deny("internal error: the checker crashed on this call; denied to be safe",
                             rule_id="internal-error").to_dict()

    yield from decide_isolated(lines, lambda line: guard.check(line).to_dict(), crashed)


def run_check(policy: str | None, workspace: str | None, file: str | None, out: IO[str]) -> int:
    from guardrail.errors import PolicyError
    from guardrail.pipeline import Guard

    try:
        guard = Guard.from_policy(policy, workspace=workspace)
    except PolicyError as exc:
        print(f"guardrail check: invalid policy: {exc}", file=sys.stderr)
        return 2
    try:
        stream: IO[bytes] = sys.stdin.buffer if file in (None, "-") else open(file, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"guardrail check: cannot read {file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        for result in decide_lines(guard, _lines(stream)):
            out.write(json.dumps(result) + "\n")
            out.flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return 0


def fast_main(argv: list[str]) -> int:
    opts = _parse(argv)
    if opts == "help":
        print(USAGE + "\n\nReads tool calls as JSON Lines from FILE or standard input and writes one\n"
              'decision per line: {"decision", "risk", "rules", "reason"}. Exit 0 when every\n'
              "line was decided, 2 on a usage error or an invalid policy.")
        return 0
    if isinstance(opts, str):
        print(f"guardrail check: {opts}\n{USAGE}", file=sys.stderr)
        return 2
    return run_check(opts["policy"], opts["workspace"], opts["file"], sys.stdout)


def check_command(
    file: str = "-",
    policy: str = "default",
) -> None:
    """Decide tool calls (JSON Lines from FILE or stdin), one JSON decision per line."""
    raise SystemExit(run_check(policy, None, file, sys.stdout))
