"""The policy's `commands:` section: catalogue entries a user adds or replaces.

The same format as `guardrail/data/commands.yaml` (read by
`guardrail.parsers.commands`); this pydantic model exists for validation,
errors with locations and the JSON Schema, and is never imported on the
check path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal[
    "read", "list", "write", "delete", "exec", "chmod", "chown", "url", "host", "sql", "script",
    "pattern", "mode", "owner", "command", "command_string", "code", "module", "data", "header",
    "ignore", "value", "flag", "value2", "read2", "script_file", "write_target", "write_basename",
    "project",
]  # fmt: skip
Handler = Literal[
    "shell", "eval", "source", "exec", "command_builtin", "interpreter", "deno", "bun", "busybox",
    "watch", "trap", "alias", "env", "set", "declare", "hostname", "sysctl", "crontab",
    "mktemp", "chmod", "chmod_like", "chown", "tar", "zip", "unzip", "rsync", "scp", "find", "xargs",
    "curl", "wget", "httpie", "ssh", "nc", "socat", "openssl", "dns", "gh", "git", "sql_client",
    "docker", "sed", "awk",
]  # fmt: skip


class Wrapper(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skip: int = Field(0, ge=0, description="Positional arguments of the wrapper before the wrapped command.")
    project: bool = Field(False, description="The wrapped command is the project's own (uv run, pnpm exec).")


class CodePattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    regex: str = Field(description="Searched in the command's script argument.")
    code: Literal["runs_programs", "writes_file", "dynamic"] = "runs_programs"


class CommandSpec(BaseModel):
    """What one command does with its arguments."""

    model_config = ConfigDict(extra="forbid")

    args: Role | None = Field(None, description="Role of the positional arguments (default: ignore).")
    first: Role | None = Field(None, description="Role of the first positional argument.")
    last: Role | None = Field(None, description="Role of the last positional argument, when there are two or more.")
    options: dict[str, Role] = Field(default_factory=dict, description="Option -> role of its value (the value is consumed).")
    when: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Flag -> overrides (args, first, last, tags) when the flag is given.")
    recursive: list[str] = Field(default_factory=list, description="Flags meaning recursive.")
    tags: list[str] = Field(default_factory=list, description="shell, interpreter, network, decoder, env_dump, privilege, system_control, ...")
    subcommands: dict[str, CommandSpec] = Field(default_factory=dict, description="Subcommand -> entry; '*' for any other.")
    global_options: dict[str, Role] = Field(default_factory=dict, description="Options allowed before the subcommand.")
    handler: Handler | None = Field(None, description="A built-in handler for behaviour data cannot say.")
    wrapper: Wrapper | None = Field(None, description="The words after the options are a command to analyse.")
    posix: bool = Field(False, description="Options end at the first positional argument.")
    kv: dict[str, Role] = Field(default_factory=dict, description="key=value arguments with roles (dd's if= and of=).")
    code_patterns: list[CodePattern] = Field(default_factory=list, description="Dangerous code in the script argument.")
    pattern_options: list[str] = Field(default_factory=list, description="Options that give the pattern, so the first positional is a path.")
    script_options: list[str] = Field(default_factory=list, description="Options that give the script, so the first positional is a path.")
    runs_programs: list[str] = Field(default_factory=list, description="Options that make the command run another program.")
    aliases_of: str | None = Field(None, description="Another catalogue entry this one copies.")
    description: str | None = None
    # handler-specific settings
    default: str | None = Field(None, description="Positional argument assumed when none is given (ls: '.').")
    inline: list[str] | None = None
    read_options: list[str] | None = None
    code_options: list[str] | None = None
    inplace: list[str] | None = None
    module: list[str] | None = None
    value_options: list[str] | None = None
    query_options: list[str] | None = None
    file_options: list[str] | None = None
    dialect: str | None = None
    positional_db: bool | None = None
    protocol: str | None = None
    single_positional: str | None = None
    max_positionals_read: int | None = None


def validate_catalogue(raw: dict[str, Any]) -> dict[str, CommandSpec]:
    """Validate a whole catalogue (the shipped one is checked by a test)."""
    return {name: CommandSpec.model_validate(entry or {}) for name, entry in raw.items()}
