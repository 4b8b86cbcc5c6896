"""The public API is what `guardrail/__init__.py` exports, and importing it stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import guardrail


def test_all_is_sorted_and_pinned() -> None:
    assert guardrail.__all__ == sorted(guardrail.__all__)
    assert guardrail.__all__ == ["Decision", "Guard", "Risk", "Verdict", "__version__"]
    for name in guardrail.__all__:
        assert getattr(guardrail, name) is not None


def test_check_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """A hook's one-shot `guardrail check` must not import typer, rich, pydantic, docker, httpx or sqlglot."""
    env_home = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    call = b'{"tool": "shell", "command": "git status && ls src"}\n'
    probe = (
        f"import sys; sys.argv = ['guardrail', 'check', '--workspace', {str(tmp_path)!r}]; "
        "import guardrail.cli as c; rc = c.main(sys.argv[1:]); "
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'typer', 'rich', 'pydantic', 'docker', 'httpx', 'sqlglot', 'click'}); "
        "print('HEAVY', ','.join(heavy), file=sys.stderr)"
    )

    env = {**os.environ, **env_home}
    subprocess.run([sys.executable, "-c", probe], input=call, capture_output=True, env=env, check=True)  # fills the cache
    proc = subprocess.run([sys.executable, "-c", probe], input=call, capture_output=True, env=env, check=True)
    assert b'"decision": "allow"' in proc.stdout
    heavy = proc.stderr.decode().split("HEAVY", 1)[1].strip()
    assert heavy == "", f"the check path imported {heavy}"
