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

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `guardrail call` prints for the result."""
        data: dict[str, Any] = {"ok": self.ok, "output": self.output}
        if self.error is not None:
            data["error"] = self.error
        if self.truncated:
            data["truncated"] = True
        data["duration"] = round(self.duration, 6)
        if self.meta:
            data["meta"] = self.meta
        return data

    @classmethod
    def refused(cls, error: str, **meta: Any) -> ToolResult:
        """A call the executor would not (or could not) carry out."""
        return cls(ok=False, error=error, meta=dict(meta))


class Executor(Protocol):
    def execute(self, call: ToolCall) -> ToolResult:
        """Run an already-approved call; refuse (ok=False) rather than raise."""
        ...
