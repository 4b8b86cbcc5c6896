"""Always-allow rules: valid for the policy loader, matched by the engine, appended without losing the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from guardrail.approval.rules import NotNarrow, match_for_effect, rules_for_effects, write_rules
from guardrail.audit import to_jsonable
from guardrail.decision import Verdict
from guardrail.effects import CodeEffect, DbEffect, Effect, ExecEffect, NetEffect, PathEffect

EFFECTS: dict[str, Effect] = {
    "pip install 'req[socks]'": ExecEffect("pip", ("pip", "install", "req[socks]"), subcommand="install"),
    "GET https://pypi.org:8443/simple": NetEffect(
        "http", "pypi.org", "public", scheme="https", port=8443, method="GET", url="https://pypi.org:8443/simple"
    ),
    "write build/*.cfg": PathEffect("write", "/work/p/build/*.cfg", "inside"),
    "DROP TABLE t": DbEffect("DROP TABLE", dialect="sqlite"),
}
NEAR_MISSES: dict[str, Effect] = {
    "pip install 'req[socks]'": ExecEffect("pip", ("pip", "install", "reqs"), subcommand="install"),
    "GET https://pypi.org:8443/simple": NetEffect("http", "evil.pypi.org", "public", scheme="https", port=8443, method="GET"),
    "write build/*.cfg": PathEffect("write", "/work/p/build/app.cfg", "inside"),
    "DROP TABLE t": DbEffect("DROP DATABASE", dialect="sqlite"),
}


def test_effects_that_cannot_be_pinned_get_no_rule() -> None:
    for effect in (
        PathEffect("write", None, "unknown"),
        NetEffect("http", None, "invalid"),
        CodeEffect("dynamic", "eval $x"),
        DbEffect("UNPARSED", parsed=False),
    ):
        with pytest.raises(NotNarrow):
            match_for_effect(to_jsonable(effect))


def test_rules_load_and_match_only_their_own_effect(tmp_path: Path) -> None:
    from guardrail.policy import engine, loader

    rules: list[dict[str, Any]] = []
    for example, effect in EFFECTS.items():
        rules += rules_for_effects([to_jsonable(effect)], example=example, description="test")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump({"version": 1, "fallback": "ask", "rules": rules}))

    def effects_of(example: str | dict[str, Any]) -> list[Effect]:
        return [EFFECTS[str(example)]]

    policy = loader.load_policy(policy_file, use_cache=False, effects_of=effects_of)
    for example, effect in EFFECTS.items():
        assert engine.evaluate([effect], policy).verdict is Verdict.ALLOW, example
        assert engine.evaluate([NEAR_MISSES[example]], policy).verdict is Verdict.ASK, example


def test_appending_keeps_comments_and_existing_rules(tmp_path: Path) -> None:
    policy = tmp_path / ".guardrail" / "policy.yaml"
    policy.parent.mkdir()
    original = (
        "# our team's rules\n"
        "version: 1\n"
        "extends: strict\n"
        "rules:\n"
        "- id: ours\n"
        "  decision: allow\n"
        "  match: {effect: exec, command: make}\n"
    )
    policy.write_text(original)
    [rule] = rules_for_effects([to_jsonable(EFFECTS["DROP TABLE t"])], example="DROP TABLE t", description="d")
    assert write_rules(tmp_path, [rule]) == [rule]
    text = policy.read_text()
    assert text.startswith(original)
    doc = yaml.safe_load(text)
    assert doc["extends"] == "strict"
    assert [r["id"] for r in doc["rules"]] == ["ours", rule["id"]]
    assert write_rules(tmp_path, [rule]) == []  # not twice
