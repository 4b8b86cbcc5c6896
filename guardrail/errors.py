"""One exception tree for everything guardrail raises on purpose.

    GuardrailError
    ├── CallError            a tool call that is not of the input format (bad JSON, unknown tool, ...)
    ├── PolicyError          a policy file that cannot be used; carries file, line, column, rule
    │   └── PolicyExampleError   a rule's own examples do not hold
    ├── ParseError           a parser gave up (only ever raised inside a stage; the pipeline decides it)
    ├── SandboxError         the sandbox backend failed (engine unreachable, image missing, ...)
    ├── ApprovalError        an approver could not ask (no terminal, webhook unreachable, ...)
    ├── ToolError            a file, database or HTTP executor refused or failed
    └── AuditError           the audit trail cannot be written or is broken

Every message says what to change; the pipeline turns any of them raised
while checking a call into a deny naming the stage, never an allow.
"""

from __future__ import annotations


class GuardrailError(Exception):
    """Base of every error guardrail raises on purpose."""


class CallError(GuardrailError):
    """A tool call that does not follow the input format."""


class ParseError(GuardrailError):
    """A parser could not make sense of its input."""


class PolicyError(GuardrailError):
    """A policy that cannot be loaded, with where the problem is."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        col: int | None = None,
        rule: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.col = col
        self.rule = rule
        super().__init__(self.location_prefix() + message)

    def location_prefix(self) -> str:
        parts = []
        if self.path:
            loc = self.path
            if self.line is not None:
                loc += f":{self.line}"
                if self.col is not None:
                    loc += f":{self.col}"
            parts.append(loc)
        if self.rule:
            parts.append(f"rule {self.rule!r}")
        return (": ".join(parts) + ": ") if parts else ""


class PolicyExampleError(PolicyError):
    """A rule's `examples` do not hold against the rule itself."""


class SandboxError(GuardrailError):
    """The sandbox could not start, run or stop."""


class ApprovalError(GuardrailError):
    """An approver could not reach a human."""


class ToolError(GuardrailError):
    """A file, database or HTTP executor refused or failed."""


class AuditError(GuardrailError):
    """The audit trail could not be written, or does not verify."""
