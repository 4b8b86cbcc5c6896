"""A demo agent session through guardrail: each call, its decision, and why.

Run with `bash scripts/demo.sh`. The session is examples/agent_session.jsonl;
the workspace is a throwaway project made here.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from guardrail.pipeline import Guard

STYLE = {"allow": "green", "ask": "yellow", "deny": "bold red"}


def describe(call: dict[str, object]) -> str:
    tool = call.get("tool")
    if tool == "shell":
        return str(call["command"])
    if tool == "file":
        return f"file {call['op']} {call['path']}"
    if tool == "db":
        return f"sql: {call['query']}"
    return f"http {call.get('method', 'GET')} {call['url']}"


def main(session: Path) -> int:
    with tempfile.TemporaryDirectory(dir=Path.home()) as tmp:
        ws = Path(tmp) / "project"
        (ws / "src").mkdir(parents=True)
        (ws / "README.md").write_text("# demo project\n")
        (ws / ".env").write_text("API_TOKEN=example\n")
        guard = Guard.from_policy("default", workspace=ws)
        table = Table(title=f"agent session through guardrail (workspace {ws})", show_lines=True)
        table.add_column("#", justify="right")
        table.add_column("call")
        table.add_column("decision")
        table.add_column("why")
        counts = {"allow": 0, "ask": 0, "deny": 0}
        for n, line in enumerate(session.read_text().splitlines(), 1):
            call = json.loads(line)
            decision = guard.check(call)
            verdict = str(decision.verdict)
            counts[verdict] += 1
            table.add_row(str(n), describe(call), f"[{STYLE[verdict]}]{verdict}[/]", decision.reason)
        console = Console()
        console.print(table)
        console.print(f"{counts['allow']} allowed, {counts['ask']} would ask a human, {counts['deny']} denied")
    return 0


if __name__ == "__main__":
    default = Path(__file__).with_name("agent_session.jsonl")
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
