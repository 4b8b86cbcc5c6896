"""Approval: how an `ask` reaches a human, and what is remembered of the answer.

`make_approver(config)` builds the approver the policy names (registry
below; modules are imported only when chosen, so the check path stays
cheap). `flow.obtain_approval` is the step the pipeline calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrail.approval.base import Answer, ApprovalAnswer, ApprovalRequest, Approver

if TYPE_CHECKING:
    from guardrail.approval.config import ApprovalConfig

# approver name -> "module:class"; every class takes (config, workspace)
APPROVERS: dict[str, str] = {
    "terminal": "guardrail.approval.terminal:TerminalApprover",
    "web": "guardrail.approval.web:WebApprover",
    "webhook": "guardrail.approval.webhook:WebhookApprover",
    "auto": "guardrail.approval.auto:AutoApprover",
}


def make_approver(
    config: ApprovalConfig | None = None, *, workspace: str = ".", name: str | None = None
) -> Approver:
    """The approver `name` (default: the config's, else terminal on a TTY, else auto)."""
    import importlib

    from guardrail.approval.config import ApprovalConfig

    config = config or ApprovalConfig()
    chosen = name or config.resolved_approver()
    if chosen not in APPROVERS:
        from guardrail.errors import ApprovalError

        raise ApprovalError(f"unknown approver {chosen!r}: one of {', '.join(APPROVERS)}")
    module_name, class_name = APPROVERS[chosen].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if chosen == "auto":
        return cls()  # type: ignore[no-any-return]
    return cls(config, workspace)  # type: ignore[no-any-return]


__all__ = ["APPROVERS", "Answer", "ApprovalAnswer", "ApprovalRequest", "Approver", "make_approver"]
