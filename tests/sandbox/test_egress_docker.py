"""`sandbox.network: policy` against a real engine: the container's only way out is the proxy.

A loopback server on the host plays every remote host; the proxy's hosts map
gives it names (`pypi.test`, `pkgs.test`, ...). Inside the sandbox, curl,
urllib and pip reach it only through the forwarder and the proxy, and only
where the policy (or a human, for an ask) allows. Needs the engine and the
guardrail-sandbox:local image; under CI=true their absence fails.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import os
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import require

from guardrail.approval.static import StaticApprover
from guardrail.audit import AuditTrail, read_records
from guardrail.egress import (
    EgressGate,
    EgressProxy,
    serve_in_thread,
    socket_path,
    static_resolver,
)
from guardrail.pipeline import Guard
from guardrail.sandbox.base import ExecResult
from guardrail.sandbox.config import SandboxConfig
from guardrail.sandbox.docker import DockerSandbox

pytestmark = pytest.mark.docker

IMAGE = os.environ.get("GUARDRAIL_TEST_IMAGE", "guardrail-sandbox:local")
SESSION = f"pytest-egress-{os.getpid()}-{uuid.uuid4().hex[:6]}"
UID = "1000:1000" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"
POLICY = """\
version: 1
extends: default
lists:
  +allowed_hosts: [pypi.test, meta.test]
rules:
  - id: deny-evil
    description: A host no request may reach.
    decision: deny
    match: {effect: net, host: [evil.test]}
"""
HOSTS = {
    "pypi.test": ["127.0.0.1"],
    "pkgs.test": ["127.0.0.1"],
    "evil.test": ["127.0.0.1"],
    "meta.test": ["169.254.169.254"],
}
WHEEL = "tinypkg-0.1-py3-none-any.whl"


# ---------------------------------------------------------------- a package index on loopback


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_wheel() -> bytes:
    """A one-module wheel, written by hand (no build backend needed)."""
    files = {
        "tinypkg/__init__.py": b"VALUE = 42\n",
        "tinypkg-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n",
        "tinypkg-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: guardrail-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    record += "tinypkg-0.1.dist-info/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("tinypkg-0.1.dist-info/RECORD", record)
    return buffer.getvalue()


class _Origin(http.server.BaseHTTPRequestHandler):
    """`/hello`, and a PEP 503 simple index with one project, `tinypkg`."""

    wheel = b""
    served: list[str] = []

    def do_GET(self) -> None:
        self.served.append(self.path)
        digest = hashlib.sha256(self.wheel).hexdigest()
        pages = {
            "/hello": (b"hello from the host\n", "text/plain"),
            "/simple/tinypkg/": (
                f'<html><body><a href="/files/{WHEEL}#sha256={digest}">{WHEEL}</a></body></html>'.encode(),
                "text/html",
            ),
            f"/files/{WHEEL}": (self.wheel, "application/octet-stream"),
        }
        body, ctype = pages.get(self.path, (b"not here\n", "text/plain"))
        self.send_response(200 if self.path in pages else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[int]:
    _Origin.wheel = build_wheel()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- engine, proxy, sandboxes


@pytest.fixture(scope="module")
def engine() -> None:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception:
        client = None
    require(client is not None, "a running Docker engine")
    try:
        client.images.get(IMAGE)
        present = True
    except Exception:
        present = False
    require(present, f"the {IMAGE} image (guardrail sandbox build-image)")
    client.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("egress-ws")
    ws.chmod(0o755)  # the sandbox runs as another uid
    import pip  # the image has no pip: the host's, run from the workspace

    shutil.copytree(
        Path(pip.__file__).parent, ws / "_pip" / "pip", ignore=shutil.ignore_patterns("__pycache__")
    )
    (ws / "policy.yaml").write_text(POLICY)
    return ws


@pytest.fixture(scope="module")
def gate(workspace: Path) -> EgressGate:
    guard = Guard.from_policy(workspace / "policy.yaml", workspace=workspace)
    return EgressGate(guard.check, resolver=static_resolver(HOSTS), session=SESSION)


@pytest.fixture(scope="module")
def sandbox(engine: None, workspace: Path, gate: EgressGate) -> Iterator[DockerSandbox]:
    config = SandboxConfig(image=IMAGE, network="policy", user=UID, timeout=60, idle_timeout=300)
    box = DockerSandbox(config, workspace, SESSION, image=IMAGE)
    trail = AuditTrail(workspace / "audit.jsonl", fsync=False)
    proxy = EgressProxy(gate, audit=trail, session=SESSION)
    running = serve_in_thread(proxy, unix_path=socket_path(box.name))
    try:
        box.start()
        yield box
    finally:
        box.close()
        running.stop()


@pytest.fixture(scope="module")
def trail(sandbox: DockerSandbox, workspace: Path) -> Path:
    return workspace / "audit.jsonl"


def run(box: DockerSandbox, command: str) -> ExecResult:
    result = box.exec(command, cwd="/tmp")
    assert result.error is None, result.error
    return result


def records_for(trail: Path, host: str, count: int) -> list[dict[str, Any]]:
    """The trail's egress records for `host`, once there are `count` (written as connections end)."""
    deadline = time.monotonic() + 15
    while True:
        found = [
            r["data"]
            for _, r in read_records(trail)
            if r["data"].get("event") == "egress" and r["data"].get("host") == host
        ]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)  # polling the trail for a condition, with a deadline


def pip_install(
    box: DockerSandbox, workspace: Path, host: str, port: int, target: str
) -> ExecResult:
    return box.exec(
        f"PYTHONPATH={workspace}/_pip python3 -m pip install --no-cache-dir --disable-pip-version-check "
        f"--no-input --retries 0 --timeout 10 --target {target} "
        f"--index-url http://{host}:{port}/simple/ --trusted-host {host} tinypkg "
        f"&& PYTHONPATH={target} python3 -c 'import tinypkg; print(tinypkg.VALUE)'",
        cwd="/tmp",
        timeout=120,
    )


# ---------------------------------------------------------------- what it must show


def test_curl_reaches_an_allowed_host_and_gets_403_from_a_denied_one(
    sandbox: DockerSandbox, origin: int, trail: Path
) -> None:
    ok = run(sandbox, f"curl -sS http://pypi.test:{origin}/hello")
    assert ok.exit_code == 0 and ok.stdout == b"hello from the host\n", ok.stderr
    tunnel = run(sandbox, f"curl -sS --proxytunnel http://pypi.test:{origin}/hello")
    assert tunnel.exit_code == 0 and tunnel.stdout == b"hello from the host\n", tunnel.stderr
    denied = run(sandbox, f"curl -sS -o - -w '\\n%{{http_code}}' http://evil.test:{origin}/hello")
    assert denied.stdout.endswith(b"\n403"), denied.stdout
    assert b"rules: deny-evil" in denied.stdout and b"reason: deny: deny-evil" in denied.stdout
    evil = records_for(trail, "evil.test", 1)
    assert evil and evil[0]["status"] == 403 and evil[0]["decision"] == "deny"
    assert evil[0]["rules"] == ["deny-evil"] and evil[0]["bytes_received"] == 0
    good = records_for(trail, "pypi.test", 2)
    methods = sorted(r["method"] for r in good)
    assert methods[:2] == ["CONNECT", "GET"], good
    assert all(r["allowed"] and r["address"] == "127.0.0.1" for r in good)
    assert all(r["port"] == origin and r["bytes_received"] > 0 for r in good)


def test_urllib_goes_through_the_proxy(
    sandbox: DockerSandbox, origin: int, workspace: Path
) -> None:
    script = (
        "import urllib.request, urllib.error\n"
        f"print(urllib.request.urlopen('http://pypi.test:{origin}/hello', timeout=20).read().decode(), end='')\n"
        "try:\n"
        f"    urllib.request.urlopen('http://evil.test:{origin}/hello', timeout=20)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code, e.headers['X-Guardrail-Rule'])\n"
    )
    (workspace / "fetch.py").write_text(script)
    result = run(sandbox, f"python3 {workspace}/fetch.py")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == b"hello from the host\n403 deny-evil\n"


def test_a_name_resolving_to_a_denied_address_is_refused(
    sandbox: DockerSandbox, origin: int, trail: Path
) -> None:
    result = run(sandbox, f"curl -sS -i http://meta.test:{origin}/hello")
    assert result.stdout.startswith(b"HTTP/1.1 403"), result.stdout
    assert b"meta.test resolves to 169.254.169.254 (metadata): refused" in result.stdout
    record = records_for(trail, "meta.test", 1)[0]
    assert record["decision"] == "allow"  # the name was allowed; its address was not
    assert record["addresses"] == ["169.254.169.254"] and record["address"] == ""


def test_what_ignores_the_proxy_gets_no_network(sandbox: DockerSandbox, origin: int) -> None:
    raw = run(
        sandbox,
        'python3 -c "import socket\n'
        f"try: socket.create_connection(('127.0.0.1', {origin}), timeout=5)\n"
        "except OSError as e: print('refused', type(e).__name__)\n"
        "try: socket.getaddrinfo('pypi.test', 80)\n"
        "except OSError as e: print('no name', type(e).__name__)\"",
    )
    assert raw.stdout == b"refused ConnectionRefusedError\nno name gaierror\n", raw.stderr
    direct = run(sandbox, f"curl -sS --noproxy '*' http://pypi.test:{origin}/hello")
    assert direct.exit_code != 0 and direct.stdout == b""
    routes = run(sandbox, "tail -n +2 /proc/net/route")  # no route anywhere: no interface but lo
    assert routes.stdout.strip() == b""


def test_pip_install_through_the_proxy(
    sandbox: DockerSandbox, gate: EgressGate, workspace: Path, origin: int, trail: Path
) -> None:
    allowed = pip_install(sandbox, workspace, "pypi.test", origin, "/tmp/site-a")
    assert allowed.exit_code == 0 and allowed.stdout.endswith(b"42\n"), allowed.stderr[-2000:]
    # pkgs.test is not allowlisted: an ask. A human says no, then "for the session".
    gate.approver = StaticApprover([("deny", "not this one")])
    refused = pip_install(sandbox, workspace, "pkgs.test", origin, "/tmp/site-b")
    assert refused.exit_code != 0 and b"No matching distribution" in refused.stderr
    approver = StaticApprover(["allow_session"])
    gate.approver = approver
    try:
        approved = pip_install(sandbox, workspace, "pkgs.test", origin, "/tmp/site-c")
    finally:
        gate.approver = None
    assert approved.exit_code == 0 and approved.stdout.endswith(b"42\n"), approved.stderr[-2000:]
    assert len(approver.requests) == 1  # index page and wheel: asked once for the host
    records = records_for(trail, "pkgs.test", 3)
    assert [(r["approval"], r["status"]) for r in records[:2]] == [
        ("deny", 403),
        ("allow_session", 200),
    ]
    assert sum(r["bytes_received"] for r in records[1:]) > len(_Origin.wheel)


def test_pip_install_fails_without_network(
    engine: None, workspace: Path, origin: int, sandbox: DockerSandbox
) -> None:
    config = SandboxConfig(image=IMAGE, network="none", user=UID, timeout=60, idle_timeout=60)
    before = len(_Origin.served)
    with DockerSandbox(config, workspace, SESSION + "-none", image=IMAGE) as box:
        env = box.exec("env | grep -ci proxy", cwd="/tmp")
        assert env.stdout.strip() == b"0"
        result = pip_install(box, workspace, "pypi.test", origin, "/tmp/site-n")
    assert result.exit_code != 0 and not result.stdout.endswith(b"42\n")  # the port may contain 42
    assert len(_Origin.served) == before  # the index never saw it
