"""Ask a chat-ops bot: a signed JSON POST, and a signed answer back.

Request: `POST <url>` with the JSON body

    {"type": "guardrail.approval_request", "id": ID, "timeout": S, "summary": {...}}

and the headers `X-Guardrail-Timestamp: <unix seconds>` and
`X-Guardrail-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.

Answer, either in the response (200) or, when the bot answers `202` with
`{"poll": URL}`, in the response to a later signed `GET URL` (repeated until
a 200 or the timeout; the GET is signed over the request id), signed the
same way over the answer body:

    {"id": ID, "call_hash": H, "answer": "allow_once|allow_session|allow_always|deny",
     "who": "ana", "message": "..."}

A missing secret, a bad or stale signature, another id or call hash, or an
unknown answer is a deny. The id is random per request, so an answer
cannot be replayed for another call.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from guardrail.approval.base import ApprovalAnswer, ApprovalRequest
from guardrail.errors import ApprovalError

if TYPE_CHECKING:
    from guardrail.approval.config import ApprovalConfig

SIGNATURE = "X-Guardrail-Signature"
TIMESTAMP = "X-Guardrail-Timestamp"
MAX_SKEW = 300.0
POLL_INTERVAL = 2.0
ANSWERS = ("allow_once", "allow_session", "allow_always", "deny")


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None) -> bool:
    """A signature is good when it matches and its timestamp is fresh."""
    if not timestamp or not signature:
        return False
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    return age <= MAX_SKEW and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookApprover:
    name = "webhook"

    def __init__(self, config: ApprovalConfig | None = None, workspace: str = ".", *, secret: bytes | None = None) -> None:
        from guardrail.approval.config import ApprovalConfig

        config = config or ApprovalConfig()
        self.url = config.webhook.url
        self.secret_env = config.webhook.secret_env
        self.secret = secret if secret is not None else config.webhook.secret()
        self.workspace = workspace
        self._opener = urllib.request.build_opener()

    def request(self, req: ApprovalRequest, timeout: float) -> ApprovalAnswer:
        deadline = time.monotonic() + timeout
        try:
            if not self.url:
                raise ApprovalError("approval.webhook.url is not set")
            if not self.secret:
                raise ApprovalError(f"the webhook secret is not set: export {self.secret_env}")
            request_id = secrets.token_hex(16)
            return self._ask(req, request_id, deadline, timeout)
        except ApprovalError as exc:
            return self._deny(req, str(exc))
        except TimeoutError:
            return self._deny(req, f"no answer within {timeout:g} s")
        except (OSError, ValueError) as exc:
            return self._deny(req, f"the webhook failed: {exc}")

    def _ask(self, req: ApprovalRequest, request_id: str, deadline: float, timeout: float) -> ApprovalAnswer:
        from guardrail.approval.describe import summary

        assert self.url is not None and self.secret is not None
        body = json.dumps({
            "type": "guardrail.approval_request", "id": request_id, "timeout": timeout, "summary": summary(req),
        }).encode()
        status, headers, raw = self._send("POST", self.url, body, deadline)
        while status == 202:
            poll = json.loads(raw or b"{}").get("poll")
            if not isinstance(poll, str) or not poll.startswith(("http://", "https://")):
                raise ApprovalError("the webhook answered 202 without a poll URL")
            if deadline - time.monotonic() <= POLL_INTERVAL:
                raise TimeoutError
            time.sleep(POLL_INTERVAL)  # the bot's pace; not synchronisation
            status, headers, raw = self._send("GET", poll, request_id.encode(), deadline, body_in_request=False)
        if status != 200:
            raise ApprovalError(f"the webhook answered HTTP {status}")
        return self._verify(req, request_id, headers, raw)

    def _send(
        self, method: str, url: str, body: bytes, deadline: float, *, body_in_request: bool = True
    ) -> tuple[int, Any, bytes]:
        assert self.secret is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        timestamp = str(int(time.time()))
        request = urllib.request.Request(url, data=body if body_in_request else None, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header(TIMESTAMP, timestamp)
        request.add_header(SIGNATURE, sign(self.secret, timestamp, body))
        try:
            with self._opener.open(request, timeout=remaining) as resp:
                return int(resp.status), resp.headers, resp.read(1_000_000)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, b""
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise TimeoutError from None
            raise ApprovalError(f"the webhook cannot be reached: {exc.reason}") from None

    def _verify(self, req: ApprovalRequest, request_id: str, headers: Any, raw: bytes) -> ApprovalAnswer:
        assert self.secret is not None
        if not signature_ok(self.secret, headers.get(TIMESTAMP), headers.get(SIGNATURE), raw):
            raise ApprovalError("the webhook answer has a bad or stale signature")
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("id") != request_id:
            raise ApprovalError("the webhook answered another request")
        if not hmac.compare_digest(str(data.get("call_hash", "")), req.call_hash):
            raise ApprovalError("the webhook answer is for another call")
        answer = data.get("answer")
        if answer not in ANSWERS:
            raise ApprovalError(f"the webhook gave an unknown answer {answer!r}")
        return ApprovalAnswer(answer, req.call_hash, self.name, str(data.get("who", ""))[:200], str(data.get("message", ""))[:2000])

    def _deny(self, req: ApprovalRequest, message: str) -> ApprovalAnswer:
        return ApprovalAnswer("deny", req.call_hash, self.name, "guardrail", message)
