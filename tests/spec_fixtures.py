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

ROOT = Path(__file__).resolve().parent.parent / ".pytest_ws"


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
