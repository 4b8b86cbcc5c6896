"""Scripted answers, for tests and for replaying a decision without a human."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from guardrail.approval.base import Answer, ApprovalAnswer, ApprovalRequest

Scripted = Answer | tuple[Answer, str] | ApprovalAnswer


@dataclass
class StaticApprover:
    """Gives the scripted answers in order, then denies; remembers every request.

    A scripted `ApprovalAnswer` is returned as it is (with its own call hash),
    which lets tests check that the pipeline refuses an answer bound to
    another call.
    """

    answers: Iterable[Scripted] = ()
    who: str = "static"
    name: str = "static"
    requests: list[ApprovalRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[Scripted] = deque(self.answers)

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        self.requests.append(req)
        if not self._queue:
            return ApprovalAnswer("deny", req.call_hash, self.name, self.who, "no scripted answer left")
        item = self._queue.popleft()
        if isinstance(item, ApprovalAnswer):
            return item
        answer, message = item if isinstance(item, tuple) else (item, "")
        return ApprovalAnswer(answer, req.call_hash, self.name, self.who, message)
