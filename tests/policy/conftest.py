"""Helpers for policy tests: small policies written in the tests themselves."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from guardrail.policy.compiled import CompiledPolicy
from guardrail.policy.loader import load_policy

WritePolicy = Callable[..., Path]
LoadPolicy = Callable[..., CompiledPolicy]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake HOME, and a cache directory of the test's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return home


@pytest.fixture
def write(tmp_path: Path, home: Path) -> WritePolicy:
    """write(text, name="policy.yaml") -> path; text is dedented."""

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = tmp_path / "policies" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


@pytest.fixture
def compile_text(write: WritePolicy) -> LoadPolicy:
    """compile_text(text) -> a compiled policy, without cache or examples."""

    def compile_text(text: str, **kwargs: object) -> CompiledPolicy:
        kwargs.setdefault("use_cache", False)
        kwargs.setdefault("check_examples", False)
        return load_policy(write(text), **kwargs)  # type: ignore[arg-type]

    return compile_text
