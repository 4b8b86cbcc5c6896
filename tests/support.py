"""Helpers for tests that need real components: they must fail, not skip, under CI=true.

Import as `from support import require` (tests/ is on sys.path through the
root conftest); a module of its own, because several folders have a
conftest.py and `conftest` is an ambiguous name to import.
"""

from __future__ import annotations

import os
import shutil

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
