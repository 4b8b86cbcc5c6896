"""Rule examples: checked when a policy is compiled, with the effects the caller gives."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guardrail.effects import Effect, ExecEffect, PathEffect
from guardrail.errors import PolicyExampleError
from guardrail.policy.compiler import PolicyExampleErrors, default_effects_of
from guardrail.policy.loader import load_policy

WritePolicy = Callable[..., Path]  # the `write` fixture (conftest.py)

POLICY = """
version: 1
rules:
  - id: secret-read
    decision: deny
    match: {effect: path, op: read, path: ["*.pem", "/etc/shadow"]}
    examples:
      match: ["cat a.pem", {tool: file, op: read, path: /etc/shadow}]
      no_match: ["cat README.md"]
"""


def fake_effects(example: str | dict[str, Any]) -> list[Effect]:
    """A stand-in for the pipeline: `cat X` reads /w/X; a file call reads its path."""
    if isinstance(example, dict):
        if example.get("tool") != "file":
            raise ValueError("unknown tool")
        return [PathEffect("read", str(example["path"]), "outside")]
    argv = tuple(example.split())
    effects: list[Effect] = [ExecEffect(argv[0], argv)]
    effects += [PathEffect("read", f"/w/{a}", "inside") for a in argv[1:]]
    return effects


def test_examples_that_hold(write: WritePolicy) -> None:
    policy = load_policy(write(POLICY), use_cache=False, effects_of=fake_effects)
    assert policy.examples_checked


def test_a_match_example_that_does_not_match(write: WritePolicy) -> None:
    path = write(POLICY.replace('"cat a.pem"', '"cat a.txt"'))
    with pytest.raises(PolicyExampleError) as info:
        load_policy(path, use_cache=False, effects_of=fake_effects)
    error = info.value
    assert isinstance(error, PolicyExampleErrors) and len(error.errors) == 1
    assert (error.line, error.col, error.rule) == (7, 15, "secret-read")
    assert "should match this rule but does not" in error.message
    assert "read /w/a.txt (inside)" in error.message  # what the example did give


def test_a_no_match_example_that_matches(write: WritePolicy) -> None:
    path = write(POLICY.replace('"cat README.md"', '"cat key.pem"'))
    with pytest.raises(PolicyExampleError) as info:
        load_policy(path, use_cache=False, effects_of=fake_effects)
    assert (info.value.line, info.value.rule) == (8, "secret-read")
    assert "should not match this rule but does, on read /w/key.pem" in info.value.message


def test_an_example_that_cannot_be_turned_into_effects(write: WritePolicy) -> None:
    path = write(POLICY.replace("{tool: file,", "{tool: bogus,"))
    with pytest.raises(PolicyExampleError, match="could not be turned into effects: unknown tool"):
        load_policy(path, use_cache=False, effects_of=fake_effects)


def test_examples_are_skipped_when_asked(write: WritePolicy) -> None:
    path = write(POLICY.replace('"cat a.pem"', '"cat a.txt"'))
    policy = load_policy(path, use_cache=False, check_examples=False, effects_of=fake_effects)
    assert not policy.examples_checked


def test_the_pipelines_example_runner_when_it_exists(write: WritePolicy) -> None:
    effects_of = default_effects_of()
    if effects_of is None:
        warnings.warn(  # noqa: B028 - a note for the reader of the test log
            "guardrail.pipeline.effects_for_example is not importable yet: "
            "rule examples were checked with a stand-in only",
            pytest.PytestWarning,
        )
        pytest.skip("guardrail.pipeline.effects_for_example does not exist yet")
    policy = load_policy(write(POLICY), use_cache=False, effects_of=effects_of)
    assert policy.examples_checked
