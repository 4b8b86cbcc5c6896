"""The egress decision: may this request or tunnel leave, and to which addresses?

`EgressGate.admit(method, url)` runs on a worker thread (it may block on a
human) and never raises. In order:

1. the policy decides the request as an http call: for plain HTTP the
   method, the absolute URL and the headers; for a `CONNECT host:port`
   tunnel only host and port are known (the request inside is encrypted),
   so it is decided as `GET https://host:port/`: a tunnel is allowed where a
   read of that host would be;
2. an `ask` goes to the approver, blocking that one connection. The
   question is asked per (method, scheme, host, port), not per path, so an
   "allow for the session" covers later connections to that host (with that
   method) without asking again; asks are serialised so that a burst of
   connections to one host asks the human once;
3. the name is resolved here, and every address checked: metadata,
   link-local and unparseable addresses are always refused; loopback,
   private and unspecified ones only pass when the policy allows the URL
   written with that address (an ask there is a refusal: nobody approved
   that address); public addresses were covered by the decision on the name.
   The proxy then dials only the addresses checked here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from guardrail.calls import HttpCall
from guardrail.decision import Decision, Verdict
from guardrail.errors import ToolError
from guardrail.parsers.url import classify_ip, normalize_host, resolve_addresses

if TYPE_CHECKING:
    from guardrail.approval.base import ApprovalAnswer, Approver
    from guardrail.approval.session import SessionMemory

Decide = Callable[[HttpCall], Decision]
Resolver = Callable[[str], list[str]]

ALWAYS_REFUSED = frozenset({"metadata", "link_local", "invalid"})
NEEDS_POLICY = frozenset({"loopback", "private", "unspecified"})
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Admission:
    """What the gate said about one request or tunnel (what the trail records)."""

    allowed: bool
    status: int  # 0 when allowed; else the HTTP status the client gets (403, 400, 502)
    decision: str  # the policy's verdict on the URL: allow | ask | deny ("" when never decided)
    rules: tuple[str, ...]
    reason: str
    addresses: tuple[str, ...] = ()
    approval: str | None = None  # the approver's answer to an ask

    @classmethod
    def refuse(
        cls, status: int, reason: str, decision: Decision | None = None, **kw: object
    ) -> Admission:
        verdict = str(decision.verdict) if decision is not None else ""
        rules = tuple(decision.rules) if decision is not None else ()
        return cls(False, status, verdict, rules, reason, **kw)  # type: ignore[arg-type]


def static_resolver(
    hosts: Mapping[str, Sequence[str]], fallback: Resolver | None = None
) -> Resolver:
    """A hosts map (for tests and the bench), then `fallback` (none: unknown names fail)."""
    table = {normalize_host(name): list(addrs) for name, addrs in hosts.items()}

    def resolve(host: str) -> list[str]:
        name = normalize_host(host)
        if name in table:
            return list(table[name])
        if classify_ip(name) != "invalid":
            return [name]
        if fallback is not None:
            return fallback(host)
        raise ToolError(f"cannot resolve host {name!r}: not in the proxy's hosts map")

    return resolve


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class EgressGate:
    """Policy, approval and address checks for the egress proxy (see the module docstring)."""

    def __init__(
        self,
        decide: Decide,
        *,
        resolver: Resolver | None = None,
        approver: Approver | None = None,
        memory: SessionMemory | None = None,
        session: str = "",
        workspace: str = ".",
        approval_timeout: float = 300.0,
    ) -> None:
        self.decide = decide
        self.resolver = resolver or resolve_addresses
        self.approver = approver
        self.memory = memory
        self.session = session
        self.workspace = workspace
        self.approval_timeout = approval_timeout
        self._granted: set[tuple[str, str, str, int]] = set()
        self._ask_lock = threading.Lock()

    # ------------------------------------------------------------ entry point

    def admit(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> Admission:
        """Decide one request (`url` absolute) or tunnel (`https://host:port/`, GET); never raises."""
        try:
            return self._admit(method.upper(), url, dict(headers or {}))
        except Exception as exc:  # fail closed: a bug is a refusal, not an open door
            return Admission.refuse(
                403, f"internal error in the egress gate ({type(exc).__name__}: {exc})"
            )

    def _admit(self, method: str, url: str, headers: dict[str, str]) -> Admission:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = normalize_host(parts.hostname or "")
        if scheme not in DEFAULT_PORTS or not host:
            return Admission.refuse(400, f"not a proxy request for an http(s) URL: {url!r}")
        port = parts.port or DEFAULT_PORTS[scheme]
        decision = self.decide(HttpCall(url=url, method=method, headers=headers))
        answer: ApprovalAnswer | None = None
        if decision.verdict is Verdict.DENY:
            return Admission.refuse(403, decision.reason, decision)
        if decision.verdict is Verdict.ASK:
            answer, why = self._ask(method, scheme, host, port, decision)
            if why:
                return Admission.refuse(
                    403, why, decision, approval=answer.answer if answer else None
                )
        approval = answer.answer if answer is not None else None
        try:
            addresses = self.resolver(host)
        except (ToolError, OSError) as exc:
            return Admission.refuse(502, str(exc), decision, approval=approval)
        literal = classify_ip(host) != "invalid"
        for address in addresses:
            problem = self._address_problem(method, scheme, host, port, address, literal)
            if problem:
                return Admission.refuse(
                    403, problem, decision, addresses=tuple(addresses), approval=approval
                )
        return Admission(
            True,
            0,
            str(decision.verdict),
            tuple(decision.rules),
            decision.reason,
            tuple(addresses),
            approval,
        )

    # ------------------------------------------------------------ ask

    def _ask(
        self, method: str, scheme: str, host: str, port: int, decision: Decision
    ) -> tuple[ApprovalAnswer | None, str]:
        """(answer, "") when a human (or a session grant) allowed it; (answer, why) otherwise."""
        key = (method, scheme, host, port)
        if key in self._granted:
            return None, ""
        if self.approver is None:
            return None, f"{decision.reason}; no approver for sandbox egress, so an ask is refused"
        from guardrail.approval.flow import denial_reason, make_request, obtain_approval

        # The question is about the host, not the path: that is what a session answer covers.
        call = HttpCall(url=f"{scheme}://{_authority(host, port)}/", method=method)
        host_decision = self.decide(call)
        if host_decision.verdict is not Verdict.ASK:
            host_decision = decision
        with self._ask_lock:
            if key in self._granted:  # answered while this connection waited its turn
                return None, ""
            request = make_request(
                call, host_decision, workspace=self.workspace, session=self.session
            )
            answer = obtain_approval(
                request, self.approver, timeout=self.approval_timeout, memory=self.memory
            )
            if answer.answer in ("allow_session", "allow_always"):
                self._granted.add(key)
        if not answer.allowed:
            return answer, f"{decision.reason}; {denial_reason(answer)}"
        return answer, ""

    # ------------------------------------------------------------ addresses

    def _address_problem(
        self, method: str, scheme: str, host: str, port: int, address: str, literal: bool
    ) -> str:
        kind = classify_ip(address)
        if kind in ALWAYS_REFUSED:
            return f"{host} resolves to {address} ({kind}): refused"
        if kind not in NEEDS_POLICY or literal:
            return ""  # public, or the URL itself named the address and was decided
        as_ip = HttpCall(url=f"{scheme}://{_authority(address, port)}/", method=method)
        verdict = self.decide(as_ip)
        if verdict.verdict is Verdict.ALLOW:
            return ""
        rules = ", ".join(verdict.rules) or "none"
        return (
            f"{host} resolves to {address} ({kind}), which the policy does not allow "
            f"({verdict.verdict} by {rules}: {verdict.reason}): refused"
        )
