"""Shared fixtures. Components a test needs must fail, not skip, under CI=true."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import IN_CI, require, require_binary  # noqa: F401  (re-exported)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh workspace with a fake HOME beside it."""
    ws = tmp_path / "project"
    ws.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield ws
