"""The executor interface for file, database and HTTP calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from guardrail.calls import ToolCall


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    output: Any = None  # JSON-serialisable result of the tool
    error: str | None = None
    truncated: bool = False
    duration: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


class Executor(Protocol):
    def execute(self, call: ToolCall) -> ToolResult:
        """Run an already-approved call; refuse (ok=False) rather than raise."""
        ...
