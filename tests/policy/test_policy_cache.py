"""The compiled-policy cache: hits, misses, corruption, and what a cached load imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from guardrail.policy import compiler, loader
from guardrail.policy.loader import cache_dir, cache_file, load_policy

WritePolicy = Callable[..., Path]  # the `write` fixture (conftest.py)

BASE = "version: 1\nlists: {p: ['/etc/**']}\n"
CHILD = """
version: 1
extends: base.yaml
rules:
  - {id: etc, decision: deny, match: {effect: path, path: "@p"}}
"""
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def policy(write: WritePolicy) -> Path:
    write(BASE, "base.yaml")
    return write(CHILD, "child.yaml")


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records each real compilation."""
    seen: list[Path] = []
    real = compiler.compile_path

    def counting(path: Path, **kwargs: object) -> compiler.Result:
        seen.append(path)
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compiler, "compile_path", counting)
    return seen


def entry(policy: Path) -> Path:
    return cache_file(policy.resolve(), os.environ["HOME"])


def test_second_load_is_a_hit(policy: Path, compiles: list[Path]) -> None:
    first = load_policy(policy, check_examples=False)
    second = load_policy(policy, check_examples=False)
    assert len(compiles) == 1
    assert entry(policy).is_file()
    assert [r.id for r in second.rules] == [r.id for r in first.rules] == ["etc"]
    assert second.sources == first.sources


def test_cache_lives_under_xdg_cache_home(policy: Path, tmp_path: Path) -> None:
    assert cache_dir() == tmp_path / "cache" / "guardrail"
    load_policy(policy, check_examples=False)
    assert entry(policy).parent == tmp_path / "cache" / "guardrail"
    assert (entry(policy).stat().st_mode & 0o077) == 0


def test_a_changed_base_is_a_miss(policy: Path, compiles: list[Path], write: WritePolicy) -> None:
    load_policy(policy, check_examples=False)
    write(BASE.replace("/etc/**", "/srv/**"), "base.yaml")
    reloaded = load_policy(policy, check_examples=False)
    assert len(compiles) == 2
    assert reloaded.lists["p"] == ("/srv/**",)


def test_a_changed_policy_is_a_miss(policy: Path, compiles: list[Path]) -> None:
    load_policy(policy, check_examples=False)
    policy.write_text(CHILD.replace("deny", "ask"))
    assert str(load_policy(policy, check_examples=False).rules[0].verdict) == "ask"
    assert len(compiles) == 2


def test_another_home_is_another_entry(
    policy: Path, compiles: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    load_policy(policy, check_examples=False)
    monkeypatch.setenv("HOME", str(tmp_path / "other"))
    load_policy(policy, check_examples=False)
    assert len(compiles) == 2


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_a_corrupt_entry_is_ignored_and_replaced(
    policy: Path, compiles: list[Path], garbage: bytes
) -> None:
    load_policy(policy, check_examples=False)
    entry(policy).write_bytes(garbage)
    assert [r.id for r in load_policy(policy, check_examples=False).rules] == ["etc"]
    assert len(compiles) == 2
    load_policy(policy, check_examples=False)
    assert len(compiles) == 2  # rewritten


def test_an_entry_others_can_write_is_not_trusted(policy: Path, compiles: list[Path]) -> None:
    load_policy(policy, check_examples=False)
    entry(policy).chmod(0o666)
    load_policy(policy, check_examples=False)
    assert len(compiles) == 2


def test_an_unwritable_cache_is_not_fatal(
    policy: Path, compiles: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert [r.id for r in load_policy(policy, check_examples=False).rules] == ["etc"]
    assert [r.id for r in load_policy(policy, check_examples=False).rules] == ["etc"]
    assert len(compiles) == 2


def test_use_cache_false_and_custom_effects_bypass_the_cache(
    policy: Path, compiles: list[Path]
) -> None:
    load_policy(policy, use_cache=False)
    load_policy(policy, effects_of=lambda example: [])
    assert not entry(policy).exists()
    assert len(compiles) == 2


def test_an_entry_without_examples_is_stale_once_examples_can_be_checked(
    policy: Path, compiles: list[Path]
) -> None:
    load_policy(policy, check_examples=False)
    load_policy(policy, check_examples=False)
    assert len(compiles) == 1
    if loader._pipeline_exists():
        load_policy(policy)  # examples wanted now: compiled again
        assert len(compiles) == 2
        load_policy(policy, check_examples=False)  # and the checked entry serves everyone
        assert len(compiles) == 2


def test_a_cached_load_imports_neither_yaml_nor_pydantic(policy: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = (
        "import json, sys\n"
        "from guardrail.policy.loader import load_policy\n"
        "from guardrail.policy.engine import evaluate\n"
        "from guardrail.effects import PathEffect\n"
        f"policy = load_policy({str(policy)!r}, check_examples=False)\n"
        "decision = evaluate([PathEffect('read', '/etc/hosts', 'outside')], policy)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('yaml', 'pydantic', 'pydantic_core'))\n"
        "print(json.dumps({'heavy': heavy, 'verdict': str(decision.verdict)}))\n"
    )
    first = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(first.stdout)["heavy"]  # the miss compiled with yaml and pydantic
    second = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(second.stdout) == {"heavy": [], "verdict": "deny"}
