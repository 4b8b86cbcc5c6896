"""The web approver: the JSON transport, and the page in a real headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import require, require_binary

from guardrail.approval.session import call_hash
from guardrail.approval.web import WebApprover
from guardrail.approval.web_server import ApprovalServer
from guardrail.calls import ShellCall

from .helpers import request_for, shell_decision

CHILD = Path(__file__).with_name("approver_child.py")
HASH = call_hash(ShellCall("pip install requests"))


@pytest.fixture
def server(workspace: Path) -> Iterator[ApprovalServer]:
    srv = ApprovalServer("127.0.0.1", 0).start()
    srv.write_server_file(workspace)
    yield srv
    srv.stop()


def waiting_call(workspace: Path, timeout: float = 60) -> tuple[subprocess.Popen[bytes], Path]:
    """A call waiting for approval in another process."""
    result = workspace / "answer.json"
    proc = subprocess.Popen([sys.executable, str(CHILD), str(workspace), str(timeout), str(result), "shell", "web"])
    return proc, result


def finished(proc: subprocess.Popen[bytes], result: Path) -> dict[str, Any]:
    assert proc.wait(timeout=60) == 0
    data: dict[str, Any] = json.loads(result.read_text())
    return data


def api(url: str, method: str = "GET", body: Any = None, host: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if host:
        req.add_header("Host", host)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def pending(server: ApprovalServer, since: int = -1) -> tuple[int, list[dict[str, Any]]]:
    status, body = api(server.page_url + f"api/pending?since={since}&wait=20")
    assert status == 200
    return body["version"], body["pending"]


def wait_for_pending(server: ApprovalServer) -> dict[str, Any]:
    version = -1
    for _ in range(10):  # each round is a 20 s long-poll that returns on any change
        version, items = pending(server, version)
        if items:
            return items[0]
    raise AssertionError("no pending approval appeared")


# ------------------------------------------------------------- transport


def test_answer_from_the_page_api_reaches_the_waiting_process(workspace: Path, server: ApprovalServer) -> None:
    proc, result = waiting_call(workspace)
    item = wait_for_pending(server)
    assert item["target"] == "pip install requests"
    assert item["rules"][0]["id"] == "package-install"
    assert "always-exec-" in item["always_rule"]
    status, _ = api(server.page_url + f"api/requests/{item['id']}/answer", "POST",
                    {"answer": "deny", "message": "not today", "call_hash": item["call_hash"]})
    assert status == 200
    answer = finished(proc, result)
    assert answer["answer"] == "deny" and answer["message"] == "not today" and answer["approver"] == "web"
    assert answer["call_hash"] == HASH


def test_client_token_cannot_answer_and_bad_hosts_or_tokens_see_nothing(workspace: Path, server: ApprovalServer) -> None:
    proc, result = waiting_call(workspace, timeout=60)
    item = wait_for_pending(server)
    body = {"answer": "allow_once", "call_hash": item["call_hash"]}
    client_answer = server.client_url + f"requests/{item['id']}/answer"
    assert api(client_answer, "POST", body)[0] == 404
    wrong_token = f"http://127.0.0.1:{server.port}/not-the-token/api/pending"
    assert api(wrong_token)[0] == 404
    rebinding = api(server.page_url + "api/pending", host=f"evil.example:{server.port}")
    assert rebinding[0] == 404
    wrong_hash = {"answer": "allow_once", "call_hash": "0" * 64}
    assert api(server.page_url + f"api/requests/{item['id']}/answer", "POST", wrong_hash)[0] == 409
    assert api(server.page_url + f"api/requests/{item['id']}/answer", "POST", body)[0] == 200
    assert finished(proc, result)["answer"] == "allow_once"
    # handed out once: the request is gone now
    assert api(server.client_url + f"requests/{item['id']}")[0] == 404


def test_no_answer_in_time_denies_and_withdraws(workspace: Path, server: ApprovalServer) -> None:
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = WebApprover(workspace=str(workspace)).request(req, timeout=0.5)
    assert answer.answer == "deny" and "no answer within 0.5 s" in answer.message
    assert pending(server)[1] == []


def test_no_server_denies(workspace: Path) -> None:
    req = request_for(*shell_decision("pip install requests"), workspace)
    answer = WebApprover(workspace=str(workspace)).request(req, timeout=5)
    assert answer.answer == "deny" and "approvals serve" in answer.message


# --------------------------------------------------------------- browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    chromium = require_binary("chromium")
    driver_path = require_binary("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, "selenium (pip install selenium)")
        raise
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.browser
@pytest.mark.parametrize(("button", "expected"), [("allow_once", "allow_once"), ("deny", "deny")])
def test_page_in_chromium_lists_and_answers(
    workspace: Path, server: ApprovalServer, browser: Any, button: str, expected: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.page_url)
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "status").text == "live")
    proc, result = waiting_call(workspace)  # appears live, without reloading the page
    card = WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".card")))
    assert "pip install requests" in card.text
    assert "package-install" in card.text
    if button == "deny":
        card.find_element(By.NAME, "message").send_keys("ask Ana first")
    card.find_element(By.NAME, button).click()
    answer = finished(proc, result)
    assert answer["answer"] == expected
    assert answer["message"] == ("ask Ana first" if button == "deny" else "")
    WebDriverWait(browser, 30).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".card"))
