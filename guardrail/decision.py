"""Decisions: the verdict on a call, with the rules that made it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from guardrail.effects import Effect, describe


class Verdict(IntEnum):
    """Ordered so that max() is the most restrictive: deny > ask > allow."""

    ALLOW = 0
    ASK = 1
    DENY = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Verdict:
        return cls[text.upper()]


class Risk(IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2
    CRITICAL = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Risk:
        return cls[text.upper()]


@dataclass(frozen=True)
class FiredRule:
    """One rule that matched one effect."""

    rule_id: str
    verdict: Verdict
    risk: Risk
    effect: Effect | None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule_id,
            "decision": str(self.verdict),
            "risk": str(self.risk),
            "effect": describe(self.effect) if self.effect is not None else None,
            "description": self.description,
        }


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    risk: Risk
    reason: str
    fired: tuple[FiredRule, ...] = ()
    effects: tuple[Effect, ...] = ()

    @property
    def rules(self) -> list[str]:
        """Ids of the rules that decided (those at the final verdict), first-fired first."""
        seen: dict[str, None] = {}
        for fired in self.fired:
            if fired.verdict == self.verdict:
                seen.setdefault(fired.rule_id, None)
        return list(seen)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def to_dict(self) -> dict[str, Any]:
        """The line `guardrail check` prints."""
        return {
            "decision": str(self.verdict),
            "risk": str(self.risk),
            "rules": self.rules,
            "reason": self.reason,
        }

    @classmethod
    def deny(cls, reason: str, rule_id: str = "invalid-call", risk: Risk = Risk.HIGH) -> Decision:
        """A deny that no rule made: bad input, or a stage that failed (fail closed)."""
        fired = FiredRule(rule_id, Verdict.DENY, risk, None, reason)
        return cls(Verdict.DENY, risk, reason, (fired,), ())
