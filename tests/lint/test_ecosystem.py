"""The pre-commit hooks and the example workflow name commands that exist, with options they take."""

from __future__ import annotations

import re

import yaml

from guardrail.cli.app import REGISTRY
from tests.lint.helpers import REPO

COMMANDS = {name for _module, _attr, name in REGISTRY}


def test_pre_commit_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"guardrail-lint", "guardrail-scan"}
    for hook in hooks:
        program, command = hook["entry"].split()[:2]
        assert program == "guardrail" and command in COMMANDS
        re.compile(hook["files"])
    lint_files = re.compile(hooks[0]["files"])
    assert lint_files.search("policies/default.yaml") and lint_files.search(".guardrail/policy.yaml")
    assert not lint_files.search("policies/tests/default.yaml")


def test_example_workflow_runs_lint_test_and_uploads_sarif() -> None:
    workflow = yaml.safe_load((REPO / "examples" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["policy"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    for command in ("guardrail lint --format github", "guardrail test", "--format sarif"):
        assert command in runs
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    assert len(uploads) == 2
    for used in re.findall(r"guardrail (\w+)", runs):
        assert used in COMMANDS
