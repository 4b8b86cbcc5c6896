"""`guardrail mcp proxy|serve` with a scripted approver, for tests: a real stdio process.

    python -m tests.adapters.servers.scripted WORKSPACE ANSWERS proxy -- SERVER_CMD...
    python -m tests.adapters.servers.scripted WORKSPACE ANSWERS serve

GUARDRAIL_TEST_POLICY names the policy (default: default). ANSWERS is a comma-separated list of allow_once/allow_session/deny (or "-"),
given in order by a StaticApprover; the requests it saw are appended as JSON
lines to WORKSPACE/approver.log.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio

from guardrail.approval.base import ApprovalAnswer, ApprovalRequest
from guardrail.approval.static import StaticApprover
from guardrail.calls import call_to_dict
from guardrail.pipeline import Guard


class LoggingApprover(StaticApprover):
    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        with open(Path(req.workspace) / "approver.log", "a", encoding="utf-8") as f:
            f.write(json.dumps({"call": call_to_dict(req.call), "rules": req.decision.rules}) + "\n")
        return super().request(req, timeout)


def main(argv: list[str]) -> None:
    workspace, answers, mode, *rest = argv
    scripted: list[Any] = [a for a in answers.split(",") if a and a != "-"]
    guard = Guard.from_policy(os.environ.get("GUARDRAIL_TEST_POLICY"), workspace=workspace, approver=LoggingApprover(scripted), no_sandbox=True)
    if mode == "proxy":
        from guardrail.adapters.mcp_proxy import run_proxy

        command = rest[1:] if rest and rest[0] == "--" else rest
        anyio.run(lambda: run_proxy(command, guard))
    else:
        from guardrail.adapters.mcp_server import serve

        serve(guard)


if __name__ == "__main__":
    main(sys.argv[1:])
