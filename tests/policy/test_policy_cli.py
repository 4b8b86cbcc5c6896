"""`guardrail policy show|schema`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import yaml
from typer.testing import CliRunner

from guardrail.cli.policy import policy_app
from guardrail.policy.schema import policy_json_schema

WritePolicy = Callable[..., Path]  # the `write` fixture (conftest.py)

runner = CliRunner()

POLICY = """
version: 1
lists: {hosts: [pypi.org]}
rules:
  - {id: net, decision: ask, match: {effect: net, host: "@hosts"}}
"""


def test_show_prints_the_effective_policy_as_yaml(write: WritePolicy) -> None:
    write(POLICY, "base.yaml")
    child = write(
        "version: 1\nextends: base.yaml\nfallback: deny\nlists: {+hosts: [x.org]}\n", "c.yaml"
    )
    result = runner.invoke(policy_app, ["show", "--policy", str(child)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert data["fallback"] == "deny"
    assert data["lists"]["hosts"] == ["pypi.org", "x.org"]
    assert [r["id"] for r in data["rules"]] == ["net"]


def test_show_json(write: WritePolicy) -> None:
    result = runner.invoke(policy_app, ["show", "-p", str(write(POLICY)), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rules"][0]["id"] == "net"


def test_show_reports_every_problem_and_exits_2(write: WritePolicy) -> None:
    bad = write("version: 1\nfallbak: ask\nmod: shadow\n")
    result = runner.invoke(policy_app, ["show", "--policy", str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(":2:1: unknown key 'fallbak'; did you mean 'fallback'?")
    assert ":3:1: unknown key 'mod'; did you mean 'mode'?" in lines[1]


def test_show_rejects_an_unknown_format(write: WritePolicy) -> None:
    result = runner.invoke(policy_app, ["show", "-p", str(write(POLICY)), "--format", "xml"])
    assert result.exit_code == 2


def test_schema_is_a_json_schema_that_accepts_valid_policies(write: WritePolicy) -> None:
    result = runner.invoke(policy_app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(yaml.safe_load(POLICY)))
    assert list(validator.iter_errors({"version": 1, "fallbak": "ask"}))
    assert list(
        validator.iter_errors(yaml.safe_load(POLICY.replace("effect: net", "effect: nett")))
    )


def test_schema_has_field_descriptions_for_editors() -> None:
    schema = policy_json_schema()
    assert "extends" in schema["properties"]
    assert schema["properties"]["extends"]["description"].startswith("Policies this one builds on")
