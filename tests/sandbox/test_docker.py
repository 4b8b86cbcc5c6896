"""The Docker backend against a real engine: each escape is tried and must fail.

Needs a running engine and the guardrail-sandbox:local image
(`.ci/setup-docker.sh` provides both); under CI=true their absence fails.
One warm sandbox serves most tests, as it serves an agent's session.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:  # tests/ as a rootdir of conftest modules, or as a package
    from support import require
except ImportError:
    from support import require

from guardrail.sandbox.base import ExecResult
from guardrail.sandbox.config import MIB, SandboxConfig
from guardrail.sandbox.docker import (
    LABEL_MANAGED,
    LABEL_SESSION,
    LABEL_VERSION,
    LABEL_WORKSPACE,
    DockerSandbox,
    guardrail_version,
    managed_containers,
    prune_stale,
)

pytestmark = pytest.mark.docker

IMAGE = os.environ.get("GUARDRAIL_TEST_IMAGE", "guardrail-sandbox:local")
PREFIX = f"pytest-{os.getpid()}-{uuid.uuid4().hex[:6]}-"
UID = 1000 if os.geteuid() == 0 else os.getuid()  # not root, even when the tests are
GID = 1000 if os.geteuid() == 0 else os.getgid()
CONFIG = SandboxConfig(
    image=IMAGE,
    memory="256m",
    pids_limit=128,
    cpus=1.0,
    timeout=30,
    output_cap=MIB,
    idle_timeout=300,
)


def _ours(client: Any) -> list[Any]:
    return [
        c for c in managed_containers(client) if c.labels.get(LABEL_SESSION, "").startswith(PREFIX)
    ]


def _engine_answers() -> bool:
    """Is an engine there? Asked on a socket of our own: docker-py leaks one when none is."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(host.removeprefix("unix://"))
            except OSError:
                return False
    import docker

    engine = docker.from_env()
    try:
        return bool(engine.ping())
    except Exception:
        return False
    finally:
        engine.close()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import docker

    engine = docker.from_env() if _engine_answers() else None
    require(engine is not None, "a running Docker engine")
    try:
        engine.images.get(IMAGE)
        present = True
    except Exception:
        present = False
    require(present, f"the {IMAGE} image (guardrail sandbox build-image)")
    yield engine
    # No container of this test session is left behind, whatever the tests did.
    leftovers = [c.name for c in _ours(engine)]
    engine.close()
    assert leftovers == []


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host directory holding the workspace, a fake home and 'outside' files."""
    root = tmp_path_factory.mktemp("sandbox")
    (root / "ws").mkdir()
    os.chown(root / "ws", UID, GID)
    (root / "home" / ".ssh").mkdir(parents=True)
    (root / "home" / ".ssh" / "id_rsa").write_text("SECRET-KEY\n")
    return root


@pytest.fixture(scope="module", params=["exec", "runner"])
def box(request: pytest.FixtureRequest, client: Any, area: Path) -> Iterator[DockerSandbox]:
    """One exec per call, or the resident runner: both paths must contain alike."""
    use_runner = request.param == "runner"
    sandbox = DockerSandbox(
        CONFIG, area / "ws", PREFIX + request.param, client=client, runner=use_runner
    )
    sandbox.start()
    yield sandbox
    assert (sandbox._runner is not None) is use_runner  # the path under test was the one used
    sandbox.close()


def run(box: DockerSandbox, command: str, **kw: Any) -> ExecResult:
    return box.exec(command, cwd=str(box.workspace), **kw)


# ---------------------------------------------------------------- the basics


def test_runs_in_the_workspace_as_its_owner(box: DockerSandbox, area: Path) -> None:
    result = run(box, "id -u; id -g; pwd; echo hello > made.txt; mkdir -p sub/dir")
    assert result.exit_code == 0, result
    assert result.stdout.decode().split() == [str(UID), str(GID), str(area / "ws")]
    for path in (area / "ws" / "made.txt", area / "ws" / "sub" / "dir"):
        info = path.stat()
        assert (info.st_uid, info.st_gid) == (UID, GID)
    assert (area / "ws" / "made.txt").read_text() == "hello\n"


def test_status_stderr_stdin_env(box: DockerSandbox) -> None:
    result = run(box, 'cat; echo "$WHO" >&2; exit 5', stdin=b"piped\n", env={"WHO": "me"})
    assert (result.exit_code, result.stdout, result.stderr) == (5, b"piped\n", b"me\n")
    # the image's environment is kept under the call's own
    assert run(box, 'echo "$HOME:$PATH:$LANG"').stdout.startswith(b"/tmp:/usr/local/sbin:")


def test_output_streams_as_it_comes(box: DockerSandbox, area: Path) -> None:
    # The command waits for a file that the sink creates on seeing the first line:
    # without streaming it would wait until its timeout.
    flag = area / "ws" / "go"

    def sink(stream: str, data: bytes) -> None:
        if b"first" in data:
            flag.touch()

    result = run(
        box,
        "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second",
        on_output=sink,
        timeout=20,
    )
    assert not result.timed_out
    assert result.stdout == b"first\nsecond\n"


def test_a_cwd_missing_in_the_sandbox_is_an_error(box: DockerSandbox) -> None:
    result = box.exec("pwd", cwd="/no/such/dir")
    assert result.exit_code == 126 and result.stdout == b""
    assert "could not start the command" in (result.error or "")
    assert "/no/such/dir" in (result.error or "")


def test_hardening_is_in_place(box: DockerSandbox) -> None:
    result = run(box, "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; ls /sys/class/net")
    lines = dict(line.split(":\t") for line in result.stdout.decode().splitlines() if ":\t" in line)
    assert lines["CapEff"] == "0000000000000000"
    assert lines["CapBnd"] == "0000000000000000"
    assert lines["NoNewPrivs"] == "1"
    assert result.stdout.decode().split()[-1] == "lo"  # the only interface


def test_labels_and_reuse(client: Any, box: DockerSandbox, area: Path) -> None:
    again = DockerSandbox(CONFIG, area / "ws", box.session, client=client, prune=False)
    again.start()
    assert again._container is not None and box._container is not None
    assert again._container.id == box._container.id  # warm: the same container
    labels = again._container.labels
    again.release()
    assert labels[LABEL_MANAGED] == "true"
    assert labels[LABEL_SESSION] == box.session
    assert labels[LABEL_WORKSPACE] == str(area / "ws")
    assert labels[LABEL_VERSION] == guardrail_version()
    assert run(box, "true").exit_code == 0  # release() left it running


def test_copy_in_and_out(box: DockerSandbox, area: Path) -> None:
    source = area / "to-copy.txt"
    source.write_text("payload\n")
    box.copy_in(source, "/tmp/copied.txt")
    assert run(box, "cat /tmp/copied.txt").stdout == b"payload\n"
    back = area / "back.txt"
    box.copy_out("/tmp/copied.txt", back)
    assert back.read_text() == "payload\n"


# ---------------------------------------------------------------- escapes


def test_cannot_write_outside_the_workspace(box: DockerSandbox, area: Path) -> None:
    marker = f"escape-{uuid.uuid4().hex}"
    targets = ["/etc", "/usr/bin", "/", str(area), str(area / "home"), "/root", "/var/tmp"]
    script = "; ".join(f"echo x > {t}/{marker} 2>/dev/null && echo WROTE {t}" for t in targets)
    result = run(box, script + f"; echo x > /tmp/{marker}")
    assert b"WROTE" not in result.stdout, result
    for target in targets:
        assert not Path(target, marker).exists()
    # /tmp in the sandbox is its own tmpfs, not the host's
    assert not Path("/tmp", marker).exists()


def test_guardrail_state_is_read_only_inside(box: DockerSandbox, area: Path) -> None:
    """Sandboxed code cannot grant itself approvals or rewrite the audit trail."""
    ws = area / "ws"
    state = ws / ".guardrail"
    (state / "policy.yaml").write_text("version: 1\n")  # the sandbox made .guardrail/ at start
    result = box.exec("echo 'rules: []' >> .guardrail/policy.yaml; mkdir .guardrail/sessions",
                      cwd=str(ws))
    assert result.exit_code != 0
    assert (state / "policy.yaml").read_text() == "version: 1\n"
    assert not (state / "sessions").exists()
    assert box.exec("echo ok > other.txt", cwd=str(ws)).exit_code == 0


def test_cannot_read_the_host_home(box: DockerSandbox, area: Path) -> None:
    secret = area / "home" / ".ssh" / "id_rsa"
    result = run(box, f"cat {secret}; ls {area / 'home'}; cat /root/.bash_history")
    assert b"SECRET-KEY" not in result.stdout
    assert result.exit_code != 0
    assert b"No such file" in result.stderr


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"reached")

    def log_message(self, *args: object) -> None:
        pass


def test_no_network(box: DockerSandbox) -> None:
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        # The host's loopback server answers on the host...
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/host", timeout=5) as response:
            assert response.read() == b"reached"
        # ...but not from the sandbox, and names do not resolve there.
        result = run(
            box,
            f"curl -sS -m 5 http://127.0.0.1:{port}/sandbox; echo curl=$?; "
            "python3 -c \"import socket; socket.getaddrinfo('deb.debian.org', 80)\" "
            "2>&1 | tail -1",
        )
    finally:
        server.shutdown()
        server.server_close()
    out = result.stdout.decode()
    assert "reached" not in out
    assert "curl=7" in out  # could not connect
    assert "gaierror" in out
    assert _Recorder.hits == ["/host"]


def test_setuid_root_gains_nothing(box: DockerSandbox, area: Path) -> None:
    require(os.geteuid() == 0, "root on the host (to make a setuid-root binary)")
    gcc = shutil.which("gcc")
    require(gcc is not None, "gcc")
    assert gcc is not None
    source = area / "escalate.c"
    source.write_text(
        "#include <stdio.h>\n#include <unistd.h>\n"
        'int main(void){int r=setuid(0);printf("euid=%d setuid=%d\\n",(int)geteuid(),r);'
        "return 0;}\n"
    )
    binary = area / "ws" / "escalate"
    built = subprocess.run([gcc, "-static", "-O1", "-o", str(binary), str(source)], check=False)
    require(built.returncode == 0, "a static C toolchain (libc6-dev)")
    os.chown(binary, 0, 0)
    os.chmod(binary, 0o4755)  # setuid root, in the workspace (not mounted nosuid)
    result = run(box, "./escalate")
    assert result.stdout == f"euid={UID} setuid=-1\n".encode(), result


def test_fork_bomb_is_held_by_the_pids_limit(box: DockerSandbox) -> None:
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(600); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    print('forks', n, flush=True)\n"
        "time.sleep(600)\n"
    )
    result = run(box, f'python3 -c "{bomb}"', timeout=4)
    assert result.timed_out
    forks = int(result.stdout.split()[1])
    assert 0 < forks < CONFIG.pids_limit
    # Then a classic shell bomb; the session survives it (or is replaced).
    run(box, "f() { f | f & }; f", timeout=3)
    after = run(box, "echo alive")
    assert after.stdout == b"alive\n", after
    # init, watcher, runner, this call: the bombs are gone (reaping may lag a little)
    deadline = time.monotonic() + 5
    while (count := _processes(box)) >= 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count < 10


def test_memory_hog_is_killed_and_reported(box: DockerSandbox) -> None:
    result = run(box, "python3 -c \"b = b'x' * (600 << 20); print('survived')\"")
    assert result.oom_killed, result
    assert result.exit_code == 137
    assert b"survived" not in result.stdout
    assert "out of memory" in (result.error or "")
    assert run(box, "echo alive").stdout == b"alive\n"


def test_background_leftovers_die_with_the_call(box: DockerSandbox) -> None:
    started = run(box, "sleep 321 >/dev/null 2>&1 & echo started")
    assert started.stdout == b"started\n" and not started.timed_out
    assert _gone(box, b"sleep 321")


def test_sleep_past_the_timeout_is_killed(box: DockerSandbox) -> None:
    started = time.monotonic()
    result = run(box, "sleep 1000 & sleep 1000", timeout=1)
    assert result.timed_out and result.exit_code == 124
    assert "timed out" in (result.error or "")
    assert time.monotonic() - started < 10
    assert _gone(box, b"sleep 1000")


def test_output_flood_is_capped_in_bounded_memory(box: DockerSandbox) -> None:
    tracemalloc.start()
    try:
        result = run(box, "head -c 200000000 /dev/zero; echo done >&2")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0
    assert result.stdout_truncated and not result.stderr_truncated
    assert result.stdout.startswith(b"\0" * MIB + b"\n[guardrail: stdout cut at 1048576 bytes")
    assert b"198951424 more bytes dropped" in result.stdout
    assert result.stderr == b"done\n"
    assert peak < 8 * MIB  # 200 MB went through; a few MiB stayed


def _processes(box: DockerSandbox) -> int:
    return int(run(box, "ls -d /proc/[0-9]* | wc -l").stdout)


def _gone(box: DockerSandbox, cmdline: bytes, within: float = 5.0) -> bool:
    """No process in the sandbox runs `cmdline` (SIGKILL is delivered asynchronously)."""
    deadline = time.monotonic() + within
    while True:
        listing = run(box, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '").stdout
        if cmdline not in listing:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# ---------------------------------------------------------------- lifecycle


def test_stale_containers_are_pruned_at_start(client: Any, area: Path) -> None:
    import docker.errors

    labels = {LABEL_MANAGED: "true", LABEL_SESSION: PREFIX + "stale"}
    exited = client.containers.create(IMAGE, ["true"], labels=labels)  # a crashed session
    exited.start()
    exited.wait(timeout=30)
    unstarted = client.containers.create(IMAGE, ["true"], labels=labels)
    sandbox = DockerSandbox(CONFIG, area / "ws", PREFIX + "pruner", client=client)
    sandbox.start()
    sandbox.close()
    with pytest.raises(docker.errors.NotFound):
        exited.reload()
    # One created but not started may be another process's start in progress: kept a while.
    unstarted.reload()
    assert prune_stale(client, created_grace=0) == [unstarted.name]
    with pytest.raises(docker.errors.NotFound):
        unstarted.reload()


def test_idle_session_stops_itself(client: Any, area: Path) -> None:
    config = CONFIG.model_copy(update={"idle_timeout": 1.0})
    sandbox = DockerSandbox(config, area / "ws", PREFIX + "idle", client=client)
    assert sandbox.exec("true", cwd="/").exit_code == 0
    deadline = time.monotonic() + 20
    while any(c.name == sandbox.name for c in _ours(client)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(c.name == sandbox.name for c in _ours(client))
    # The next call finds it gone and starts a fresh one.
    assert sandbox.exec("echo back", cwd="/").stdout == b"back\n"
    sandbox.close()
    assert not any(c.name == sandbox.name for c in _ours(client))


def test_cli_lists_and_stops_sessions(client: Any, area: Path) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from guardrail.cli.sandbox import sandbox_app

    app = typer.Typer()
    app.add_typer(sandbox_app, name="sandbox")
    sandbox = DockerSandbox(CONFIG, area / "ws", PREFIX + "cli", client=client)
    sandbox.start()
    listed = CliRunner().invoke(app, ["sandbox", "ls", "--format", "json"])
    assert listed.exit_code == 0
    rows = {row["session"]: row for row in json.loads(listed.stdout)}
    assert rows[PREFIX + "cli"]["status"] == "running"
    assert rows[PREFIX + "cli"]["workspace"] == str(area / "ws")
    stopped = CliRunner().invoke(app, ["sandbox", "stop", "--session", PREFIX + "cli"])
    assert stopped.exit_code == 0 and stopped.stdout.split() == [sandbox.name]
    assert not any(c.name == sandbox.name for c in _ours(client))
    sandbox.release()


def test_missing_image_says_how_to_build_one(client: Any, area: Path) -> None:
    config = CONFIG.model_copy(update={"image": "guardrail-no-such-image:never"})
    sandbox = DockerSandbox(config, area / "ws", PREFIX + "noimage", client=client)
    result = sandbox.exec("true", cwd="/")
    assert result.exit_code == -1
    assert "guardrail sandbox build-image" in (result.error or "")
    sandbox.close()


def test_concurrent_starts_share_one_container(client: Any, area: Path) -> None:
    boxes = [DockerSandbox(CONFIG, area / "ws", PREFIX + "race", client=client) for _ in range(3)]
    results: list[ExecResult] = []
    threads = [
        threading.Thread(target=lambda b=b: results.append(b.exec("echo ok", cwd="/")))
        for b in boxes
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [r.stdout for r in results] == [b"ok\n"] * 3, results
        assert len({b._container.id for b in boxes if b._container is not None}) == 1
    finally:
        for box in boxes[1:]:
            box.release()
        boxes[0].close()
