"""SandboxConfig: hardened defaults, sizes, strictness, image precedence (no Docker)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from guardrail.sandbox.config import (
    DEFAULT_IMAGE,
    IMAGE_ENV,
    MIB,
    SandboxConfig,
    parse_size,
    resolve_image,
    workspace_user,
)


def test_defaults_are_the_hardened_choice() -> None:
    config = SandboxConfig()
    assert config.image == DEFAULT_IMAGE
    assert config.network == "none"
    assert config.read_only is True
    assert config.output_cap == MIB
    assert config.user is None  # the workspace owner, decided at start
    assert config.pids_limit < 1000
    assert config.memory == 512 * MIB


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512m", 512 * MIB), ("1g", 1024 * MIB), ("64MiB", 64 * MIB), ("2048", 2048), ("1.5k", 1536)],
)
def test_sizes(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_sizes_in_the_model() -> None:
    config = SandboxConfig.model_validate(
        {"memory": "256m", "output_cap": "64k", "tmpfs_size": "8m"}
    )
    assert (config.memory, config.output_cap, config.tmpfs_size) == (256 * MIB, 65536, 8 * MIB)


@pytest.mark.parametrize(
    "data",
    [
        {"netwrok": "none"},  # a typo is an error, not ignored
        {"network": "bridge"},
        {"memory": "lots"},
        {"memory": "1m"},
        {"cpus": 0},
        {"pids_limit": 1},
        {"timeout": -1},
        {"user": "root"},
        {"env": {"1BAD": "x"}},
        {"image": "two words"},
    ],
)
def test_rejects(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SandboxConfig.model_validate(data)


def test_every_field_is_described() -> None:
    for name, field in SandboxConfig.model_fields.items():
        assert field.description, name


def test_image_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    config = SandboxConfig(image="from-policy:1")
    monkeypatch.delenv(IMAGE_ENV, raising=False)
    assert resolve_image(config) == "from-policy:1"
    monkeypatch.setenv(IMAGE_ENV, "from-env:2")
    assert resolve_image(config) == "from-env:2"
    assert resolve_image(config, "from-cli:3") == "from-cli:3"


def test_workspace_user_is_the_owner(tmp_path: Path) -> None:
    assert workspace_user(tmp_path) == f"{os.getuid()}:{os.getgid()}"


def test_from_the_compiled_policy_section() -> None:
    from guardrail.errors import PolicyError
    from guardrail.sandbox.config import config_from_policy

    assert config_from_policy(None) == SandboxConfig()
    assert config_from_policy({"network": "open", "memory": "1g"}).memory == 1024 * MIB
    with pytest.raises(PolicyError, match="sandbox: netwrok"):
        config_from_policy({"netwrok": "open"})


def test_network_modes() -> None:
    from guardrail.sandbox.docker import network_mode

    assert network_mode(SandboxConfig()) == "none"
    assert network_mode(SandboxConfig(network="open")) == "bridge"
    # policy: no interface either; egress goes through a socket (tests/sandbox/test_egress*.py)
    assert network_mode(SandboxConfig(network="policy")) == "none"


def test_open_sandbox_picks_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from guardrail.sandbox import open_sandbox
    from guardrail.sandbox.docker import DockerSandbox
    from guardrail.sandbox.host import HostSandbox

    monkeypatch.setenv(IMAGE_ENV, "from-env:1")
    host = open_sandbox(SandboxConfig(), tmp_path, "s", no_sandbox=True)
    assert isinstance(host, HostSandbox)
    docker = open_sandbox(SandboxConfig(), tmp_path, "s")  # starts nothing yet
    assert isinstance(docker, DockerSandbox) and docker.image == "from-env:1"
    assert open_sandbox(SandboxConfig(), tmp_path, "s", image="cli:2").image == "cli:2"  # type: ignore[attr-defined]
