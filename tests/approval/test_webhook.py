"""The webhook approver against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from guardrail.approval.config import ApprovalConfig
from guardrail.approval.webhook import SIGNATURE, TIMESTAMP, WebhookApprover, sign, signature_ok

from .helpers import request_for, shell_decision

SECRET = b"s3cret-for-tests"
# (request json, received headers) -> (status, body, signing secret or None for unsigned)
Reply = Callable[[dict[str, Any]], tuple[int, dict[str, Any], bytes | None]]


@dataclass
class Bot:
    reply: Reply | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    signed_ok: list[bool] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@pytest.fixture
def bot() -> Iterator[Bot]:
    state = Bot()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.signed_ok.append(signature_ok(SECRET, self.headers[TIMESTAMP], self.headers[SIGNATURE], body))
            data = json.loads(body)
            state.requests.append(data)
            if state.reply is None:  # a bot that never answers (until teardown)
                state.release.wait(timeout=60)
                return
            self._answer(*state.reply(data))

        def do_GET(self) -> None:  # the poll URL
            rid = self.path.rsplit("/", 1)[-1]
            state.signed_ok.append(signature_ok(SECRET, self.headers[TIMESTAMP], self.headers[SIGNATURE], rid.encode()))
            assert state.reply is not None
            self._answer(*state.reply({"id": rid, "poll": True, **state.requests[0]}))

        def _answer(self, status: int, obj: dict[str, Any], secret: bytes | None) -> None:
            raw = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            if secret is not None:
                ts = str(int(time.time()))
                self.send_header(TIMESTAMP, ts)
                self.send_header(SIGNATURE, sign(secret, ts, raw))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/approve"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def approver(bot: Bot, monkeypatch: pytest.MonkeyPatch, secret: bytes | None = SECRET) -> WebhookApprover:
    if secret is None:
        monkeypatch.delenv("GUARDRAIL_WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("GUARDRAIL_WEBHOOK_SECRET", secret.decode())
    config = ApprovalConfig.model_validate({"approver": "webhook", "webhook": {"url": bot.url}})
    return WebhookApprover(config)


def answer_with(answer: str, message: str = "", secret: bytes | None = SECRET, **override: Any) -> Reply:
    def reply(data: dict[str, Any]) -> tuple[int, dict[str, Any], bytes | None]:
        body = {"id": data["id"], "call_hash": data["summary"]["call_hash"], "answer": answer,
                "who": "ana", "message": message, **override}
        return 200, body, secret
    return reply


def test_signed_answer_is_accepted(workspace: Path, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.reply = answer_with("allow_session")
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = approver(bot, monkeypatch).request(req, timeout=30)
    assert answer.answer == "allow_session" and answer.who == "ana" and answer.approver == "webhook"
    assert bot.signed_ok == [True]
    sent = bot.requests[0]
    assert sent["type"] == "guardrail.approval_request"
    assert sent["summary"]["target"] == "pip install requests"
    assert sent["summary"]["call_hash"] == req.call_hash


def test_human_message_comes_back_with_a_deny(workspace: Path, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.reply = answer_with("deny", "pin the version")
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = approver(bot, monkeypatch).request(req, timeout=30)
    assert (answer.answer, answer.message) == ("deny", "pin the version")


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (answer_with("allow_once", secret=b"wrong secret"), "signature"),
        (answer_with("allow_once", secret=None), "signature"),
        (answer_with("allow_once", id="another-request"), "another request"),
        (answer_with("allow_once", call_hash="0" * 64), "another call"),
        (answer_with("yes please"), "unknown answer"),
        (lambda data: (500, {}, SECRET), "HTTP 500"),
    ],
)
def test_bad_answers_deny(workspace: Path, bot: Bot, monkeypatch: pytest.MonkeyPatch, reply: Reply, why: str) -> None:
    bot.reply = reply
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = approver(bot, monkeypatch).request(req, timeout=30)
    assert answer.answer == "deny"
    assert why in answer.message


def test_missing_secret_denies_without_sending(workspace: Path, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.reply = answer_with("allow_once")
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = approver(bot, monkeypatch, secret=None).request(req, timeout=30)
    assert answer.answer == "deny" and "GUARDRAIL_WEBHOOK_SECRET" in answer.message
    assert bot.requests == []


def test_no_answer_in_time_denies(workspace: Path, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = approver(bot, monkeypatch).request(req, timeout=1)
    assert answer.answer == "deny" and "no answer within 1 s" in answer.message


def test_accepted_then_polled(workspace: Path, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    final = answer_with("allow_once")

    def reply(data: dict[str, Any]) -> tuple[int, dict[str, Any], bytes | None]:
        if data.get("poll"):
            return final(data)
        return 202, {"poll": bot.url + "/poll/" + data["id"]}, None

    bot.reply = reply
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = approver(bot, monkeypatch).request(req, timeout=30)
    assert answer.answer == "allow_once"
    assert bot.signed_ok == [True, True]


def test_stale_signature_is_refused() -> None:
    body = b"{}"
    assert signature_ok(SECRET, "1000", sign(SECRET, "1000", body), body, now=1000 + 10)
    assert not signature_ok(SECRET, "1000", sign(SECRET, "1000", body), body, now=1000 + 3600)
