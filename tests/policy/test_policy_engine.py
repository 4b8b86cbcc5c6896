"""The engine: every condition of the format, precedence, fallback, reasons."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import pytest

from guardrail.decision import Risk, Verdict
from guardrail.effects import (
    CodeEffect,
    DbEffect,
    Effect,
    ExecEffect,
    FlowEffect,
    NetEffect,
    PathEffect,
)
from guardrail.policy.compiled import CompiledPolicy
from guardrail.policy.engine import evaluate, matching_rules

LoadPolicy = Callable[..., CompiledPolicy]  # the `compile_text` fixture


def fires(compile_text: LoadPolicy, match: str, effect: Effect) -> bool:
    """Whether a one-rule policy with this `match` (YAML flow mapping) fires on `effect`."""
    policy = compile_text(
        f"""
        version: 1
        lists:
          secrets: ["~/.aws/**", "*.pem"]
          hosts: [pypi.org, "*.github.com"]
        rules:
          - id: r
            decision: deny
            match: {match}
        """
    )
    path = getattr(effect, "path", None)
    if isinstance(path, str) and path.startswith("~/"):  # the test's HOME, set by the fixture
        effect = dataclasses.replace(effect, path=os.environ["HOME"] + path[1:])  # type: ignore[arg-type]
    return [r.id for r in matching_rules(effect, policy)] == ["r"]


def read(path: str | None, location: str = "outside", **kw: object) -> PathEffect:
    return PathEffect("read", path, location, **kw)  # type: ignore[arg-type]


def http(host: str | None, address: str = "public", **kw: object) -> NetEffect:
    return NetEffect("http", host, address, **kw)  # type: ignore[arg-type]


def run(*argv: str, **kw: object) -> ExecEffect:
    return ExecEffect(argv[0], argv, **kw)  # type: ignore[arg-type]


CASES: list[tuple[str, Effect, bool]] = [
    # path
    ("{effect: path, op: [read, list]}", read("/x"), True),
    ("{effect: path, op: write}", read("/x"), False),
    ("{effect: path, location: outside}", read("/x"), True),
    ("{effect: path, location: [inside, scratch]}", read("/x"), False),
    ("{effect: path, path: '@secrets'}", read("~/.aws/credentials"), True),
    ("{effect: path, path: '@secrets'}", read("/w/a.pem", "inside"), True),
    ("{effect: path, path: '@secrets'}", read("/w/a.txt", "inside"), False),
    ("{effect: path, path: '**'}", read(None, "unknown"), False),  # unknown paths never match
    ("{effect: path, path: ['@secrets', '!*.pem']}", read("/w/a.pem"), False),
    ("{effect: path, whole: true}", PathEffect("delete", "/w", "inside", whole=True), True),
    ("{effect: path, whole: true}", PathEffect("delete", "/w/a", "inside"), False),
    ("{effect: path, ancestor: true}", PathEffect("delete", "/", "outside", ancestor=True), True),
    ("{effect: path, in_git: true}", PathEffect("write", "/w/.git/x", "inside", in_git=True), True),
    ("{effect: path, recursive: false}", PathEffect("delete", "/w/a", "inside"), True),
    ("{effect: path, setuid: true}", PathEffect("chmod", "/w/a", "inside", setuid=True), True),
    ("{effect: path, to_root: true}", PathEffect("chown", "/w/a", "inside", to_root=True), True),
    ("{effect: path, source: 're:\\.env'}", read("/w/.env", source="cat .env"), True),
    ("{effect: path, source: 're:^ls'}", read("/w/.env", source="cat .env"), False),
    # net
    ("{effect: net, protocol: HTTP}", http("pypi.org"), True),
    ("{effect: net, protocol: ssh}", http("pypi.org"), False),
    ("{effect: net, scheme: [https]}", http("pypi.org", scheme="https"), True),
    ("{effect: net, scheme: [file]}", http("pypi.org", scheme="https"), False),
    ("{effect: net, host: '@hosts'}", http("api.github.com"), True),
    ("{effect: net, host: '@hosts'}", http("github.com"), False),
    ("{effect: net, host: '@hosts'}", http(None), False),
    ("{effect: net, address: [metadata, link_local]}", http("169.254.169.254", "metadata"), True),
    ("{effect: net, address_in: [169.254.0.0/16]}", http("169.254.169.254", "metadata"), True),
    ("{effect: net, method: [post, put]}", http("x.com", method="POST"), True),
    ("{effect: net, method: [get, head]}", http("x.com", method="POST"), False),
    ("{effect: net, port: [22, {min: 8000, max: 8999}]}", http("x.com", port=8080), True),
    ("{effect: net, port: 443}", http("x.com", port=80), False),
    ("{effect: net, userinfo: true}", http("x.com", userinfo=True), True),
    ("{effect: net, content: 'ghp_[A-Za-z0-9]{8}'}", http("x.com", body="t=ghp_abcdefgh1"), True),
    (
        "{effect: net, content: 're:(?i)authorization: token'}",
        http("x.com", headers=("Authorization: token x",)),
        True,
    ),
    ("{effect: net, content: 'AKIA'}", http("x.com", body=None), False),
    # db
    ("{effect: db, statement: ['DROP *', truncate]}", DbEffect("DROP TABLE"), True),
    ("{effect: db, statement: ['DROP *', truncate]}", DbEffect("TRUNCATE"), True),
    (
        "{effect: db, statement: DELETE, where: [none, trivial]}",
        DbEffect("DELETE", where="none"),
        True,
    ),
    (
        "{effect: db, statement: DELETE, where: [none, trivial]}",
        DbEffect("DELETE", where="real"),
        False,
    ),
    (
        "{effect: db, features: [file_access]}",
        DbEffect("SELECT", features=frozenset({"file_access"})),
        True,
    ),
    ("{effect: db, features: [file_access]}", DbEffect("SELECT"), False),
    ("{effect: db, parsed: false}", DbEffect("UNKNOWN", parsed=False), True),
    # exec
    ("{effect: exec, command: [rm, rmdir]}", run("rm", "x"), True),
    ("{effect: exec, command: 'rm*'}", run("rmdir", "x"), True),
    ("{effect: exec, command: rm}", run("ls"), False),
    ("{effect: exec, command: git, subcommand: push}", run("git", "push", subcommand="push"), True),
    (
        "{effect: exec, command: git, subcommand: 'p*'}",
        run("git", "status", subcommand="status"),
        False,
    ),
    ("{effect: exec, flags: [-f, --force]}", run("rm", "-f", "x", flags=frozenset({"-f"})), True),
    ("{effect: exec, flags_all: [-r, -f]}", run("rm", "-f", "x", flags=frozenset({"-f"})), False),
    (
        "{effect: exec, flags_all: [-r, -f]}",
        run("rm", "-rf", "x", flags=frozenset({"-r", "-f"})),
        True,
    ),
    ("{effect: exec, args: ['/etc/*']}", run("cat", "/etc/hosts"), True),
    ("{effect: exec, args: ['/etc/*']}", run("/etc/x"), False),  # the name is not an argument
    ("{effect: exec, argc: 0}", run("env"), True),
    ("{effect: exec, argc: {min: 1}}", run("env"), False),
    ("{effect: exec, tags: [privilege]}", run("sudo", "ls", tags=frozenset({"privilege"})), True),
    ("{effect: exec, program: [inside]}", run("./t.sh", program="inside"), True),
    ("{effect: exec, program: [inside]}", run("ls"), False),
    # code
    (
        "{effect: code, code: [remote_code, reverse_shell]}",
        CodeEffect("remote_code", "curl | sh"),
        True,
    ),
    ("{effect: code, code: fork_bomb}", CodeEffect("dynamic", "eval $x"), False),
    # flow
    (
        "{effect: flow, origin: path, path: '@secrets'}",
        FlowEffect("path", path="~/.aws/c"),
        True,
    ),
    ("{effect: flow, origin: env}", FlowEffect("path", path="/x"), False),
    (
        "{effect: flow, location: [inside]}",
        FlowEffect("path", path="/w/.env", location="inside"),
        True,
    ),
    ("{effect: flow, variable: ['*TOKEN*']}", FlowEffect("variable", variable="gh_token"), True),
    ("{effect: flow, host: '@hosts'}", FlowEffect("env", sink=http("api.github.com")), True),
    ("{effect: flow, host: '@hosts'}", FlowEffect("env"), False),  # no sink: no match
    ("{effect: flow, not: {host: '@hosts'}}", FlowEffect("env", sink=http("evil.com")), True),
    (
        "{effect: flow, address: loopback}",
        FlowEffect("env", sink=http("127.0.0.1", "loopback")),
        True,
    ),
    ("{effect: flow, address_in: [10.0.0.0/8]}", FlowEffect("env", sink=http("10.2.3.4")), True),
    # combinators
    ("{effect: net, not: {address: loopback}}", http("x.com"), True),
    ("{effect: net, not: {address: loopback}}", http("localhost", "loopback"), False),
    (
        "{effect: net, not: {address: loopback, method: GET}}",
        http("localhost", "loopback", method="POST"),
        True,
    ),
    (
        "{effect: exec, any: [{command: sudo}, {tags: privilege}]}",
        run("doas", tags=frozenset({"privilege"})),
        True,
    ),
    ("{effect: exec, any: [{command: sudo}, {tags: privilege}]}", run("ls"), False),
    (
        "{effect: exec, command: rm, any: [{flags: -r}, {flags: -R}]}",
        run("rm", "-R", "x", flags=frozenset({"-R"})),
        True,
    ),
    # a rule of another kind never fires
    ("{effect: exec, command: rm}", read("/x"), False),
]


@pytest.mark.parametrize(("match", "effect", "expected"), CASES)
def test_condition(compile_text: LoadPolicy, match: str, effect: Effect, expected: bool) -> None:
    assert fires(compile_text, match, effect) is expected


PRECEDENCE = """
version: 1
rules:
  - {id: allow-read, decision: allow, match: {effect: path, op: read}}
  - {id: deny-etc, decision: deny, risk: critical, match: {effect: path, path: "/etc/**"}}
  - {id: ask-outside, decision: ask, match: {effect: path, location: outside}}
"""


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_deny_beats_ask_beats_allow_whatever_the_order(
    compile_text: LoadPolicy, order: list[int]
) -> None:
    head, *rules = PRECEDENCE.strip().split("\n  - ")
    text = head + "".join("\n  - " + rules[i] for i in order) + "\n"
    policy = compile_text(text)
    decision = evaluate([read("/etc/shadow")], policy)
    assert decision.verdict is Verdict.DENY
    assert decision.risk is Risk.CRITICAL
    assert decision.rules == ["deny-etc"]
    assert {f.rule_id for f in decision.fired} == {"allow-read", "deny-etc", "ask-outside"}
    ask = evaluate([read("/home/x")], policy)
    assert (ask.verdict, ask.rules) == (Verdict.ASK, ["ask-outside"])
    assert evaluate([read("/w/a", "inside")], policy).verdict is Verdict.ALLOW


def test_most_restrictive_across_effects_and_risk_of_the_deciding_rules(
    compile_text: LoadPolicy,
) -> None:
    policy = compile_text(
        """
        version: 1
        rules:
          - {id: a, decision: ask, risk: high, match: {effect: exec, command: curl}}
          - {id: b, decision: ask, match: {effect: net, address: public}}
          - {id: c, decision: allow, risk: critical, match: {effect: path, location: inside}}
        """
    )
    effects: list[Effect] = [run("curl", "x.com"), http("x.com"), read("/w/a", "inside")]
    decision = evaluate(effects, policy)
    assert decision.verdict is Verdict.ASK
    assert decision.risk is Risk.HIGH  # the allow's critical does not count
    assert decision.rules == ["a", "b"]
    assert [f.effect for f in decision.fired] == effects
    assert decision.effects == tuple(effects)
    assert decision.reason == "ask: a on run curl x.com; b on http x.com (public)"


def test_fallback_per_unmatched_effect(compile_text: LoadPolicy) -> None:
    policy = compile_text(
        """
        version: 1
        fallback: deny
        rules:
          - {id: ok, decision: allow, match: {effect: exec, command: ls}}
        """
    )
    decision = evaluate([run("ls"), run("mystery")], policy)
    assert decision.verdict is Verdict.DENY
    assert decision.rules == ["fallback"]
    assert decision.risk is Risk.HIGH
    assert "no rule matches run mystery (fallback)" in decision.reason
    assert [f.rule_id for f in decision.fired] == ["ok", "fallback"]
    default = compile_text("version: 1\n")
    assert evaluate([run("ls")], default).verdict is Verdict.ASK  # the default fallback


def test_no_effects_is_the_callers_choice(compile_text: LoadPolicy) -> None:
    policy = compile_text("version: 1\nfallback: ask\n")
    assert evaluate([], policy).verdict is Verdict.ASK
    assert evaluate([], policy).rules == ["no-effects"]
    allowed = evaluate([], policy, allow_no_effects=True)
    assert (allowed.verdict, allowed.rules) == (Verdict.ALLOW, ["no-effects"])


def test_default_risks(compile_text: LoadPolicy) -> None:
    policy = compile_text(
        """
        version: 1
        rules:
          - {id: a, decision: allow, match: {effect: code, code: dynamic}}
          - {id: b, decision: ask, match: {effect: code, code: dynamic}}
          - {id: c, decision: deny, match: {effect: code, code: fork_bomb}}
        """
    )
    assert [r.risk for r in policy.rules] == [Risk.LOW, Risk.MEDIUM, Risk.HIGH]


def test_exec_index_keeps_glob_rules_and_policy_order(compile_text: LoadPolicy) -> None:
    policy = compile_text(
        """
        version: 1
        rules:
          - {id: any-r, decision: ask, match: {effect: exec, command: "r*"}}
          - {id: rm, decision: deny, match: {effect: exec, command: [rm, unlink]}}
          - {id: all, decision: allow, match: {effect: exec, argc: {min: 0}}}
          - {id: rm-f, decision: deny, match: {effect: exec, command: rm, flags: -f}}
        """
    )
    rm = run("rm", "-f", "x", flags=frozenset({"-f"}))
    assert [r.id for r in matching_rules(rm, policy)] == ["any-r", "rm", "all", "rm-f"]
    assert [r.id for r in matching_rules(run("rmdir"), policy)] == ["any-r", "all"]
    assert [r.id for r in matching_rules(run("unlink", "x"), policy)] == ["rm", "all"]
    assert [r.id for r in matching_rules(run("ls"), policy)] == ["all"]


def test_path_index_by_op_and_location(compile_text: LoadPolicy) -> None:
    policy = compile_text(
        """
        version: 1
        rules:
          - {id: w-out, decision: deny, match: {effect: path, op: [write, delete], location: outside}}
          - {id: r, decision: allow, match: {effect: path, op: read}}
          - {id: any, decision: ask, match: {effect: path, path: "/x/**"}}
        """
    )
    assert [r.id for r in matching_rules(PathEffect("write", "/x/a", "outside"), policy)] == [
        "w-out",
        "any",
    ]
    assert [r.id for r in matching_rules(PathEffect("write", "/x/a", "inside"), policy)] == ["any"]
    assert [r.id for r in matching_rules(read("/y"), policy)] == ["r"]


def test_reason_is_one_line_and_bounded(compile_text: LoadPolicy) -> None:
    policy = compile_text(
        """
        version: 1
        rules:
          - {id: a, decision: ask, match: {effect: exec, argc: {min: 0}}}
        """
    )
    effects = [run(f"c{i}", "x\ny") for i in range(6)]
    reason = evaluate(effects, policy).reason
    assert "\n" not in reason
    assert reason.endswith("; and 3 more")


INDEXED = """
version: 1
rules:
  - {id: any-git, decision: ask, match: {effect: exec, any: [{command: git, subcommand: push}, {command: [rm, git], flags: -f}, {command: sudo}]}}
  - {id: any-mixed, decision: ask, match: {effect: exec, any: [{command: git}, {tags: privilege}]}}
  - {id: glob, decision: ask, match: {effect: exec, command: "g*", not: {subcommand: status}}}
  - {id: plain, decision: deny, match: {effect: exec, command: [sudo, doas]}}
  - {id: generic, decision: allow, match: {effect: exec, argc: {max: 1}}}
  - {id: both, decision: deny, match: {effect: exec, command: git, any: [{subcommand: reset}, {subcommand: clean}]}}
  - {id: stmt, decision: ask, match: {effect: db, any: [{statement: DROP TABLE}, {statement: TRUNCATE, parsed: true}]}}
  - {id: stmt-glob, decision: ask, match: {effect: db, statement: "DROP *"}}
  - {id: p1, decision: deny, match: {effect: path, op: [write, delete], location: [outside, device]}}
  - {id: p2, decision: ask, match: {effect: path, any: [{op: read}, {location: unknown}]}}
  - {id: n1, decision: ask, match: {effect: net, address: [private, link_local], not: {method: GET}}}
"""


def _indexed_effects() -> list[Effect]:
    effects: list[Effect] = []
    for command in ("git", "rm", "sudo", "doas", "gcc", "ls"):
        for sub in (None, "push", "status", "reset", "clean"):
            for flags in (frozenset(), frozenset({"-f"})):
                for tags in (frozenset(), frozenset({"privilege"})):
                    argv = (command, *([sub] if sub else []), *sorted(flags))
                    effects.append(
                        ExecEffect(command, argv, subcommand=sub, flags=flags, tags=tags)
                    )
    for statement in ("DROP TABLE", "DROP INDEX", "TRUNCATE", "SELECT"):
        effects += [DbEffect(statement), DbEffect(statement, parsed=False)]
    for op in ("read", "write", "delete", "list"):
        for location in ("inside", "outside", "unknown", "device"):
            effects.append(PathEffect(op, "/x", location))  # type: ignore[arg-type]
    for address in ("private", "public", "link_local"):
        for method in ("GET", "POST"):
            effects.append(http("h", address, method=method))
    return effects


def test_indexed_matching_equals_trying_every_rule(compile_text: LoadPolicy) -> None:
    policy = compile_text(INDEXED)
    for effect in _indexed_effects():
        naive = [rule.id for rule in policy.rules if rule.matches(effect)]
        assert [rule.id for rule in matching_rules(effect, policy)] == naive, effect


def test_any_of_named_commands_is_indexed(compile_text: LoadPolicy) -> None:
    policy = compile_text(INDEXED)
    ls_rules = [rule.id for rule, _left in policy.candidates(run("ls"))]
    assert "any-git" not in ls_rules and "both" not in ls_rules  # cannot match ls
    [(_rule, left)] = [c for c in policy.candidates(run("sudo")) if c[0].id == "any-git"]
    assert left == ()  # `{command: sudo}` holds outright for sudo
