"""The approval interface: how an `ask` reaches a human."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from guardrail.calls import ToolCall
from guardrail.decision import Decision

Answer = Literal["allow_once", "allow_session", "allow_always", "deny"]


@dataclass(frozen=True)
class ApprovalRequest:
    call: ToolCall
    decision: Decision
    call_hash: str  # SHA-256 of the normalised call; an answer is bound to it
    session: str
    workspace: str


@dataclass(frozen=True)
class ApprovalAnswer:
    answer: Answer
    call_hash: str
    approver: str  # "terminal", "web", "webhook", "auto", "static", ...
    who: str = ""
    message: str = ""  # a human's words for the agent
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.answer != "deny"


class Approver(Protocol):
    name: str

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        """Ask a human; a timeout or any failure must come back as a deny."""
        ...
