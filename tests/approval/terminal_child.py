"""Run the terminal approver once (spawned by test_terminal.py in a pseudo-terminal).

usage: terminal_child.py WORKSPACE TIMEOUT RESULT_JSON KIND   (KIND: shell | file)
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import file_decision, request_for, shell_decision  # type: ignore[import-not-found]

from guardrail.approval.terminal import TerminalApprover


def main() -> None:
    workspace, timeout, result, kind = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    if kind == "file":
        call, decision = file_decision(str(Path(workspace) / "app.cfg"))
    else:
        call, decision = shell_decision("pip install requests")
    answer = TerminalApprover(workspace=workspace).request(request_for(call, decision, Path(workspace)), timeout)
    Path(result).write_text(json.dumps(asdict(answer)))


if __name__ == "__main__":
    main()
