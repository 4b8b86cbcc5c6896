"""The policy's `sandbox:` section: how allowed shell commands are contained.

Every default is the hardened choice; a policy loosens one thing at a time,
and a typo is an error (extra="forbid") rather than a silently ignored key.
The policy schema embeds this model as `sandbox: SandboxConfig`.

Where the image comes from, strongest first: `--image` on the command line,
the GUARDRAIL_IMAGE environment variable, `sandbox.image` in the policy, and
the built-in default. `resolve_image` applies that order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guardrail.errors import PolicyError

DEFAULT_IMAGE = "python:3.12-slim"
LOCAL_IMAGE = "guardrail-sandbox:local"
IMAGE_ENV = "GUARDRAIL_IMAGE"
MIB = 1024 * 1024

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_USER = re.compile(r"^\d+(:\d+)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_size(value: int | str) -> int:
    """'512m', '1g', '64MiB' or a byte count -> bytes (binary units, like Docker)."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size must not be negative")
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a size: write e.g. 512m, 1g or a byte count")
    number, unit = float(match.group(1)), match.group(2).lower()
    scale = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB, "t": 1024 * 1024 * MIB}[unit]
    return int(number * scale)


class SandboxConfig(BaseModel):
    """Containment for shell commands the policy allows (or a human approves)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = Field(
        default=DEFAULT_IMAGE,
        description="Container image the commands run in; GUARDRAIL_IMAGE and `--image` override it. "
        "`guardrail sandbox build-image` builds guardrail-sandbox:local without a registry.",
    )
    network: Literal["none", "policy", "open"] = Field(
        default="none",
        description="`none`: no network at all (loopback only); `policy`: still no interface, "
        "but HTTP(S)_PROXY leads through a socket to guardrail's egress proxy, which decides "
        "every request and tunnel with the policy's http rules (guardrail/egress); `open`: "
        "Docker's default bridge, anything goes (`guardrail lint` warns about it).",
    )
    memory: int = Field(
        default=512 * MIB,
        description="Memory limit in bytes (or a size such as 512m); swap is not allowed beyond it.",
    )
    cpus: float = Field(default=1.0, gt=0, description="CPU limit in cores (fractions allowed).")
    pids_limit: int = Field(
        default=256, ge=16, description="Most processes and threads at once (stops fork bombs)."
    )
    timeout: float = Field(
        default=120.0,
        gt=0,
        description="Wall-clock seconds per call; on expiry the call's process group is killed.",
    )
    output_cap: int = Field(
        default=MIB,
        ge=1024,
        description="Bytes kept of stdout and of stderr each (or a size); the rest is dropped and the cut marked.",
    )
    read_only: bool = Field(
        default=True, description="Mount the image's root file system read-only."
    )
    tmpfs_size: int = Field(
        default=256 * MIB,
        ge=MIB,
        description="Size of the writable tmpfs on /tmp, in bytes (or a size).",
    )
    idle_timeout: float = Field(
        default=900.0,
        gt=0,
        description="Seconds without a call after which a session's container stops itself.",
    )
    keep_background: bool = Field(
        default=False,
        description="Let processes a call starts in the background outlive the call "
        "(by default they are killed when it returns).",
    )
    user: str | None = Field(
        default=None,
        description="uid[:gid] the commands run as; default: the owner of the workspace.",
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables for every command."
    )

    @field_validator("memory", "output_cap", "tmpfs_size", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_size(value)
        return value

    @field_validator("memory")
    @classmethod
    def _memory_floor(cls, value: int) -> int:
        if value < 16 * MIB:
            raise ValueError("memory below 16m leaves no room to start a shell")
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError("image must be a name such as python:3.12-slim")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and not _USER.match(value):
            raise ValueError("user must be numeric: uid or uid:gid (e.g. 1000:1000)")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value


def config_from_policy(section: Mapping[str, Any] | SandboxConfig | None) -> SandboxConfig:
    """The policy's `sandbox:` section (a mapping, as the compiled policy keeps it) as a model.

    The policy was validated when it was compiled, so an error here means a
    section built by hand; it is a PolicyError naming the section either way.
    """
    if isinstance(section, SandboxConfig):
        return section
    try:
        return SandboxConfig.model_validate(dict(section or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'sandbox'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PolicyError(f"sandbox: {problems}") from None


def resolve_image(config: SandboxConfig, cli_image: str | None = None) -> str:
    """`--image`, then GUARDRAIL_IMAGE, then the policy's (or default) image."""
    if cli_image:
        return cli_image
    from_env = os.environ.get(IMAGE_ENV, "").strip()
    return from_env or config.image


def workspace_user(workspace: Path) -> str:
    """uid:gid of the workspace's owner: files the sandbox writes stay the user's."""
    info = workspace.stat()
    return f"{info.st_uid}:{info.st_gid}"
