"""Where allowed shell commands run: `open_sandbox` picks the backend.

Imports stay lazy: `guardrail check` imports this package's neighbours on
every agent action and must not pay for pydantic or docker.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.sandbox.base import ExecResult, ManagedSandbox, OutputSink, Sandbox

if TYPE_CHECKING:
    from guardrail.sandbox.config import SandboxConfig

__all__ = ["ExecResult", "ManagedSandbox", "OutputSink", "Sandbox", "open_sandbox"]


def open_sandbox(
    config: SandboxConfig,
    workspace: Path,
    session: str,
    no_sandbox: bool = False,
    *,
    image: str | None = None,
) -> ManagedSandbox:
    """The session's sandbox: Docker, or the host when `no_sandbox` (which says so).

    `image` is the `--image` of the command line; GUARDRAIL_IMAGE and the
    policy come after it. Nothing starts until `start()` or the first exec.
    """
    if no_sandbox:
        from guardrail.sandbox.host import HostSandbox

        return HostSandbox(config, workspace, session)
    from guardrail.sandbox.config import resolve_image
    from guardrail.sandbox.docker import DockerSandbox

    return DockerSandbox(config, workspace, session, image=resolve_image(config, image))
