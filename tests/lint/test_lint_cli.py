"""`guardrail lint`: formats, exit codes, filters, inline ignores, SARIF validity."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]

from guardrail.cli.lint import lint_command
from tests.lint.helpers import GOLDEN, REPO, SARIF_SCHEMA, invoke


def test_shipped_policies_lint_clean_at_error_level() -> None:
    result = invoke(lint_command, [str(REPO / "policies")])
    assert result.exit_code == 0, result.output
    assert "error" not in result.stdout.split("guardrail lint:")[-1]


def test_errors_exit_1_and_text_shows_the_line() -> None:
    result = invoke(lint_command, [str(GOLDEN / "unknown_key.yaml")])
    assert result.exit_code == 1
    assert "GR102 error: unknown key 'fallbak'; did you mean 'fallback'?" in result.stdout
    assert "fallbak: ask" in result.stdout  # the offending line is shown


def test_fail_on_warning_and_never() -> None:
    shadowed = str(GOLDEN / "shadowed.yaml")
    assert invoke(lint_command, [shadowed]).exit_code == 0
    assert invoke(lint_command, [shadowed, "--fail-on", "warning"]).exit_code == 1
    assert invoke(lint_command, [str(GOLDEN / "patterns.yaml"), "--fail-on", "never"]).exit_code == 0


def test_select_and_ignore_by_prefix() -> None:
    path = str(GOLDEN / "dangerous.yaml")
    data = json.loads(invoke(lint_command, [path, "--format", "json", "--select", "GR3", "--ignore", "GR304,GR305"]).stdout)
    assert sorted(f["code"] for f in data["findings"]) == ["GR301", "GR302", "GR303", "GR306"]


def test_inline_ignore_silences_only_the_named_code() -> None:
    data = json.loads(invoke(lint_command, [str(GOLDEN / "dangerous.yaml"), "--format", "json"]).stdout)
    rules = {(f["code"], f["rule"]) for f in data["findings"]}
    assert ("GR303", "any-host") in rules
    assert ("GR303", "any-host-on-purpose") not in rules  # ignore[GR303] above the rule
    assert ("GR304", "setuid-ok") in rules  # ignore[GR211] does not silence GR304


def test_github_annotations() -> None:
    out = invoke(lint_command, [str(GOLDEN / "duplicates.yaml"), "--format", "github"]).stdout
    assert out.startswith("::error file=")
    assert ",line=6,col=9,title=guardrail lint GR201::duplicate rule id 'same'" in out


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    target = tmp_path / "out.sarif"
    paths = [str(p) for p in sorted(GOLDEN.glob("*.yaml"))]
    result = invoke(lint_command, [*paths, "--format", "sarif", "--output", str(target)])
    assert result.exit_code == 1
    log = json.loads(target.read_text())
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert len(results) > 20
    for item in results:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
    broken = dict(log)
    broken["runs"] = [{"tool": {"driver": {}}, "results": []}]  # the schema itself can fail
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a driver without a name validated")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert invoke(lint_command, [str(GOLDEN / "shadowed.yaml"), "--format", "xml"]).exit_code == 2
    assert invoke(lint_command, [str(tmp_path / "missing.yaml")]).exit_code == 2
    assert invoke(lint_command, [str(GOLDEN / "shadowed.yaml"), "--select", "E501"]).exit_code == 2
    assert invoke(lint_command, [str(GOLDEN / "shadowed.yaml"), "--fail-on", "fatal"]).exit_code == 2
