"""Executors for file, db and http calls, behind one `execute(call) -> ToolResult`.

`make_executors(workspace, tools=..., databases=..., decide=...)` gives a
`ToolExecutors`; the pipeline calls its `execute` for an allowed (or
approved) call. Each executor is built on first use, so a file call never
imports httpx and a SQLite call never imports psycopg. Shell calls are not
run here: they go to the sandbox.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from guardrail.calls import DbCall, ToolCall
from guardrail.tools.base import Executor, ToolResult

if TYPE_CHECKING:
    from guardrail.decision import Decision
    from guardrail.tools.config import DatabaseConfig, ToolsConfig

__all__ = ["Executor", "ToolExecutors", "ToolResult", "make_executors"]


class ToolExecutors:
    """The file, db and http executors of one workspace, dispatched by the call's tool."""

    def __init__(
        self,
        workspace: str | os.PathLike[str],
        tools: ToolsConfig | None = None,
        databases: Mapping[str, DatabaseConfig] | None = None,
        decide: Callable[[ToolCall], Decision] | None = None,
        resolver: Callable[[str], list[str]] | None = None,
    ) -> None:
        self.workspace = os.fspath(workspace)
        self.tools = tools
        self.databases = dict(databases or {})
        self.decide = decide
        self.resolver = resolver
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def execute(self, call: ToolCall) -> ToolResult:
        """Run an already-decided call; a failure is a result with ok=False, never a raise."""
        if call.tool == "shell":
            return ToolResult.refused("shell calls run in the sandbox, not in a tool executor")
        try:
            executor = self.executor(call.tool)
        except Exception as exc:  # a broken setup is a refusal, not a crash
            return ToolResult.refused(f"the {call.tool} executor cannot start: {exc}")
        result: ToolResult = executor.execute(call)
        return result

    def executor(self, tool: str) -> Executor:
        with self._lock:
            made = self._made.get(tool)
            if made is None:
                made = self._make(tool)
                self._made[tool] = made
            return made  # type: ignore[no-any-return]

    def _make(self, tool: str) -> Any:
        if tool == "file":
            from guardrail.tools.files import FileExecutor

            return FileExecutor(self.workspace, self.tools)
        if tool == "db":
            from guardrail.tools.db import DbExecutor

            return DbExecutor(self.databases, self.workspace)
        if tool == "http":
            from guardrail.tools.http import HttpExecutor

            return HttpExecutor(self.tools, decide=self.decide, resolver=self.resolver)
        raise ValueError(f"no executor for tool {tool!r}")

    def dialect_for(self, call: DbCall) -> str | None:
        """The SQL dialect of the database a db call names (parse the query in it)."""
        if not self.databases:
            return call.dialect
        from guardrail.tools.db import DbExecutor

        executor = self.executor("db")
        assert isinstance(executor, DbExecutor)
        return executor.dialect_for(call)

    def close(self) -> None:
        with self._lock:
            for made in self._made.values():
                made.close()
            self._made.clear()


def make_executors(
    workspace: str | os.PathLike[str],
    *,
    tools: ToolsConfig | Mapping[str, Any] | None = None,
    databases: Mapping[str, DatabaseConfig | Mapping[str, Any]] | None = None,
    decide: Callable[[ToolCall], Decision] | None = None,
    resolver: Callable[[str], list[str]] | None = None,
) -> ToolExecutors:
    """Executors for a workspace; `tools`/`databases` may be the policy's raw mappings.

    `decide` is the policy check (`guard.check`): the HTTP executor asks it
    again for each redirect hop and for each non-public address a name
    resolves to. Raises pydantic's ValidationError for settings that do not fit.
    """
    from guardrail.tools.config import DatabaseConfig, ToolsConfig

    tools_cfg = tools if isinstance(tools, ToolsConfig) else ToolsConfig.model_validate(tools or {})
    dbs = {
        name: cfg if isinstance(cfg, DatabaseConfig) else DatabaseConfig.model_validate(cfg)
        for name, cfg in (databases or {}).items()
    }
    return ToolExecutors(workspace, tools_cfg, dbs, decide, resolver)
