"""The sandbox side of egress: one Unix socket into a `--network none` container.

The host directory `egress_dir(name)` holds the proxy's socket (`proxy.sock`)
and is bind-mounted at `CONTAINER_DIR`. A directory, not the socket file: a
proxy started later (the next `guardrail run` of a warm session) binds a
fresh socket there and the running container sees it. The directory lives
under a per-uid parent of mode 0700, so on the host only its owner reaches
the socket; inside the container only the mounted leaf is visible.

Inside, `FORWARDER` (python3, standard library only) listens on
127.0.0.1:`PROXY_PORT` and relays each connection to the socket; the proxy
variables point every well-behaved client there. Nothing else leaves: the
container has no interface but loopback.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from guardrail.errors import SandboxError

PROXY_PORT = 3128
SOCKET_NAME = "proxy.sock"
CONTAINER_DIR = "/run/guardrail-egress"
READY_FILE = "/tmp/.guardrail-egress-ready"

# argv: socket path, ready file. Standard library only; one task per connection.
FORWARDER = r"""
import asyncio, sys

SOCK, READY = sys.argv[1], sys.argv[2]

async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(262144)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except Exception:
        writer.close()

async def handle(reader, writer):
    try:
        up_reader, up_writer = await asyncio.open_unix_connection(SOCK, limit=262144)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    up_writer.close()
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT, limit=262144)
    open(READY, "w").close()
    async with server:
        await server.serve_forever()

asyncio.run(main())
""".replace("PORT", str(PROXY_PORT))

# Starts the forwarder, then becomes the container's own command ("$@").
LAUNCH = r"""
python3 -c "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
shift 3
exec "$@"
"""


def proxy_environment(port: int = PROXY_PORT) -> dict[str, str]:
    """Variables that send pip, npm, git, curl and urllib through the forwarder."""
    url = f"http://127.0.0.1:{port}"
    direct = "localhost,127.0.0.1,::1"
    return {
        "HTTP_PROXY": url,
        "HTTPS_PROXY": url,
        "http_proxy": url,
        "https_proxy": url,
        "NO_PROXY": direct,
        "no_proxy": direct,
        "npm_config_proxy": url,
        "npm_config_https_proxy": url,
    }


def wrap_command(command: list[str]) -> list[str]:
    """The container command with the forwarder started in front of it."""
    sock = f"{CONTAINER_DIR}/{SOCKET_NAME}"
    return ["sh", "-c", LAUNCH, "guardrail-egress", FORWARDER, sock, READY_FILE, *command]


def ready_test() -> str:
    """A shell test that holds once the forwarder listens."""
    return f"test -f {READY_FILE}"


def egress_dir(name: str, base: Path | None = None) -> Path:
    """The host directory for sandbox `name`'s socket, made safe to use (0700 parent)."""
    parent = (base or Path(tempfile.gettempdir())) / f"guardrail-egress-{os.getuid()}"
    _own_dir(parent, 0o700)
    path = parent / name
    _own_dir(path, 0o755)  # the container's uid must reach the socket inside
    return path


def socket_path(name: str, base: Path | None = None) -> Path:
    return egress_dir(name, base) / SOCKET_NAME


def _own_dir(path: Path, mode: int) -> None:
    """Create `path`, or accept it only when it is a real directory of ours (no symlink games)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, mode)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise SandboxError(
            f"{path} is not a directory owned by uid {os.getuid()}: remove it "
            "(the egress proxy's socket must not live where another user can reach it)"
        )
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)
