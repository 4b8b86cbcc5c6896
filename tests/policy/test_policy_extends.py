"""extends: resolution, merging, cycles, missing bases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from guardrail.errors import PolicyError
from guardrail.policy import compiler, loader
from guardrail.policy.compiled import CompiledPolicy
from guardrail.policy.compiler import PolicyErrors, effective_dict
from guardrail.policy.loader import load_policy

WritePolicy = Callable[..., Path]  # the `write` fixture (conftest.py)

BASE = """
version: 1
fallback: ask
lists:
  hosts: [a.example, b.example]
  paths: ["/etc/**"]
sandbox: {image: "base:1", env: {A: "1", B: "2"}}
rules:
  - {id: one, decision: allow, match: {effect: code, code: dynamic}}
  - {id: two, decision: ask, match: {effect: net, host: "@hosts"}}
  - {id: three, decision: deny, match: {effect: path, path: "@paths"}}
"""


def load(path: Path) -> CompiledPolicy:
    return load_policy(path, use_cache=False, check_examples=False)


def test_relative_base_lists_rules_and_sections(write: WritePolicy) -> None:
    write(BASE, "base.yaml")
    child = write(
        """
        version: 1
        extends: ./base.yaml
        fallback: deny
        lists:
          hosts: [c.example]
          +paths: ["/srv/**"]
        sandbox: {env: {B: "3"}}
        rules:
          - {id: two, decision: deny, match: {effect: net, host: "@hosts"}}
          - {id: three, disabled: true}
          - {id: four, decision: ask, match: {effect: code, code: fork_bomb}}
        """,
        "child.yaml",
    )
    policy = load(child)
    assert [r.id for r in policy.rules] == ["one", "two", "four"]  # replaced in place
    assert str(policy.rule("two").verdict) == "deny"  # type: ignore[union-attr]
    assert policy.lists["hosts"] == ("c.example",)  # replaced
    assert policy.lists["paths"] == ("/etc/**", "/srv/**")  # appended
    assert str(policy.fallback) == "deny"
    assert policy.sandbox == {"image": "base:1", "env": {"A": "1", "B": "3"}}  # deep merge
    assert len(policy.sources) == 2


def test_child_rule_uses_a_base_list(write: WritePolicy) -> None:
    write(BASE, "base.yaml")
    child = write(
        """
        version: 1
        extends: base.yaml
        rules:
          - {id: five, decision: deny, match: {effect: net, host: "@hosts", method: post}}
        """,
        "child.yaml",
    )
    assert [r.id for r in load(child).rules] == ["one", "two", "three", "five"]


def test_several_bases_merge_in_order(write: WritePolicy) -> None:
    write("version: 1\nfallback: allow\nlists: {x: [a]}\n", "a.yaml")
    write("version: 1\nfallback: deny\nlists: {+x: [b]}\n", "b.yaml")
    child = write("version: 1\nextends: [a.yaml, b.yaml]\n", "child.yaml")
    policy = load(child)
    assert str(policy.fallback) == "deny"
    assert policy.lists["x"] == ("a", "b")


def test_plus_list_without_a_base_list_and_both_forms_in_one_file(write: WritePolicy) -> None:
    path = write("version: 1\nlists:\n  x: [a]\n  +x: [b]\n  +y: [c]\n")
    policy = load(path)
    assert policy.lists["x"] == ("a", "b")
    assert policy.lists["y"] == ("c",)


def test_disabled_rule_with_a_match_is_kept_off(write: WritePolicy) -> None:
    path = write(
        """
        version: 1
        rules:
          - {id: unused, disabled: true, decision: deny, match: {effect: code, code: dynamic}}
        """
    )
    assert load(path).rules == ()


def test_nested_extends(write: WritePolicy) -> None:
    write(BASE, "base.yaml")
    write("version: 1\nextends: base.yaml\nrules: [{id: one, disabled: true}]\n", "mid.yaml")
    child = write("version: 1\nextends: mid.yaml\n", "child.yaml")
    assert [r.id for r in load(child).rules] == ["two", "three"]


def test_cycle_is_an_error_at_the_extends_line(write: WritePolicy) -> None:
    write("version: 1\nextends: b.yaml\n", "a.yaml")
    b = write("version: 1\nrules: []\nextends: [a.yaml]\n", "b.yaml")
    with pytest.raises(PolicyError) as info:
        load(b)
    assert "extends cycle" in info.value.message
    assert "b.yaml -> " in info.value.message and info.value.message.count("b.yaml") == 2
    assert info.value.path is not None and info.value.path.endswith("a.yaml")
    assert (info.value.line, info.value.col) == (2, 10)


def test_self_extension_is_a_cycle(write: WritePolicy) -> None:
    path = write("version: 1\nextends: policy.yaml\n")
    with pytest.raises(PolicyError, match="extends cycle"):
        load(path)


def test_missing_base_is_located_and_stops_before_noise(write: WritePolicy) -> None:
    path = write(
        """
        version: 1
        extends: [./nothere.yaml]
        rules:
          - {id: r, decision: ask, match: {effect: net, host: "@hosts"}}
        """
    )
    with pytest.raises(PolicyError) as info:
        load(path)
    assert (info.value.line, info.value.col) == (2, 11)
    assert "there is no file" in info.value.message
    assert isinstance(info.value, PolicyErrors)
    assert len(info.value.errors) == 1  # no "unknown list @hosts" noise


def test_shipped_names(write: WritePolicy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "basic.yaml").write_text(BASE)
    monkeypatch.setattr(compiler, "SHIPPED_DIR", shipped)
    monkeypatch.setattr(loader, "SHIPPED_DIR", shipped)
    child = write("version: 1\nextends: basic\n")
    assert [r.id for r in load(child).rules] == ["one", "two", "three"]
    assert load_policy("basic", use_cache=False).name == "basic"
    bad = write("version: 1\nextends: basik\n", "bad.yaml")
    with pytest.raises(PolicyError, match="did you mean 'basic'"):
        load(bad)


def test_section_merge_is_validated_again(write: WritePolicy) -> None:
    write("version: 1\nparsers: {cross_check: true}\n", "base.yaml")
    child = write("version: 1\nextends: base.yaml\nparsers: {cross_check: false}\n", "c.yaml")
    policy = load(child)
    assert policy.cross_check is False


def test_effective_dict_shows_the_merged_policy(write: WritePolicy) -> None:
    write(BASE, "base.yaml")
    child = write(
        "version: 1\nextends: base.yaml\nrules: [{id: one, disabled: true}]\nmode: shadow\n",
        "child.yaml",
    )
    data = effective_dict(child)
    assert data["mode"] == "shadow"
    assert [r["id"] for r in data["rules"]] == ["two", "three"]
    assert data["lists"]["hosts"] == ["a.example", "b.example"]
    assert data["sandbox"]["image"] == "base:1"


def test_disabling_a_rule_a_base_already_disabled_is_fine(write: WritePolicy) -> None:
    write(BASE, "base.yaml")
    write("version: 1\nextends: base.yaml\nrules: [{id: one, disabled: true}]\n", "mid.yaml")
    child = write("version: 1\nextends: mid.yaml\nrules: [{id: one, disabled: true}]\n", "c.yaml")
    assert [r.id for r in load(child).rules] == ["two", "three"]


def test_a_disabled_rule_can_be_brought_back(write: WritePolicy) -> None:
    write(BASE, "base.yaml")
    write("version: 1\nextends: base.yaml\nrules: [{id: one, disabled: true}]\n", "mid.yaml")
    child = write(
        "version: 1\nextends: mid.yaml\n"
        "rules: [{id: one, decision: deny, match: {effect: code, code: dynamic}}]\n",
        "c.yaml",
    )
    assert [r.id for r in load(child).rules] == ["two", "three", "one"]
