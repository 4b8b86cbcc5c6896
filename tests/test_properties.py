"""Properties of checking: it never crashes, and wrapping never lowers a decision."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_fixtures import spec_workspace
from strategies import DENIED_COMMANDS, SHELL_COMMANDS, json_values, shell_texts

from guardrail.decision import Verdict
from guardrail.pipeline import Guard

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def guard() -> Iterator[Guard]:
    for ws, _home in spec_workspace():
        yield Guard.from_policy("default", workspace=ws)


def verdict(guard: Guard, command: str) -> Verdict:
    return guard.check({"tool": "shell", "command": command}).verdict


@SETTINGS
@given(text=shell_texts())
def test_any_shell_text_is_decided(guard: Guard, text: str) -> None:
    decision = guard.check({"tool": "shell", "command": text})
    assert decision.verdict in (Verdict.ALLOW, Verdict.ASK, Verdict.DENY)
    assert decision.reason


@SETTINGS
@given(value=json_values())
def test_any_json_value_is_decided(guard: Guard, value: object) -> None:
    decision = guard.check(json.dumps(value))
    assert decision.reason
    if not isinstance(value, dict):
        assert decision.verdict is Verdict.DENY


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_are_decided(guard: Guard, data: bytes) -> None:
    assert guard.check(data).reason


WRAPPERS = [
    lambda c: "bash -c " + shlex.quote(c),
    lambda c: "sh -c " + shlex.quote(c),
    lambda c: "env " + c,
    lambda c: "command " + c,
    lambda c: "nice " + c,
    lambda c: "timeout 5 " + c,
    lambda c: "( " + c + " )",
    lambda c: "$( " + c + " )",
    lambda c: "{ " + c + "; }",
    lambda c: "FOO=1 " + c,
    lambda c: "eval " + shlex.quote(c),
    lambda c: "echo " + shlex.quote(c) + " | sh",
]


@SETTINGS
@given(command=st.sampled_from(SHELL_COMMANDS), wrap=st.sampled_from(WRAPPERS))
def test_wrapping_never_lowers(guard: Guard, command: str, wrap: object) -> None:
    wrapped = wrap(command)  # type: ignore[operator]
    assert verdict(guard, wrapped) >= verdict(guard, command), wrapped


@SETTINGS
@given(command=shell_texts(), denied=st.sampled_from(DENIED_COMMANDS))
def test_appending_a_denied_command_denies(guard: Guard, command: str, denied: str) -> None:
    line = command + "\n" + denied if command.count("'") % 2 == 0 and command.count('"') % 2 == 0 else command
    if line is command:
        return
    assert verdict(guard, command + " ; " + denied) is Verdict.DENY or verdict(guard, line) is Verdict.DENY


@pytest.mark.parametrize("denied", DENIED_COMMANDS)
@pytest.mark.parametrize("command", SHELL_COMMANDS)
def test_appending_a_denied_command_to_a_real_one_denies(guard: Guard, command: str, denied: str) -> None:
    assert verdict(guard, f"{command}; {denied}") is Verdict.DENY


def _requote(name: str, style: int) -> str:
    if style == 0:
        return "'" + name + "'"
    if style == 1:
        return '"' + name + '"'
    if style == 2:
        return "\\" + name
    if style == 3:
        return name[0] + "''" + name[1:]
    return "/usr/bin/" + name


@SETTINGS
@given(command=st.sampled_from(SHELL_COMMANDS), style=st.integers(0, 4))
def test_requoting_the_command_name_changes_nothing(guard: Guard, command: str, style: int) -> None:
    name, _, rest = command.partition(" ")
    requoted = _requote(name, style) + (" " + rest if rest else "")
    assert verdict(guard, requoted) == verdict(guard, command), requoted
