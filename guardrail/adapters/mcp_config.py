"""The policy's `mcp:` section: how MCP tool calls become guardrail calls.

```yaml
mcp:
  default: ask                  # an MCP tool no mapping and no rule covers
  builtin_mappings: true        # the shipped mappings of the reference servers (mcp_builtin.yaml)
  mappings:                     # downstream tool -> guardrail calls, first match wins
    - tool: run_query           # glob on the tool name, case-insensitive
      server: "*postgres*"      # optional glob on the server name
      calls:
        - {tool: db, query: "{sql}", dialect: postgres}
  tools:                        # decisions by tool name, for tools no mapping covers
    - {tool: "delete_*", decision: deny, reason: "no deletions through MCP"}
    - {tool: "get_*", server: "weather", decision: allow}
```

A call template is a call in the spec's JSON shape. A string that is exactly
`{name}` takes the argument `name` as it is; `{name}` inside a longer string
is replaced by its text, shell-quoted in a shell `command`. `for_each: paths`
makes one call per item of the list argument `paths`, as `{item}`.

Imported lazily (pydantic): the hook and check paths never need it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DecisionName = Literal["allow", "ask", "deny"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolMapping(_Strict):
    """One downstream tool (or a glob of them) and the guardrail calls it amounts to."""

    tool: str = Field(min_length=1, description="Glob on the tool name, matched case-insensitively.")
    server: str | None = Field(
        None, description="Glob on the server name (the downstream's serverInfo.name, or the MCP server "
        "key an agent uses, e.g. `filesystem` in mcp__filesystem__read_file). Default: any server."
    )
    calls: list[dict[str, Any]] = Field(
        min_length=1,
        description="Guardrail calls in the spec's JSON shape; `{arg}` placeholders take the tool's arguments.",
    )
    for_each: str | None = Field(
        None, description="A list argument: the calls are made once per item, the item being `{item}`."
    )
    description: str = Field("", description="What the tool does, for explanations.")


class ToolRule(_Strict):
    """A decision by name, for tools that no mapping turns into guardrail calls."""

    id: str | None = Field(None, description="Rule id reported with the decision. Default: mcp-tool:<tool>.")
    tool: str = Field(min_length=1, description="Glob on the tool name, matched case-insensitively.")
    server: str | None = Field(None, description="Glob on the server name. Default: any server.")
    decision: DecisionName = Field(description="allow, ask or deny. A deny hides the tool from tools/list.")
    reason: str = Field("", description="Told to the agent with the decision.")


class McpConfig(_Strict):
    """How the MCP proxy, the MCP server and agent hooks decide MCP tools."""

    default: DecisionName = Field("ask", description="Decision for an MCP tool no mapping and no rule covers.")
    builtin_mappings: bool = Field(
        True, description="Use the shipped mappings of the reference servers after the policy's own."
    )
    mappings: list[ToolMapping] = Field(
        default_factory=list, description="Downstream tools mapped to guardrail calls; first match wins."
    )
    tools: list[ToolRule] = Field(
        default_factory=list, description="Decisions by tool name for unmapped tools; first match wins."
    )
    elicitation: bool = Field(
        True, description="Ask through the MCP client (elicitation/create) when it declared the capability; "
        "else, or when false, through the configured approver."
    )
    call_timeout: float = Field(
        300.0, gt=0, le=86_400, description="Seconds a downstream tools/call may take before the client gets an error."
    )
