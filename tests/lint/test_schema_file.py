"""docs/policy.schema.json is what `guardrail policy schema` prints, and the shipped policies use it."""

from __future__ import annotations

import json

import jsonschema  # type: ignore[import-untyped]
import yaml

from guardrail.policy.schema import policy_json_schema
from tests.lint.helpers import REPO

SCHEMA_FILE = REPO / "docs" / "policy.schema.json"


def test_schema_file_is_up_to_date() -> None:
    # a section whose owner's model is missing (UNVALIDATED) is a plain mapping in both
    expected = json.dumps(policy_json_schema(), indent=2) + "\n"
    assert SCHEMA_FILE.read_text() == expected, (
        "docs/policy.schema.json is stale: run `guardrail policy schema > docs/policy.schema.json`"
    )


def test_shipped_policies_point_at_it_and_validate() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    shipped = sorted((REPO / "policies").glob("*.yaml"))
    assert {p.stem for p in shipped} >= {"default", "strict", "ci"}
    for policy in shipped:
        first = policy.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/policy.schema.json", policy
        jsonschema.validate(yaml.safe_load(policy.read_text()), schema)
