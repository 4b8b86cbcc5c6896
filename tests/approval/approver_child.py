"""Run one approver once, in a process of its own (the way a hook would).

usage: approver_child.py WORKSPACE TIMEOUT RESULT_JSON KIND [APPROVER]
KIND: shell | file; APPROVER: terminal (default), web, webhook, ...
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import file_decision, request_for, shell_decision  # type: ignore[import-not-found]

from guardrail.approval import make_approver
from guardrail.approval.config import ApprovalConfig


def main() -> None:
    workspace, timeout, result, kind = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    if kind == "file":
        call, decision = file_decision(str(Path(workspace) / "app.cfg"))
    else:
        call, decision = shell_decision("pip install requests")
    name = sys.argv[5] if len(sys.argv) > 5 else "terminal"
    config = ApprovalConfig.model_validate(json.loads(sys.argv[6])) if len(sys.argv) > 6 else ApprovalConfig()
    approver = make_approver(config, workspace=workspace, name=name)
    answer = approver.request(request_for(call, decision, Path(workspace)), timeout)
    Path(result).write_text(json.dumps(asdict(answer)))


if __name__ == "__main__":
    main()
