"""Policy errors: every problem located at file:line:col, with what to change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from guardrail.errors import PolicyError
from guardrail.policy.compiled import CompiledPolicy
from guardrail.policy.compiler import PolicyErrors
from guardrail.policy.loader import load_policy

WritePolicy = Callable[..., Path]  # the `write` fixture (conftest.py)
LoadPolicy = Callable[..., CompiledPolicy]  # the `compile_text` fixture


def problems(write: WritePolicy, text: str) -> list[PolicyError]:
    path = write(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path, use_cache=False, check_examples=False)
    exc = info.value
    return exc.errors if isinstance(exc, PolicyErrors) else [exc]


def where(error: PolicyError) -> tuple[int | None, int | None, str | None]:
    return (error.line, error.col, error.rule)


def test_unknown_top_level_key_has_position_and_suggestion(write: WritePolicy) -> None:
    [error] = problems(write, "version: 1\nfallbak: ask\n")
    assert where(error) == (2, 1, None)
    assert "unknown key 'fallbak'" in error.message
    assert "did you mean 'fallback'?" in error.message
    assert str(error).startswith(f"{error.path}:2:1: ")


def test_unknown_condition_names_the_effect_kind_and_suggests(write: WritePolicy) -> None:
    [error] = problems(
        write,
        """
        version: 1
        rules:
          - id: r1
            decision: ask
            match:
              effect: path
              opp: [read]
        """,
    )
    assert where(error) == (7, 7, "r1")
    assert "unknown condition 'opp' for effect path" in error.message
    assert "did you mean 'op'?" in error.message


def test_condition_of_another_kind_lists_the_allowed_ones(write: WritePolicy) -> None:
    [error] = problems(
        write,
        """
        version: 1
        rules:
          - id: r1
            decision: ask
            match: {effect: exec, host: x.com}
        """,
    )
    assert where(error) == (5, 27, "r1")
    assert "unknown condition 'host' for effect exec" in error.message
    assert "command" in error.message  # the allowed conditions are listed


def test_bad_decision_value_suggests_the_closest(write: WritePolicy) -> None:
    [error] = problems(
        write,
        """
        version: 1
        rules:
          - id: r1
            decision: dney
            match: {effect: db, statement: DROP *}
        """,
    )
    assert where(error) == (4, 15, "r1")
    assert "did you mean 'deny'?" in error.message


def test_unknown_effect_kind(write: WritePolicy) -> None:
    [error] = problems(
        write,
        """
        version: 1
        rules:
          - id: r1
            decision: ask
            match: {effect: pathh, op: read}
        """,
    )
    assert where(error) == (5, 21, "r1")
    assert "unknown effect 'pathh'; did you mean 'path'?" in error.message


def test_all_problems_are_collected_in_file_order(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        rules:
          - id: a
            decision: ask
            match: {effect: path, opp: read}
          - id: b
            decision: maybe
            match: {effect: exec, command: rm}
        modee: enforce
        """,
    )
    assert [(e.line, e.rule) for e in errors] == [(5, "a"), (7, "b"), (9, None)]


def test_first_problem_is_the_message_and_the_count_follows(write: WritePolicy) -> None:
    path = write("version: 1\nfoo: 1\nbar: 2\n")
    with pytest.raises(PolicyErrors) as info:
        load_policy(path, use_cache=False)
    assert info.value.line == 2
    assert "unknown key 'foo'" in str(info.value)
    assert "(and 1 more problem)" in str(info.value)
    assert len(info.value.errors) == 2


def test_missing_version_and_missing_decision(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        rules:
          - id: r1
            match: {effect: code, code: dynamic}
        """,
    )
    messages = [e.message for e in errors]
    assert any("missing required key 'version'" in m for m in messages)
    assert any("needs decision" in m for m in messages)


def test_duplicate_keys_are_errors(write: WritePolicy) -> None:
    [error] = problems(write, "version: 1\nfallback: ask\nfallback: allow\n")
    assert where(error) == (3, 1, None)
    assert "duplicate key 'fallback' (first written at line 2)" in error.message


def test_yaml_syntax_error_is_located(write: WritePolicy) -> None:
    [error] = problems(write, "version: 1\nrules: [\n  {id: x\n")
    assert error.line is not None and error.line >= 3
    assert "YAML syntax" in error.message


def test_empty_file_and_non_mapping(write: WritePolicy) -> None:
    [empty] = problems(write, "")
    assert "empty" in empty.message
    [scalar] = problems(write, "- just a list\n")
    assert "mapping" in scalar.message


def test_invalid_utf8(write: WritePolicy) -> None:
    path = write("version: 1\n")
    path.write_bytes(b"version: 1\nfallback: \xff\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(path, use_cache=False)


def test_empty_values_are_errors(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        rules:
          - id: r1
            decision: ask
            match: {effect: path, op: []}
          - id: r2
            decision: ask
            match: {effect: path, path: ["", ok]}
          - id: r3
            decision: ask
            match: {effect: path}
        """,
    )
    assert [(e.line, e.rule) for e in errors] == [(5, "r1"), (8, "r2"), (11, "r3")]
    assert "empty list" in errors[0].message
    assert errors[1].col == 34  # the empty string itself
    assert "no conditions" in errors[2].message


def test_enumerated_values_from_a_list_are_located_in_the_list(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        lists:
          ops: [read, lsit]
        rules:
          - id: r1
            decision: ask
            match: {effect: path, op: ["@ops", wirte]}
        """,
    )
    assert [(e.line, e.col) for e in errors] == [(3, 15), (7, 40)]
    assert "'lsit' is not a valid op; did you mean 'list'?" in errors[0].message
    assert "(in list @ops)" in errors[0].message
    assert "did you mean 'write'?" in errors[1].message and errors[1].rule == "r1"


def test_unknown_list_reference(write: WritePolicy) -> None:
    [error] = problems(
        write,
        """
        version: 1
        lists:
          hosts: [a.example]
        rules:
          - id: r1
            decision: ask
            match: {effect: net, host: "@hostz"}
        """,
    )
    assert where(error) == (7, 32, "r1")
    assert "unknown list @hostz (did you mean @hosts?)" in error.message


def test_list_cycle(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        lists:
          a: ["@b"]
          b: ["@a"]
        rules:
          - id: r1
            decision: ask
            match: {effect: net, host: "@a"}
        """,
    )
    assert errors and all("cycle" in e.message for e in errors)


def test_bad_patterns_are_located(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        rules:
          - id: r1
            decision: ask
            match: {effect: net, content: "(", address_in: [10.0.0.0/33], port: [80, x]}
        """,
    )
    messages = " | ".join(e.message for e in errors)
    assert "invalid regular expression '('" in messages
    assert "'10.0.0.0/33' is not a CIDR block" in messages
    assert "'x' is not a port number" in messages
    assert {e.rule for e in errors} == {"r1"}


def test_duplicate_rule_ids_and_disabling_an_unknown_rule(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        rules:
          - {id: r1, decision: ask, match: {effect: code, code: dynamic}}
          - {id: r1, decision: deny, match: {effect: code, code: fork_bomb}}
          - {id: r2, disabled: true}
        """,
    )
    assert [(e.line, e.rule) for e in errors] == [(4, "r1"), (5, "r2")]
    assert "duplicate rule id 'r1'" in errors[0].message
    assert "no base rule 'r2' to disable" in errors[1].message


def test_invalid_rule_id(write: WritePolicy) -> None:
    [error] = problems(
        write,
        "version: 1\nrules:\n  - {id: Bad Id, decision: ask, match: {effect: code, code: dynamic}}\n",
    )
    assert error.line == 3 and "pattern" in error.message


def test_strict_types(write: WritePolicy) -> None:
    [error] = problems(
        write,
        """
        version: 1
        rules:
          - {id: r1, decision: ask, match: {effect: path, recursive: "yes"}}
        """,
    )
    assert error.line == 3 and "boolean" in error.message


def test_missing_policy_file_names_shipped_policies(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no policy"):
        load_policy(tmp_path / "nope.yaml")


def test_valid_policy_compiles(compile_text: LoadPolicy) -> None:
    policy = compile_text(
        """
        version: 1
        mode: shadow
        fallback: deny
        rules:
          - {id: r1, decision: allow, match: {effect: code, code: dynamic}}
        """
    )
    assert policy.mode == "shadow" and str(policy.fallback) == "deny"
    assert [r.id for r in policy.rules] == ["r1"]


def test_yaml_booleans_where_a_string_is_expected_get_a_hint(write: WritePolicy) -> None:
    [error] = problems(
        write,
        "version: 1\nrules:\n  - {id: off, decision: ask, match: {effect: code, code: dynamic}}\n",
    )
    assert (error.line, error.col) == (3, 10)
    assert "YAML reads" in error.message and "quote it" in error.message


def test_a_bad_list_item_used_by_several_rules_is_reported_once(write: WritePolicy) -> None:
    errors = problems(
        write,
        """
        version: 1
        lists:
          ops: [raed]
        rules:
          - {id: a, decision: ask, match: {effect: path, op: "@ops"}}
          - {id: b, decision: ask, match: {effect: path, op: "@ops"}}
        """,
    )
    assert [(e.line, e.col) for e in errors] == [(3, 9)]
