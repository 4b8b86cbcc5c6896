"""guardrail: a policy-enforcing sandbox for AI coding agents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Decision", "Guard", "Risk", "Verdict", "__version__"]

if TYPE_CHECKING:
    from guardrail.decision import Decision, Risk, Verdict
    from guardrail.pipeline import Guard


def __getattr__(name: str) -> Any:
    """Import lazily: `import guardrail` stays cheap on the hook start-up path."""
    if name == "Guard":
        from guardrail.pipeline import Guard

        return Guard
    if name in ("Decision", "Risk", "Verdict"):
        from guardrail import decision

        return getattr(decision, name)
    raise AttributeError(f"module 'guardrail' has no attribute {name!r}")
