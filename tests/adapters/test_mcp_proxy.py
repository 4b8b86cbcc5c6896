"""`guardrail mcp proxy` with the official SDK on both ends, over stdio.

The downstream is tests/adapters/servers/toy_server.py (the SDK's MCPServer,
FastMCP's name in mcp 2); its tools only log what reached them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest

from tests.adapters.mcp_helpers import TOY, proxy_args, session, text_of

POLICY = """version: 1
extends: default
mcp:
  tools:
    - {id: no-nukes, tool: "NUKE_*", decision: deny, reason: "nothing gets nuked"}
    - {tool: echo, decision: allow}
  call_timeout: 3
"""


@pytest.fixture
def policy(workspace: Path) -> Path:
    path = workspace.parent / "policy.yaml"
    path.write_text(POLICY)
    return path


def _log(ws: Path) -> list[str]:
    path = ws.parent / "toy.log"
    return path.read_text().splitlines() if path.exists() else []


def _env(ws: Path) -> dict[str, str]:
    return {"TOY_SERVER_LOG": str(ws.parent / "toy.log")}


def _run(fn: Any) -> Any:
    return anyio.run(fn)


def test_allowed_call_returns_the_downstream_result_unchanged(workspace: Path, policy: Path) -> None:
    async def go() -> tuple[Any, Any]:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace)) as s:
            via_proxy = await s.call_tool("run_command", {"command": "ls -la"})
        async with session(TOY[1:], workspace, env=_env(workspace)) as s:
            direct = await s.call_tool("run_command", {"command": "ls -la"})
        return via_proxy, direct

    via_proxy, direct = _run(go)
    assert not via_proxy.is_error
    assert via_proxy.model_dump() == direct.model_dump()
    assert _log(workspace) == ["run_command ls -la", "run_command ls -la"]


def test_denied_call_is_an_error_result_with_the_rule(workspace: Path, policy: Path) -> None:
    async def go() -> Any:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace)) as s:
            return await s.call_tool("write_file", {"path": "/etc/cron.d/x", "content": "* * * * * root sh"})

    result = _run(go)
    assert result.is_error
    assert "change-outside" in text_of(result) and "/etc/cron.d/x" in text_of(result)
    sc = result.structured_content
    assert sc["decision"] == "deny" and sc["rules"] == ["change-outside"] and len(sc["call_id"]) == 32
    assert _log(workspace) == []  # never reached the downstream


def test_tools_denied_by_name_are_hidden_and_refused_case_insensitively(workspace: Path, policy: Path) -> None:
    async def go() -> tuple[list[str], Any]:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace)) as s:
            names = [t.name for t in (await s.list_tools()).tools]
            return names, await s.call_tool("nuke_everything", {})

    names, result = _run(go)
    assert "nuke_everything" not in names and "echo" in names and "write_file" in names
    assert result.is_error and result.structured_content["rules"] == ["no-nukes"]
    assert "nothing gets nuked" in text_of(result)
    assert _log(workspace) == []


def test_mapping_tool_names_are_case_insensitive(workspace: Path, policy: Path) -> None:
    from guardrail.adapters.mcp_policy import McpRules
    from guardrail.pipeline import Guard

    guard = Guard.from_policy(policy, workspace=workspace, audit=False)
    rules = McpRules.from_policy(guard.policy)
    assert rules.decide(guard, "s", "Write_File", {"path": "/etc/x", "content": ""}).decision.rules == ["change-outside"]
    assert rules.always_denied("toy", "Nuke_Everything")


def _elicit(answer: dict[str, Any] | None, action: str = "accept", seen: list[str] | None = None) -> Any:
    async def callback(ctx: Any, params: Any) -> types.ElicitResult:
        if seen is not None:
            seen.append(params.message)
            seen.append(json.dumps(params.requested_schema))
        return types.ElicitResult(action=action, content=answer)

    return callback


@pytest.mark.parametrize(("answer", "action", "allowed"), [
    ({"decision": "allow_once"}, "accept", True),
    ({"decision": "allow_session"}, "accept", True),
    ({"decision": "deny"}, "accept", False),
    (None, "decline", False),
    (None, "cancel", False),
    ({"decision": "yes please"}, "accept", False),
    ({}, "accept", False),
])
def test_ask_goes_to_elicitation(workspace: Path, policy: Path, answer: Any, action: str, allowed: bool) -> None:
    seen: list[str] = []

    async def go() -> Any:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace),
                           elicitation=_elicit(answer, action, seen)) as s:
            return await s.call_tool("frobnicate", {"level": 7})

    result = _run(go)
    assert len(seen) == 2
    assert "frobnicate" in seen[0] and "mcp-default" in seen[0] and "risk: medium" in seen[0]
    assert "allow_session" in seen[1]
    assert result.is_error is not allowed
    assert _log(workspace) == (["frobnicate 7"] if allowed else [])


def test_allow_for_the_session_is_remembered(workspace: Path, policy: Path) -> None:
    seen: list[str] = []

    async def go() -> list[Any]:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace),
                           elicitation=_elicit({"decision": "allow_session"}, seen=seen)) as s:
            return [await s.call_tool("frobnicate", {"level": 1}), await s.call_tool("frobnicate", {"level": 2})]

    results = _run(go)
    assert [r.is_error for r in results] == [False, False]
    assert len(seen) == 2  # asked once
    assert _log(workspace) == ["frobnicate 1", "frobnicate 2"]


def test_ask_without_elicitation_uses_the_approver(workspace: Path, policy: Path) -> None:
    # No TTY and no approver configured: the auto approver, which denies.
    async def go() -> Any:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace)) as s:
            return await s.call_tool("frobnicate", {"level": 3})

    result = _run(go)
    assert result.is_error and "denied" in text_of(result)
    assert _log(workspace) == []


@pytest.mark.parametrize(("answers", "allowed"), [("allow_once", True), ("deny", False)])
def test_ask_with_a_scripted_approver(workspace: Path, answers: str, allowed: bool) -> None:
    args = ["-m", "tests.adapters.servers.scripted", str(workspace), answers, "proxy", "--", *TOY]

    async def go() -> Any:
        async with session(args, workspace, env=_env(workspace)) as s:
            return await s.call_tool("write_file", {"path": str(workspace / ".git" / "config"), "content": "x"})

    result = _run(go)
    assert result.is_error is not allowed
    asked = [json.loads(line) for line in (workspace / "approver.log").read_text().splitlines()]
    assert asked[0]["call"]["op"] == "write" and asked[0]["rules"]


def test_every_call_is_audited(workspace: Path, policy: Path) -> None:
    async def go() -> None:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace),
                           elicitation=_elicit({"decision": "allow_once"})) as s:
            await s.call_tool("echo", {"text": "hi"})
            await s.call_tool("write_file", {"path": "/etc/x", "content": ""})
            await s.call_tool("frobnicate", {})

    _run(go)
    records = [json.loads(line) for line in (workspace / ".guardrail" / "audit.jsonl").read_text().splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds == ["call", "decision", "result", "call", "decision", "call", "decision", "approval", "result"]
    assert records[0]["data"]["mcp"]["tool"] == "echo"
    assert records[4]["data"]["decision"] == "deny"
    assert records[7]["data"]["approver"] == "elicitation"


def test_downstream_killed_mid_call_gives_an_error_in_bounded_time(workspace: Path, policy: Path) -> None:
    async def go() -> tuple[Any, Any, float]:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace),
                           elicitation=_elicit({"decision": "allow_once"})) as s:
            start = time.monotonic()
            with anyio.fail_after(30):
                crashed = await s.call_tool("crash", {})
                after = await s.call_tool("echo", {"text": "still there?"})
            return crashed, after, time.monotonic() - start

    crashed, after, took = _run(go)
    assert crashed.is_error and "gone" in text_of(crashed)
    assert after.is_error and "gone" in text_of(after)
    assert took < 30


def test_downstream_that_hangs_gives_an_error_after_the_timeout(workspace: Path, policy: Path) -> None:
    async def go() -> tuple[Any, float]:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace),
                           elicitation=_elicit({"decision": "allow_once"})) as s:
            start = time.monotonic()
            with anyio.fail_after(30):
                result = await s.call_tool("hang", {"seconds": 60})
            return result, time.monotonic() - start

    result, took = _run(go)
    assert result.is_error and "did not answer within 3 s" in text_of(result)
    assert took < 30


def test_resources_and_prompts_pass_through(workspace: Path, policy: Path) -> None:
    async def go() -> tuple[Any, Any, Any, Any]:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace)) as s:
            return (await s.list_resources(), await s.read_resource("toy://readme"),
                    await s.list_prompts(), await s.get_prompt("greet", {"name": "Ada"}))

    resources, readme, prompts, greet = _run(go)
    assert [str(r.uri) for r in resources.resources] == ["toy://readme"]
    assert readme.contents[0].text == "toy readme"
    assert [p.name for p in prompts.prompts] == ["greet"]
    assert greet.messages[0].content.text == "Hello Ada"


def test_unknown_tool_arguments_that_do_not_fit_a_mapping_are_denied(workspace: Path, policy: Path) -> None:
    async def go() -> Any:
        async with session(proxy_args(workspace, TOY, policy=policy), workspace, env=_env(workspace)) as s:
            return await s.call_tool("write_file", {"path": 42, "content": "x"})

    result = _run(go)
    assert result.is_error and result.structured_content["rules"] == ["mcp-invalid-arguments"]
