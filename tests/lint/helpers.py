"""Shared by the lint tests: the golden folder and a typer runner for the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

GOLDEN = Path(__file__).resolve().parent / "golden"
SARIF_SCHEMA = Path(__file__).resolve().parent / "sarif-schema-2.1.0-subset.json"
REPO = Path(__file__).resolve().parents[2]


def invoke(command: Callable[..., Any], args: list[str]) -> Any:
    """Run one command function as typer would (a second command keeps its name off argv)."""
    app = typer.Typer()
    app.command("cmd")(command)
    app.command("unused")(lambda: None)
    return CliRunner().invoke(app, ["cmd", *args])
