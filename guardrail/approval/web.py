"""Ask on the local approval page (`guardrail approvals serve`), for headless agents.

The waiting process posts its request to the server's client API and
long-polls for the answer; see `web_server.py` for the transport. It finds
the server through `GUARDRAIL_APPROVALS_URL` (the client API URL) or the
workspace's `.guardrail/approvals-server.json`. No server, no answer in
time, or any error: deny.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrail.approval.base import ApprovalAnswer, ApprovalRequest
from guardrail.errors import ApprovalError

if TYPE_CHECKING:
    from guardrail.approval.config import ApprovalConfig

ENV_URL = "GUARDRAIL_APPROVALS_URL"
POLL_WAIT = 20.0


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    # the server is on loopback: an HTTP(S)_PROXY must never see the request
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WebApprover:
    name = "web"

    def __init__(self, config: ApprovalConfig | None = None, workspace: str = ".") -> None:
        self.workspace = workspace
        self.offer_always = config.allow_always if config else True
        self._opener = _no_proxy_opener()

    def locate(self) -> str:
        """The client API URL of the running server."""
        url = os.environ.get(ENV_URL)
        if url:
            return url if url.endswith("/") else url + "/"
        from guardrail.approval.web_server import SERVER_FILE

        path = Path(self.workspace) / SERVER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return str(data["url"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ApprovalError(
                f"no approval page is running for {self.workspace}: start `guardrail approvals serve` there"
            ) from None

    def _call(self, method: str, url: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return int(resp.status), json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"null")
            except ValueError:
                payload = None
            return exc.code, payload

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        deadline = time.monotonic() + timeout
        item_id = secrets.token_hex(16)
        try:
            base = self.locate()
            status, _ = self._call("POST", base + "requests", {
                "id": item_id, "summary": self._summary(req), "timeout": timeout,
            })
            if status != 201:
                raise ApprovalError(f"the approval page refused the request (HTTP {status})")
            return self._wait(req, base, item_id, deadline, timeout)
        except ApprovalError as exc:
            return self._deny(req, str(exc))
        except (OSError, ValueError) as exc:
            return self._deny(req, f"the approval page cannot be reached: {exc}")

    def _wait(self, req: ApprovalRequest, base: str, item_id: str, deadline: float, timeout: float) -> ApprovalAnswer:
        url = base + "requests/" + item_id
        while (remaining := deadline - time.monotonic()) > 0:
            wait = min(POLL_WAIT, remaining)
            status, body = self._call("GET", f"{url}?wait={wait:.1f}", timeout=wait + 10)
            if status == 404:
                raise ApprovalError("the approval page forgot the request (restarted?)")
            if status != 200 or not isinstance(body, dict):
                raise ApprovalError(f"the approval page answered HTTP {status}")
            if body.get("status") == "answered":
                return self._answer(req, body.get("answer") or {})
        with contextlib.suppress(OSError):
            self._call("DELETE", url, timeout=5)
        return self._deny(req, f"no answer within {timeout:g} s")

    def _answer(self, req: ApprovalRequest, data: dict[str, Any]) -> ApprovalAnswer:
        answer = data.get("answer")
        if answer not in ("allow_once", "allow_session", "allow_always", "deny"):
            raise ApprovalError("the approval page sent an unknown answer")
        return ApprovalAnswer(
            answer,
            str(data.get("call_hash", "")),  # the flow checks it is this call's hash
            self.name,
            str(data.get("who", "web page")),
            str(data.get("message", "")),
        )

    def _deny(self, req: ApprovalRequest, message: str) -> ApprovalAnswer:
        return ApprovalAnswer("deny", req.call_hash, self.name, "guardrail", message)

    def _summary(self, req: ApprovalRequest) -> dict[str, Any]:
        from guardrail.approval.describe import summary

        data = summary(req)
        data["always_rule"] = None
        if self.offer_always:
            from guardrail.approval.rules import NotNarrow, rules_for_request, rules_yaml

            with contextlib.suppress(NotNarrow):
                data["always_rule"] = rules_yaml(rules_for_request(req))
        return data
