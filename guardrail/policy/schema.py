"""Pydantic models of a policy file, as written (before `extends` and `@lists`).

Why pydantic here and nowhere on the check path: these models exist to give
precise, located errors and a JSON Schema for editors. `loader` validates a
file with them once, then compiles the result into plain Python
(`guardrail.policy.compiled`) that is cached; a cached load never imports
this module.

Every model forbids unknown keys (a typo is an error) and is strict (the YAML
`yes` is a bool, `"80"` is not a port). A condition that takes a list also
takes a single string, and `"@name"` stands for a named list; enumerated
values are checked here unless they come from a list, in which case the
compiler checks them after splicing.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from guardrail.policy.vocabulary import (
    ADDRESS_CLASSES,
    CODE_KINDS,
    EFFECT_KINDS,
    LIST_NAME_PATTERN,
    LOCATIONS,
    ORIGINS,
    PATH_OPS,
    WHERE_KINDS,
)

# Sections whose owner's model could not be imported, and why (`guardrail policy schema`
# says so): while a module is being written the section is checked as a plain mapping.
UNVALIDATED: dict[str, str] = {}


def _optional_model(module: str, name: str) -> Any:
    """A config model another module owns, or a plain mapping while it does not exist yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except Exception as exc:  # a module being written must not break every policy load
        UNVALIDATED[f"{module}.{name}"] = f"{type(exc).__name__}: {exc}"
        return dict[str, Any]  # TODO: drop the fallback once every owner's model has landed


if TYPE_CHECKING:
    CommandSpec: TypeAlias = Any
    SandboxConfig: TypeAlias = Any
    ApprovalConfig: TypeAlias = Any
    DatabaseConfig: TypeAlias = Any
    ToolsConfig: TypeAlias = Any
    McpConfig: TypeAlias = Any
else:
    CommandSpec = _optional_model("guardrail.parsers.command_spec", "CommandSpec")
    SandboxConfig = _optional_model("guardrail.sandbox.config", "SandboxConfig")
    ApprovalConfig = _optional_model("guardrail.approval.config", "ApprovalConfig")
    DatabaseConfig = _optional_model("guardrail.tools.config", "DatabaseConfig")
    ToolsConfig = _optional_model("guardrail.tools.config", "ToolsConfig")
    McpConfig = _optional_model("guardrail.adapters.mcp_config", "McpConfig")


class Strict(BaseModel):
    """Base of every policy model: unknown keys are errors, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


def _listify(value: object) -> object:
    """Accept a single value wherever a list is accepted."""
    return value if isinstance(value, list) else [value]


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """'; did you mean X?' for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _one_or_many(item: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]})


def _enum(values: tuple[str, ...]) -> dict[str, Any]:
    return {"anyOf": [{"enum": list(values)}, {"type": "string", "pattern": "^@"}]}


# Condition values are plain string lists to pydantic (a single string is
# wrapped by `_Conditions._wrap`); emptiness, enumerated values and patterns
# are checked by the compiler after `@lists` are spliced, with the position of
# the offending item. Keeping these types plain keeps building the models
# cheap: this schema is built in every process that compiles a policy.
_STR = {"type": "string", "minLength": 1}
if TYPE_CHECKING:
    Strings: TypeAlias = list[str]
    Ops: TypeAlias = list[str]
    Locations: TypeAlias = list[str]
    Addresses: TypeAlias = list[str]
    Wheres: TypeAlias = list[str]
    CodeKinds: TypeAlias = list[str]
    Origins: TypeAlias = list[str]
else:
    Strings = Annotated[list[str], _one_or_many(_STR)]
    Ops = Annotated[list[str], _one_or_many(_enum(PATH_OPS))]
    Locations = Annotated[list[str], _one_or_many(_enum(LOCATIONS))]
    Addresses = Annotated[list[str], _one_or_many(_enum(ADDRESS_CLASSES))]
    Wheres = Annotated[list[str], _one_or_many(_enum(WHERE_KINDS))]
    CodeKinds = Annotated[list[str], _one_or_many(_enum(CODE_KINDS))]
    Origins = Annotated[list[str], _one_or_many(_enum(ORIGINS))]


class Range(Strict):
    """An inclusive range of integers; either bound may be left out."""

    min: int | None = Field(None, ge=0, description="Smallest value that matches.")
    max: int | None = Field(None, ge=0, description="Largest value that matches.")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


Port = Annotated[int, Field(ge=0, le=65535)]
_RANGE = {
    "type": "object",
    "properties": {
        "min": {"type": "integer", "minimum": 0},
        "max": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}
if TYPE_CHECKING:
    Ports: TypeAlias = list[int | Range | str]
else:
    Ports = Annotated[
        list[Port | Range | str],
        _one_or_many(
            {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 65535}, _RANGE, _STR]}
        ),
    ]

_SOURCE = (
    "Regular expressions searched in the fragment of the call the effect came from (last resort)."
)
_PATHS = (
    "Path globs: `~/` is the home directory, a pattern without `/` matches the last component, "
    "`**` any number of components, a leading `!` excludes."
)
_HOSTS = "Host globs (`*.x` matches subdomains of x only), `re:` regexes, `!` exclusions."
_ADDR = "Address classes of the host."
_CIDR = (
    "CIDR blocks (`10.0.0.0/8`, `fe80::/10`) that contain the host, when it is an address literal."
)


class _Conditions(Strict):
    """Shared by every effect kind."""

    source: Strings | None = Field(None, description=_SOURCE)

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        """A single value where a list is expected is a list of one."""
        if not isinstance(data, dict):
            return data
        lists = _list_fields(cls)
        return {k: [v] if k in lists and not isinstance(v, list) else v for k, v in data.items()}

    @model_validator(mode="after")
    def _not_empty(self) -> _Conditions:
        if not self.model_fields_set - {"effect"}:
            raise ValueError("no conditions: write at least one condition")
        return self


_LIST_FIELDS: dict[type[BaseModel], frozenset[str]] = {}


def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    found = _LIST_FIELDS.get(model)
    if found is None:
        found = frozenset(
            (info.alias or name)
            for name, info in model.model_fields.items()
            if name != "any" and "list[" in str(info.annotation)
        )
        _LIST_FIELDS[model] = found
    return found


class PathMatch(_Conditions):
    """Conditions on path effects (`not` and `any` nest them)."""

    effect: Literal["path"] = Field(
        "path", description="File system effects: read, write, delete, ..."
    )
    op: Ops | None = Field(None, description="What is done to the path.")
    location: Locations | None = Field(
        None, description="Where the path lies, relative to the workspace."
    )
    path: Strings | None = Field(None, description=_PATHS + " Unknown paths never match.")
    whole: bool | None = Field(
        None, description="The path is W, /tmp or /var/tmp itself, or all of it."
    )
    ancestor: bool | None = Field(None, description="The path contains the workspace (/, ~, ..).")
    in_git: bool | None = Field(None, description="The path is under W/.git.")
    recursive: bool | None = Field(None, description="The operation is recursive.")
    setuid: bool | None = Field(None, description="A chmod that sets the setuid or setgid bit.")
    to_root: bool | None = Field(None, description="A chown to root (by name or uid 0).")
    not_: PathMatch | None = Field(
        None, alias="not", description="Holds when these do not all hold."
    )
    any: list[PathMatch] | None = Field(
        None, min_length=1, description="Holds when one of these holds."
    )


class NetMatch(_Conditions):
    """Conditions on net effects (`not` and `any` nest them)."""

    effect: Literal["net"] = Field("net", description="Network requests and connections.")
    protocol: Strings | None = Field(None, description="http, ssh, tcp, git, ftp, rsync, ...")
    scheme: Strings | None = Field(None, description="URL scheme, lower case.")
    host: Strings | None = Field(None, description=_HOSTS)
    address: Addresses | None = Field(None, description=_ADDR)
    address_in: Strings | None = Field(None, description=_CIDR)
    method: Strings | None = Field(None, description="HTTP method (compared in upper case).")
    port: Ports | None = Field(None, description="Ports: numbers or {min, max} ranges.")
    userinfo: bool | None = Field(None, description="The URL carries user information.")
    content: Strings | None = Field(
        None, description="Regular expressions searched in the headers and body."
    )
    not_: NetMatch | None = Field(
        None, alias="not", description="Holds when these do not all hold."
    )
    any: list[NetMatch] | None = Field(
        None, min_length=1, description="Holds when one of these holds."
    )


class DbMatch(_Conditions):
    """Conditions on db effects (`not` and `any` nest them)."""

    effect: Literal["db"] = Field("db", description="SQL statements.")
    statement: Strings | None = Field(
        None,
        description="Statement kinds, upper case (DELETE, DROP TABLE); globs allowed (DROP *).",
    )
    where: Wheres | None = Field(None, description="WHERE clause of an UPDATE or DELETE.")
    features: Strings | None = Field(None, description="Any of these features present.")
    parsed: bool | None = Field(None, description="The statement parsed.")
    not_: DbMatch | None = Field(None, alias="not", description="Holds when these do not all hold.")
    any: list[DbMatch] | None = Field(
        None, min_length=1, description="Holds when one of these holds."
    )


class ExecMatch(_Conditions):
    """Conditions on exec effects (`not` and `any` nest them)."""

    effect: Literal["exec"] = Field("exec", description="Programs started by a shell command.")
    command: Strings | None = Field(None, description="Command names, globs allowed.")
    subcommand: Strings | None = Field(None, description="Subcommands, globs allowed.")
    flags: Strings | None = Field(None, description="Any of these flags present (-f, --force).")
    flags_all: Strings | None = Field(None, description="All of these flags present.")
    args: Strings | None = Field(None, description="Globs: some argument after the name matches.")
    argc: int | Range | None = Field(None, description="Number of arguments after the name.")
    tags: Strings | None = Field(None, description="Any of these catalogue tags.")
    program: Locations | None = Field(None, description="Where a program named by path lies.")
    not_: ExecMatch | None = Field(
        None, alias="not", description="Holds when these do not all hold."
    )
    any: list[ExecMatch] | None = Field(
        None, min_length=1, description="Holds when one of these holds."
    )


class CodeMatch(_Conditions):
    """Conditions on code effects (`not` and `any` nest them)."""

    effect: Literal["code"] = Field("code", description="Code guardrail cannot read statically.")
    code: CodeKinds | None = Field(None, description="Kinds of code guardrail cannot read.")
    not_: CodeMatch | None = Field(
        None, alias="not", description="Holds when these do not all hold."
    )
    any: list[CodeMatch] | None = Field(
        None, min_length=1, description="Holds when one of these holds."
    )


class FlowMatch(_Conditions):
    """Conditions on flow effects (`not` and `any` nest them)."""

    effect: Literal["flow"] = Field(
        "flow", description="Sensitive data flowing into a network sink."
    )
    origin: Origins | None = Field(None, description="Where the data comes from.")
    path: Strings | None = Field(None, description="Path globs of the origin path. " + _PATHS)
    location: Locations | None = Field(None, description="Where the origin path lies.")
    variable: Strings | None = Field(
        None, description="Globs on the variable name, case-insensitive."
    )
    host: Strings | None = Field(None, description="Host of the sink. " + _HOSTS)
    address: Addresses | None = Field(None, description="Address class of the sink. " + _ADDR)
    address_in: Strings | None = Field(None, description="Of the sink. " + _CIDR)
    not_: FlowMatch | None = Field(
        None, alias="not", description="Holds when these do not all hold."
    )
    any: list[FlowMatch] | None = Field(
        None, min_length=1, description="Holds when one of these holds."
    )


Match = Annotated[
    PathMatch | NetMatch | DbMatch | ExecMatch | CodeMatch | FlowMatch,
    Field(discriminator="effect"),
]
MATCH_MODELS: dict[str, type[_Conditions]] = {
    "path": PathMatch,
    "net": NetMatch,
    "db": DbMatch,
    "exec": ExecMatch,
    "code": CodeMatch,
    "flow": FlowMatch,
}
assert tuple(MATCH_MODELS) == EFFECT_KINDS

Example = Annotated[
    str | dict[str, Any],
    Field(description="A shell command, or a call object such as {tool: file, op: read, path: x}."),
]


class Examples(Strict):
    """Calls that document and test the rule; checked whenever the policy is compiled."""

    match: list[Example] = Field(
        default_factory=list, description="Each must give an effect the rule matches."
    )
    no_match: list[Example] = Field(
        default_factory=list, description="None may give an effect the rule matches."
    )


Decision = Literal["allow", "ask", "deny"]
RiskLevel = Literal["low", "medium", "high", "critical"]


class Rule(Strict):
    """One line of the policy: a match on an effect kind and the decision it gets."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="Stable id, lower case (letters, digits, . _ -): shown in decisions, used to replace or disable.",
    )
    description: str = Field("", description="Why the rule exists; shown in explanations.")
    decision: Decision | None = Field(
        None, description="allow, ask or deny (required unless disabled)."
    )
    risk: RiskLevel | None = Field(
        None, description="Default: low for allow, medium for ask, high for deny."
    )
    match: Match | None = Field(None, description="Conditions on one effect kind; all must hold.")
    examples: Examples | None = None
    disabled: bool = Field(
        False,
        description="Turn the rule off; {id: X, disabled: true} removes rule X of a base policy.",
    )
    overrides: bool = Field(
        False,
        description="For an allow rule: on an effect it matches, the asks of other rules (and the "
        "fallback) no longer apply, so a project can allow narrowly what its base asks about. "
        "A deny always applies.",
    )

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.overrides and self.decision not in (None, "allow"):
            raise ValueError(f"rule {self.id!r}: `overrides: true` is only for allow rules")
        if self.disabled:
            return self
        missing = [name for name in ("decision", "match") if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"rule {self.id!r} needs {' and '.join(missing)} (or `disabled: true` to remove a base rule)"
            )
        return self


class ParsersConfig(Strict):
    cross_check: bool = Field(
        False, description="Also parse shell lines with bashlex; a disagreement is itself an ask."
    )


ListName = Annotated[str, Field(pattern=LIST_NAME_PATTERN)]


class PolicyFile(Strict):
    """One policy file as written."""

    version: Literal[1] = Field(description="Format version; 1.")
    extends: Annotated[
        list[Annotated[str, Field(min_length=1)]],
        BeforeValidator(_listify, json_schema_input_type=str | list[str]),
    ] = Field(
        default_factory=list,
        description="Policies this one builds on: shipped names (default, strict, ci) or paths relative to this file.",
    )
    mode: Literal["enforce", "shadow", "record"] | None = Field(
        None,
        description="enforce: act on decisions; shadow: decide and log but allow; record: log only. Default enforce.",
    )
    fallback: Decision | None = Field(
        None, description="Decision for an effect no rule matches. Default ask."
    )
    ask_becomes: Literal["ask", "deny"] | None = Field(
        None,
        description="deny: every ask (of a rule or the fallback) is a deny, for runs with nobody to ask (CI). Default ask.",
    )
    lists: dict[ListName, list[str]] = Field(
        default_factory=dict,
        description='Named lists that conditions refer to as "@name"; `+name` appends to a base list.',
    )
    commands: dict[str, CommandSpec] = Field(
        default_factory=dict,
        description="Extends the command catalogue (guardrail/data/commands.yaml).",
    )
    parsers: ParsersConfig | None = None
    sandbox: SandboxConfig | None = Field(None, description="See guardrail/sandbox/config.py.")
    approval: ApprovalConfig | None = Field(None, description="See guardrail/approval/config.py.")
    databases: dict[str, DatabaseConfig] = Field(
        default_factory=dict, description="Databases the db tool may reach, by name."
    )
    tools: ToolsConfig | None = Field(
        None, description="Settings of the file, db and http executors."
    )
    mcp: McpConfig | None = Field(None, description="See guardrail/adapters/mcp_config.py.")
    rules: list[Rule] = Field(default_factory=list, description="The rules; order does not matter.")


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file, for editors (yaml-language-server)."""
    schema = PolicyFile.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "guardrail policy",
        **schema,
    }
