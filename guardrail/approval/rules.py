"""Narrow allow rules, for "always allow" and `guardrail suggest`.

A rule is written per effect that was asked about, in the format of
docs/policy-format.md, as narrow as the format allows: a program with its
subcommand and its exact arguments (`args` + `argc`), a path with its
operation and location, a host with its scheme, port and method, an SQL
statement kind. Effects that cannot be pinned down (unknown paths or
hosts, code guardrail cannot read) get no rule: such calls are never
"always" allowed.

Rules work on effect *dicts* (`guardrail.audit.to_jsonable` of an effect),
so a trail read back from disk proposes the same rules as a live call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

PROJECT_POLICY = Path(".guardrail") / "policy.yaml"
_GLOB_CHARS = re.compile(r"([*?\[])")


class NotNarrow(ValueError):
    """This effect cannot be matched narrowly enough to be allowed for ever."""


def glob_literal(text: str) -> str:
    """A glob matching exactly `text` (fnmatch: [*] [?] [[] escape)."""
    return _GLOB_CHARS.sub(r"[\1]", text)


def match_for_effect(effect: dict[str, Any]) -> dict[str, Any]:
    """The narrowest `match:` mapping for one effect; NotNarrow when there is none."""
    kind = effect.get("kind")
    if kind == "exec":
        argv = [str(a) for a in effect.get("argv") or []]
        if not argv or not effect.get("command"):
            raise NotNarrow("a program without its arguments")
        match: dict[str, Any] = {"effect": "exec", "command": glob_literal(str(effect["command"]))}
        if effect.get("subcommand"):
            match["subcommand"] = glob_literal(str(effect["subcommand"]))
        args = [glob_literal(a) for a in argv[1:]]
        match["argc"] = len(args)
        distinct = list(dict.fromkeys(args))
        if len(distinct) == 1:
            match["args"] = distinct
        elif distinct:
            # `args` holds when *some* argument matches; every one must be there:
            # not (any (not a1), (not a2), ...) == a1 and a2 and ...
            match["not"] = {"any": [{"not": {"args": [a]}} for a in distinct]}
        return match
    if kind == "path":
        if not effect.get("path") or effect.get("location") in ("unknown", "device"):
            raise NotNarrow("a path that is not known before the command runs")
        match = {
            "effect": "path",
            "op": [effect["op"]],
            "location": [effect["location"]],
            "path": glob_literal(str(effect["path"])),
        }
        for flag in ("recursive", "whole", "ancestor"):
            if effect.get(flag):
                match[flag] = True
        return match
    if kind == "net":
        if not effect.get("host") or effect.get("address") in ("invalid", "metadata"):
            raise NotNarrow("a network peer that is not known or must never be allowed")
        match = {"effect": "net", "protocol": [effect["protocol"]], "host": glob_literal(str(effect["host"]))}
        for name in ("scheme", "method"):
            if effect.get(name):
                match[name] = [effect[name]]
        if effect.get("port") is not None:
            match["port"] = [effect["port"]]
        return match
    if kind == "db":
        if not effect.get("parsed", True):
            raise NotNarrow("an SQL statement that does not parse")
        match = {"effect": "db", "statement": [glob_literal(str(effect["statement"]))]}
        if effect.get("where"):
            match["where"] = [effect["where"]]
        return match
    raise NotNarrow(f"a {kind} effect (code guardrail cannot read, or a data flow)")


def asked_effects(decision: dict[str, Any]) -> list[dict[str, Any]]:
    """The effects a decision record (`audit.decision_data`) asked about; all when it cannot tell."""
    effects: list[dict[str, Any]] = [e for e in decision.get("effects") or [] if isinstance(e, dict)]
    asked = [effects[i] for i in decision.get("asked") or [] if isinstance(i, int) and 0 <= i < len(effects)]
    return asked or effects


def rules_for_effects(
    effects: list[dict[str, Any]], *, example: Any, description: str, risk: str = "low"
) -> list[dict[str, Any]]:
    """One allow rule per effect (duplicates merged); NotNarrow if any effect cannot be pinned."""
    return rules_for_matches(
        [match_for_effect(e) for e in effects], example=example, description=description, risk=risk
    )


def rules_for_matches(
    matches: list[dict[str, Any]], *, example: Any, description: str, risk: str = "low", prefix: str = "always"
) -> list[dict[str, Any]]:
    """Allow rules for narrow matches, with ids derived from the match (same match, same id)."""
    rules: dict[str, dict[str, Any]] = {}
    for match in matches:
        digest = hashlib.sha256(json.dumps(match, sort_keys=True).encode()).hexdigest()[:10]
        rule_id = f"{prefix}-{match['effect']}-{digest}"
        rules[rule_id] = {
            "id": rule_id,
            "description": description,
            "decision": "allow",
            "overrides": True,  # sets aside the base policy's asks on this effect; denies stay
            "risk": risk,
            "match": match,
            "examples": {"match": example if isinstance(example, list) else [example]},
        }
    if not rules:
        raise NotNarrow("the call has no effect to write a rule for")
    return list(rules.values())


def example_of(call: dict[str, Any]) -> Any:
    """A shell call is its command line; other tools are their JSON object."""
    if call.get("tool") == "shell" and set(call) <= {"tool", "command"}:
        return call["command"]
    return {k: v for k, v in call.items() if k not in ("content", "old", "new")}


def rules_yaml(rules: list[dict[str, Any]]) -> str:
    import yaml

    return str(yaml.safe_dump(rules, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100))


# ------------------------------------------------- the project's policy file


def write_rules(workspace: str | os.PathLike[str], rules: list[dict[str, Any]], *, base: str = "default") -> list[dict[str, Any]]:
    """Add rules to `.guardrail/policy.yaml` (created to `extends` the base); returns those added.

    A rule whose id is already there is not added again. The file is
    rewritten atomically under a lock; comments above `rules:` are kept.
    """
    import fcntl

    import yaml

    path = Path(workspace) / PROJECT_POLICY
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = path.read_text(encoding="utf-8") if path.exists() else _new_policy(base)
        doc = yaml.safe_load(text) or {}
        if not isinstance(doc, dict):
            raise ValueError(f"{path} is not a YAML mapping: fix it before adding rules")
        existing = {r.get("id") for r in doc.get("rules") or [] if isinstance(r, dict)}
        added = [r for r in rules if r["id"] not in existing]
        if not added:
            return []
        new_text = _append_rules(text, doc, added)
        check = yaml.safe_load(new_text)
        if [r for r in check.get("rules") or [] if r.get("id") in {a["id"] for a in added}] != added:
            raise ValueError(f"could not add rules to {path} safely: edit it by hand")
        from guardrail.approval.session import atomic_write_text

        atomic_write_text(path, new_text)
        return added
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _new_policy(base: str) -> str:
    return (
        "# This project's own rules, on top of the base policy.\n"
        "# guardrail adds narrow allow rules here when you answer \"always allow\".\n"
        "version: 1\n"
        f"extends: {base}\n"
        "rules: []\n"
    )


def _append_rules(text: str, doc: dict[str, Any], rules: list[dict[str, Any]]) -> str:
    """Append to a block `rules:` at the end of the file, else re-dump the mapping."""
    import yaml

    block = rules_yaml(rules)

    def indent(col: int) -> str:
        pad = " " * col
        return "".join(pad + line if line.strip() else line for line in block.splitlines(keepends=True))

    lines = text.rstrip("\n").splitlines()
    keys = list(doc)
    if lines and lines[-1] in ("rules: []", "rules:") and keys and keys[-1] == "rules":
        return "\n".join([*lines[:-1], "rules:"]) + "\n" + indent(2)
    if keys and keys[-1] == "rules" and isinstance(doc["rules"], list) and doc["rules"]:
        node = yaml.compose(text)
        rules_node = node.value[-1][1] if node is not None else None
        if rules_node is not None and text[rules_node.start_mark.index : rules_node.start_mark.index + 1] == "-":
            return text.rstrip("\n") + "\n" + indent(rules_node.start_mark.column)
    doc = {**doc, "rules": [*(doc.get("rules") or []), *rules]}
    header = "".join(line + "\n" for line in lines if line.startswith("#") and lines.index(line) < 5)
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def rules_for_request(req: Any) -> list[dict[str, Any]]:
    """The "always allow" rules for a live approval request (NotNarrow when impossible)."""
    from guardrail.audit import decision_data
    from guardrail.calls import call_to_dict

    call = call_to_dict(req.call)
    decision = decision_data(req.decision, call_id="")
    summary = example_of(call)
    text = summary if isinstance(summary, str) else json.dumps(summary, sort_keys=True)
    return rules_for_effects(
        asked_effects(decision),
        example=summary,
        description=f"Always allowed by a human: {text[:120]}",
    )
