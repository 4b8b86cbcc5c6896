"""Shared fixtures. Components a test needs must fail, not skip, under CI=true."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, what: str) -> None:
    """Skip locally when a real component is missing; fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but missing")
    pytest.skip(f"{what} is not available")


def require_binary(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"the {name!r} program")
    assert path is not None
    return path


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh workspace with a fake HOME beside it."""
    ws = tmp_path / "project"
    ws.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield ws
