"""Deciding effects against a compiled policy. Pure: no I/O, no clock, no globals.

Every rule of an effect's kind is tried on it (exec effects only meet the
rules that can match their command); every rule that matches fires. The
verdict is the most restrictive of all fired rules over all effects
(deny > ask > allow, whatever the rule order); an effect no rule matches gets
the policy's fallback as the pseudo-rule `fallback`. The risk is the highest
risk among the rules at the final verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from guardrail.decision import Decision, FiredRule, Risk, Verdict
from guardrail.effects import Effect, describe
from guardrail.policy.compiled import CompiledPolicy, CompiledRule

FALLBACK_ID = "fallback"
NO_EFFECTS_ID = "no-effects"
DEFAULT_RISK = {Verdict.ALLOW: Risk.LOW, Verdict.ASK: Risk.MEDIUM, Verdict.DENY: Risk.HIGH}
_REASON_RULES = 3  # rules named in a reason before "and N more"


def matching_rules(effect: Effect, policy: CompiledPolicy) -> list[CompiledRule]:
    """The rules that match one effect, in policy order."""
    found = []
    for rule, conditions in policy.candidates(effect):
        for condition in conditions:
            if not condition.test(effect):
                break
        else:
            found.append(rule)
    return found


def evaluate(
    effects: Sequence[Effect], policy: CompiledPolicy, *, allow_no_effects: bool = False
) -> Decision:
    """Decide a call from its effects.

    A call with no effects at all (`true`, `cd x`, `echo hi` give none) gets
    the policy's fallback unless the caller passes `allow_no_effects=True`:
    only the caller knows whether "nothing found" means "nothing happens" or
    "the parser saw nothing it understood". Either way the pseudo-rule
    `no-effects` is reported.
    """
    if not effects:
        verdict = Verdict.ALLOW if allow_no_effects else policy.fallback
        why = "the call has no effects" + ("" if allow_no_effects else "; the fallback applies")
        fired = FiredRule(NO_EFFECTS_ID, verdict, DEFAULT_RISK[verdict], None, why)
        return Decision(verdict, fired.risk, f"{verdict}: {why}", (fired,), ())
    fired_rules: list[FiredRule] = []
    for effect in effects:
        rules = matching_rules(effect, policy)
        if any(rule.overrides and rule.verdict is Verdict.ALLOW for rule in rules):
            # a narrow allow that sets aside asks (a project's "always allow"); denies stay
            rules = [rule for rule in rules if rule.verdict is not Verdict.ASK]
        if not rules:
            fired_rules.append(
                FiredRule(
                    FALLBACK_ID,
                    policy.fallback,
                    DEFAULT_RISK[policy.fallback],
                    effect,
                    "no rule matches this effect",
                )
            )
            continue
        for rule in rules:
            fired_rules.append(
                FiredRule(rule.id, rule.verdict, rule.risk, effect, rule.description)
            )
    verdict = max(f.verdict for f in fired_rules)
    deciding = [f for f in fired_rules if f.verdict == verdict]
    risk = max(f.risk for f in deciding)
    return Decision(verdict, risk, _reason(verdict, deciding), tuple(fired_rules), tuple(effects))


def _reason(verdict: Verdict, deciding: list[FiredRule]) -> str:
    """One line: the verdict, then each deciding rule with the effect it fired on."""
    parts: list[str] = []
    seen: set[tuple[str, int]] = set()
    for fired in deciding:
        key = (fired.rule_id, id(fired.effect))
        if key in seen:
            continue
        seen.add(key)
        target = describe(fired.effect) if fired.effect is not None else "the call"
        if fired.rule_id == FALLBACK_ID:
            parts.append(f"no rule matches {target} (fallback)")
        else:
            parts.append(f"{fired.rule_id} on {target}")
    shown = parts[:_REASON_RULES]
    more = len(parts) - len(shown)
    text = f"{verdict}: " + "; ".join(shown) + (f"; and {more} more" if more else "")
    return " ".join(text.split()) if "\n" in text or "\r" in text else text
