"""Session memory, call hashes, one-time grants and the approval flow."""

from __future__ import annotations

from pathlib import Path

import yaml

from guardrail.approval.auto import AutoApprover
from guardrail.approval.base import ApprovalAnswer
from guardrail.approval.flow import denial_reason, obtain_approval
from guardrail.approval.session import SessionMemory, call_hash, scope_key
from guardrail.approval.static import StaticApprover
from guardrail.calls import HttpCall, ShellCall
from guardrail.decision import Verdict

from .helpers import file_decision, request_for, shell_decision


def test_call_hash_is_of_the_normalised_call() -> None:
    a = HttpCall("https://x.org/", "GET", {"Accept": "a", "X-B": "b"})
    b = HttpCall("https://x.org/", "GET", {"x-b": "b", "accept": "a"})
    assert call_hash(a) == call_hash(b)
    assert call_hash(ShellCall("ls")) == call_hash(ShellCall("ls", cwd="."))
    assert call_hash(ShellCall("ls")) != call_hash(ShellCall("ls "))
    assert len(call_hash(a)) == 64


def test_session_answer_is_kept_and_matched_narrowly(workspace: Path) -> None:
    call, decision = shell_decision("pip install requests")
    memory = SessionMemory(workspace, "s1")
    assert not memory.covers(call, decision)
    memory.allow_for_session(call, decision)
    # another process of the same session sees it
    assert SessionMemory(workspace, "s1").covers(call, decision)
    # another session does not
    assert not SessionMemory(workspace, "s2").covers(call, decision)
    # another host is another scope
    other_host = shell_decision("pip install requests", host="evil.example")
    assert not memory.covers(*other_host)
    # another subcommand is another prefix
    assert not memory.covers(*shell_decision("pip download requests"))
    # a deny is never covered
    denied = shell_decision("pip install requests", verdict=Verdict.DENY)
    assert not memory.covers(*denied)


def test_file_scope_is_per_path(workspace: Path) -> None:
    a = file_decision(str(workspace / "a.cfg"))
    b = file_decision(str(workspace / "b.cfg"))
    assert scope_key(*a) != scope_key(*b)
    memory = SessionMemory(workspace, "s")
    memory.allow_for_session(*a)
    assert memory.covers(*a) and not memory.covers(*b)


def test_one_time_grant_is_used_up_once(workspace: Path) -> None:
    memory = SessionMemory(workspace, "s1")
    h = call_hash(ShellCall("make deploy"))
    assert not memory.consume_once(h)
    memory.grant_once(h)
    assert not memory.consume_once(call_hash(ShellCall("make deploy2")))
    assert memory.consume_once(h)
    assert not memory.consume_once(h)


def test_flow_uses_memory_before_asking(workspace: Path) -> None:
    call, decision = shell_decision("pip install rich")
    req = request_for(call, decision, workspace)
    memory = SessionMemory(workspace, "s1")
    approver = StaticApprover(["allow_session"])
    first = obtain_approval(req, approver, timeout=5, memory=memory)
    assert first.answer == "allow_session" and first.approver == "static"
    second = obtain_approval(req, approver, timeout=5, memory=memory)
    assert second.allowed and second.approver == "session"
    assert len(approver.requests) == 1


def test_flow_refuses_an_answer_for_another_call(workspace: Path) -> None:
    call, decision = shell_decision("pip install rich")
    req = request_for(call, decision, workspace)
    forged = ApprovalAnswer("allow_once", call_hash(ShellCall("rm -rf /")), "static")
    answer = obtain_approval(req, StaticApprover([forged]), timeout=5)
    assert answer.answer == "deny" and "different call" in answer.message


def test_flow_turns_an_approver_crash_into_a_deny(workspace: Path) -> None:
    class Broken:
        name = "broken"

        def request(self, req: object, timeout: float) -> ApprovalAnswer:
            raise RuntimeError("boom")

    req = request_for(*shell_decision("pip install x"), workspace)
    answer = obtain_approval(req, Broken(), timeout=1)
    assert answer.answer == "deny" and "boom" in answer.message


def test_auto_denies_and_says_why(workspace: Path) -> None:
    req = request_for(*shell_decision("pip install x"), workspace)
    answer = obtain_approval(req, AutoApprover(), timeout=1)
    assert not answer.allowed
    assert "approval: auto" in denial_reason(answer)


def test_human_message_reaches_the_agent(workspace: Path) -> None:
    req = request_for(*shell_decision("pip install x"), workspace)
    answer = obtain_approval(req, StaticApprover([("deny", "use uv add instead")], who="ana"), timeout=1)
    assert denial_reason(answer) == "denied by a human via static (ana): use uv add instead"


def test_always_allow_writes_a_narrow_rule(workspace: Path) -> None:
    call, decision = shell_decision("pip install requests")
    req = request_for(call, decision, workspace)
    answer = obtain_approval(req, StaticApprover(["allow_always"]), timeout=1)
    assert answer.answer == "allow_always"
    policy = yaml.safe_load((workspace / ".guardrail" / "policy.yaml").read_text())
    assert policy["extends"] == "default"
    [rule] = policy["rules"]
    assert rule["id"] == answer.extra["rules"]
    assert rule["decision"] == "allow"
    assert rule["match"] == {
        "effect": "exec", "command": "pip", "subcommand": "install", "argc": 2,
        "not": {"any": [{"not": {"args": ["install"]}}, {"not": {"args": ["requests"]}}]},
    }
    assert rule["examples"] == {"match": ["pip install requests"]}
    # the same answer again adds nothing; another call adds its own rule
    obtain_approval(req, StaticApprover(["allow_always"]), timeout=1)
    other = request_for(*shell_decision("pip install rich"), workspace)
    obtain_approval(other, StaticApprover(["allow_always"]), timeout=1)
    policy = yaml.safe_load((workspace / ".guardrail" / "policy.yaml").read_text())
    assert len(policy["rules"]) == 2


def test_session_answers_can_be_switched_off(workspace: Path) -> None:
    req = request_for(*shell_decision("pip install x"), workspace)
    answer = obtain_approval(req, StaticApprover(["allow_session"]), timeout=1, allow_session=False)
    assert answer.answer == "allow_once"
