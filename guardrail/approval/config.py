"""The policy's `approval:` section, and what `mode:` means for a verdict.

```yaml
approval:
  approver: terminal        # terminal | web | webhook | auto; default: terminal on a TTY, else auto
  timeout: 120              # seconds; no answer in time is a deny
  allow_session: true       # offer "allow for this session"
  allow_always: true        # offer "always allow" (writes a rule to .guardrail/policy.yaml)
  web: {host: 127.0.0.1, port: 8765}
  webhook: {url: https://bot.example/approve, secret_env: GUARDRAIL_WEBHOOK_SECRET}
```

Imported lazily (pydantic): the check path never needs it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from guardrail.decision import Verdict

ApproverName = Literal["terminal", "web", "webhook", "auto"]
Mode = Literal["enforce", "shadow", "record"]
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class WebConfig(BaseModel):
    """Where `guardrail approvals serve` listens and waiting calls find it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        default="127.0.0.1",
        description="Loopback address to bind; the page is for the person at this machine only.",
    )
    port: int = Field(default=8765, ge=0, le=65535, description="TCP port of the approval page (0: any free port).")

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"web host {host!r} is not a loopback address: use 127.0.0.1 (the page lets "
                "whoever reaches it allow commands)"
            )
        return host


class WebhookConfig(BaseModel):
    """A chat-ops bot that receives signed approval requests and answers them signed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(default=None, description="URL the approval request is POSTed to (http or https).")
    secret_env: str = Field(
        default="GUARDRAIL_WEBHOOK_SECRET",
        description="Name of the environment variable holding the shared HMAC-SHA256 secret "
        "(never the secret itself: policies are committed).",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url {url!r} must start with http:// or https://")
        return url

    def secret(self) -> bytes | None:
        value = os.environ.get(self.secret_env, "")
        return value.encode("utf-8") if value else None


class ApprovalConfig(BaseModel):
    """How an `ask` reaches a human, and how long guardrail waits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approver: ApproverName | None = Field(
        default=None,
        description="Who is asked: terminal (a prompt on the controlling TTY), web (the page of "
        "`guardrail approvals serve`), webhook (a signed POST to a bot), auto (deny everything, for "
        "CI). Default: terminal when a TTY is available, else auto.",
    )
    timeout: float = Field(
        default=120.0, gt=0, le=86_400, description="Seconds to wait for an answer; no answer in time denies."
    )
    allow_session: bool = Field(default=True, description='Offer "allow for this session".')
    allow_always: bool = Field(
        default=True, description='Offer "always allow", which writes a narrow rule into .guardrail/policy.yaml.'
    )
    web: WebConfig = Field(default_factory=WebConfig, description="Settings of the web approver.")
    webhook: WebhookConfig = Field(default_factory=WebhookConfig, description="Settings of the webhook approver.")

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> ApprovalConfig:
        if self.approver == "webhook" and not self.webhook.url:
            raise ValueError("approver: webhook needs webhook.url")
        return self

    def resolved_approver(self, tty: bool | None = None) -> ApproverName:
        """The approver to use: the configured one, else terminal on a TTY, else auto."""
        if self.approver is not None:
            return self.approver
        return "terminal" if (tty_available() if tty is None else tty) else "auto"


def tty_available() -> bool:
    """True when a human can be prompted: a controlling terminal can be opened."""
    if os.environ.get("CI", "").lower() == "true":
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return sys.stdin.isatty() and sys.stderr.isatty()
    os.close(fd)
    return True


# ------------------------------------------------------------------- modes


@dataclass(frozen=True)
class ModeOutcome:
    """What the pipeline does with a verdict under a mode."""

    run: bool  # let the call run (without asking)
    ask: bool  # ask the approver first; run only if allowed
    would_have: Verdict | None = None  # shadow/record: the verdict that was not enforced


def apply_mode(mode: Mode, verdict: Verdict) -> ModeOutcome:
    """enforce: allow runs, ask asks, deny refuses.

    shadow: everything runs, the real verdict is recorded as `would_have`
    (so a team can try a policy on real work before enforcing it).
    record: everything runs, no one is asked; the decision is recorded as it
    is, to gather a trail that `guardrail suggest` can turn into rules.
    """
    if mode == "enforce":
        return ModeOutcome(run=verdict is Verdict.ALLOW, ask=verdict is Verdict.ASK)
    if mode in ("shadow", "record"):
        return ModeOutcome(run=True, ask=False, would_have=None if verdict is Verdict.ALLOW else verdict)
    raise ValueError(f"unknown mode {mode!r}: enforce, shadow or record")
