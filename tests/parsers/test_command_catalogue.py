"""The command catalogue is data: the shipped one validates, and a policy can extend it."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrail.decision import Verdict
from guardrail.errors import PolicyError
from guardrail.parsers.command_spec import validate_catalogue
from guardrail.parsers.commands import base_catalog_raw, build_catalog
from guardrail.pipeline import Guard


def test_shipped_catalogue_validates() -> None:
    specs = validate_catalogue(base_catalog_raw())
    assert {"rm", "cp", "mv", "find", "dd", "chmod", "chown", "tee", "curl", "wget", "git", "pip",
            "npm", "psql", "sqlite3", "python", "ssh", "scp", "rsync", "nc"} <= set(specs)


def test_aliases_and_versioned_names() -> None:
    catalog = build_catalog()
    assert catalog.get("python3.12") is not None
    assert catalog.get("bash") is not None and catalog.get("bash").handler == "shell"  # type: ignore[union-attr]
    assert catalog.get("no-such-tool") is None


def test_policy_extends_the_catalogue(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\n"
        "extends: default\n"
        "commands:\n"
        "  syncdir: {args: read, last: write, recursive: [-r]}\n"
        "  deploy: {tags: [network]}\n"
        "rules:\n"
        "  - id: syncdir-tool\n"
        "    decision: allow\n"
        "    match: {effect: exec, command: [syncdir]}\n"
        "  - id: deploys-are-asked\n"
        "    decision: ask\n"
        "    match: {effect: exec, tags: [network], command: [deploy]}\n"
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    guard = Guard.from_policy(policy, workspace=ws)
    assert guard.check({"tool": "shell", "command": "syncdir -r src build"}).verdict is Verdict.ALLOW
    denied = guard.check({"tool": "shell", "command": "syncdir -r src /etc/app"})
    assert denied.verdict is Verdict.DENY and "change-outside" in denied.rules
    assert guard.check({"tool": "shell", "command": "deploy prod"}).rules == ["deploys-are-asked"]


def test_a_bad_catalogue_entry_is_a_located_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ncommands:\n  tool: {args: readd}\nrules: []\n")
    with pytest.raises(PolicyError) as info:
        Guard.from_policy(policy, workspace=tmp_path)
    assert "policy.yaml:3" in str(info.value)
