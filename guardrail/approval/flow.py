"""The approval step of the pipeline: memory first, then a human, then remember.

`obtain_approval` never raises: an approver that fails, answers for another
call or says something unknown is a deny (fail closed).
"""

from __future__ import annotations

from dataclasses import replace

from guardrail.approval.base import ApprovalAnswer, ApprovalRequest, Approver
from guardrail.approval.session import SessionMemory, answer_matches, call_hash
from guardrail.calls import ToolCall
from guardrail.decision import Decision

ANSWERS = ("allow_once", "allow_session", "allow_always", "deny")


def make_request(call: ToolCall, decision: Decision, *, workspace: str, session: str) -> ApprovalRequest:
    """The request for one `ask`, bound to the hash of the normalised call."""
    return ApprovalRequest(call, decision, call_hash(call), session, workspace)


def _deny(req: ApprovalRequest, approver: str, message: str) -> ApprovalAnswer:
    return ApprovalAnswer("deny", req.call_hash, approver, "guardrail", message)


def obtain_approval(
    req: ApprovalRequest,
    approver: Approver,
    *,
    timeout: float,
    memory: SessionMemory | None = None,
    allow_session: bool = True,
    allow_always: bool = True,
    policy_base: str = "default",
) -> ApprovalAnswer:
    """Answer an `ask`: a one-time grant, a session grant, else the approver."""
    if memory is not None:
        try:
            if memory.consume_once(req.call_hash):
                return ApprovalAnswer("allow_once", req.call_hash, "grant", "", "a one-time grant for this exact call")
            if allow_session and memory.covers(req.call, req.decision):
                return ApprovalAnswer("allow_session", req.call_hash, "session", "", "allowed earlier in this session")
        except OSError:
            pass  # unreadable memory: ask instead
    name = getattr(approver, "name", type(approver).__name__)
    try:
        answer = approver.request(req, timeout)
    except Exception as exc:  # fail closed, whatever the approver did
        return _deny(req, name, f"the {name} approver failed: {exc}")
    if not isinstance(answer, ApprovalAnswer) or answer.answer not in ANSWERS:
        return _deny(req, name, f"the {name} approver gave no valid answer")
    if not answer_matches(req.call_hash, answer.call_hash):
        return _deny(req, name, "the answer was given for a different call (call hash mismatch)")
    if answer.answer == "allow_session" and not allow_session:
        answer = replace(answer, answer="allow_once")
    if answer.answer == "allow_always" and not allow_always:
        answer = replace(answer, answer="allow_once")
    return remember(req, answer, memory=memory, policy_base=policy_base)


def remember(
    req: ApprovalRequest, answer: ApprovalAnswer, *, memory: SessionMemory | None, policy_base: str = "default"
) -> ApprovalAnswer:
    """Keep a session answer; write the rule of an "always" answer (unless the approver did)."""
    try:
        if answer.answer == "allow_session" and memory is not None:
            memory.allow_for_session(req.call, req.decision, who=answer.who)
        elif answer.answer == "allow_always" and "rules" not in answer.extra:
            from guardrail.approval.rules import NotNarrow, rules_for_request, write_rules

            try:
                rules = rules_for_request(req)
            except NotNarrow as exc:
                extra = {**answer.extra, "note": f"allowed once: no narrow rule possible ({exc})"}
                return replace(answer, answer="allow_once", extra=extra)
            write_rules(req.workspace, rules, base=policy_base)
            return replace(answer, extra={**answer.extra, "rules": ",".join(r["id"] for r in rules)})
    except (OSError, ValueError) as exc:
        extra = {**answer.extra, "note": f"allowed once: could not remember the answer ({exc})"}
        return replace(answer, answer="allow_once", extra=extra)
    return answer


def denial_reason(answer: ApprovalAnswer) -> str:
    """What the agent is told when a human (or no human) said no."""
    if answer.approver in ("auto",) or answer.who == "guardrail":
        return f"denied: {answer.message}"
    who = f" ({answer.who})" if answer.who else ""
    text = f"denied by a human via {answer.approver}{who}"
    return f"{text}: {answer.message}" if answer.message else text
