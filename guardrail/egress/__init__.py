"""Egress for `sandbox.network: policy`: the sandbox reaches the network only through guardrail.

The container keeps `--network none`. One Unix socket is bridged into it
(`wiring`: a bind-mounted directory and a tiny forwarder on 127.0.0.1:3128,
with the proxy variables set), and on the host an asyncio forward proxy
(`proxy`) decides every request and tunnel with the policy's HTTP rules, the
resolved addresses and, for an ask, the approver (`gate`).

    container: curl/pip/git --HTTP(S)_PROXY--> 127.0.0.1:3128 forwarder
        --unix socket--> EgressProxy --EgressGate.admit--> checked address

A program that ignores the proxy variables has no route anywhere.
"""

from __future__ import annotations

from guardrail.egress.gate import Admission, EgressGate, static_resolver
from guardrail.egress.proxy import EgressProxy, RunningProxy, serve_in_thread
from guardrail.egress.wiring import (
    CONTAINER_DIR,
    PROXY_PORT,
    SOCKET_NAME,
    egress_dir,
    proxy_environment,
    socket_path,
)

__all__ = [
    "CONTAINER_DIR",
    "PROXY_PORT",
    "SOCKET_NAME",
    "Admission",
    "EgressGate",
    "EgressProxy",
    "RunningProxy",
    "egress_dir",
    "proxy_environment",
    "serve_in_thread",
    "socket_path",
    "static_resolver",
]
