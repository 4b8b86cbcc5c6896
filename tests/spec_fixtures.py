"""A workspace laid out like the spec's examples: W=/…/home/dev/project, HOME=/…/home/dev.

It lives under the repository (not /tmp), because /tmp is scratch space and
would count as inside the workspace.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

SCRATCH = ("/tmp", "/var/tmp")


def _root() -> Path:
    """A place for test workspaces that is not scratch space (the checkout may be under /tmp)."""
    candidates = [
        Path(__file__).resolve().parent.parent / ".pytest_ws",
        Path.home() / ".cache" / "guardrail-tests",
        Path("/var/lib/guardrail-tests"),
    ]
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if any(real == s or real.startswith(s + "/") for s in SCRATCH):
            continue
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        return candidate
    raise RuntimeError("no directory outside /tmp and /var/tmp for test workspaces")


ROOT = _root()


def make_spec_workspace() -> tuple[Path, Path]:
    base = ROOT / uuid.uuid4().hex[:12]
    home = base / "home" / "dev"
    ws = home / "project"
    (ws / "src").mkdir(parents=True)
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("[core]\n")
    (ws / "src" / "main.py").write_text("print('hi')\n")
    (ws / "README.md").write_text("# project\n")
    (ws / ".env").write_text("TOKEN=x\n")
    (ws / "scripts").mkdir()
    (ws / "scripts" / "test.sh").write_text("#!/bin/sh\necho ok\n")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("key")
    (home / ".ssh" / "id_rsa.pub").write_text("pub")
    (home / ".aws").mkdir()
    (home / ".aws" / "credentials").write_text("[default]\n")
    (home / "project-old").mkdir()
    return ws, home


def spec_workspace() -> Iterator[tuple[Path, Path]]:
    ws, home = make_spec_workspace()
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        yield ws, home
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old
        shutil.rmtree(ws.parent.parent.parent, ignore_errors=True)
