"""Agent hooks: an agent's own pre-tool hook payload in, guardrail's decision out.

One module per agent (`claude_code`, `cursor`), registered in `AGENTS`; the
shared runner in `base` loads the policy, decides, audits and, whatever goes
wrong, answers with a deny in the agent's own format (fail closed).
"""

from __future__ import annotations

# agent name on the command line -> "module:class"
AGENTS: dict[str, str] = {
    "claude-code": "guardrail.adapters.hooks.claude_code:ClaudeCode",
    "cursor": "guardrail.adapters.hooks.cursor:Cursor",
}

__all__ = ["AGENTS"]
