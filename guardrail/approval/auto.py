"""Deny everything: the approver for CI and for agents with no human nearby."""

from __future__ import annotations

from guardrail.approval.base import ApprovalAnswer, ApprovalRequest

AUTO_MESSAGE = (
    "no human can be asked here (approval: auto): allow the call in the policy, "
    "or run with a terminal, web or webhook approver"
)


class AutoApprover:
    name = "auto"

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        return ApprovalAnswer("deny", req.call_hash, self.name, "auto", AUTO_MESSAGE)
