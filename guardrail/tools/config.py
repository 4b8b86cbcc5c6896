"""Settings of the tool executors, as they appear in a policy.

The lead's policy schema embeds `databases: dict[str, DatabaseConfig]` and
`tools: ToolsConfig`. Both forbid unknown keys so that a typo is an error, and
a database's credentials are named by environment variable, never written
into the policy: a policy is shared, committed and audited; a secret is not.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_PARAMS = {"password", "passfile", "sslpassword", "user"}

DbKind = Literal["sqlite", "postgres"]


class DatabaseConfig(BaseModel):
    """One database connection an agent may query by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        description=(
            "sqlite:///relative/path.db (a file in the workspace) or "
            "postgresql://host[:port]/dbname[?sslmode=...]; no user or password in it: "
            "use user_env and password_env"
        )
    )
    user_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the user name (PostgreSQL)",
    )
    password_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the password (PostgreSQL)",
    )
    read_only: bool = Field(
        default=False,
        description=(
            "Open the connection read-only (SQLite mode=ro, PostgreSQL read-only transactions) "
            "so that a write the parser misjudged still fails; for PostgreSQL also give it a "
            "role without write grants"
        ),
    )
    statement_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a statement may run before it is cancelled",
    )
    max_rows: int = Field(
        default=1000, ge=1, le=1_000_000, description="Rows returned at most; the cut is reported"
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                f"scheme {parts.scheme!r} is not supported: use sqlite:///path.db or postgresql://host/db"
            )
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise ValueError(
                "the url must not carry credentials: put the names of environment "
                "variables in user_env and password_env"
            )
        for key, _ in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in _SECRET_PARAMS:
                raise ValueError(f"the url must not carry {key!r}: use user_env/password_env")
        if parts.scheme == "sqlite" and (parts.netloc or not parts.path.strip("/")):
            raise ValueError(
                "a SQLite url is sqlite:///relative/path.db (three slashes, then a path)"
            )
        return url

    @field_validator("user_env", "password_env")
    @classmethod
    def _check_env_name(cls, name: str | None) -> str | None:
        if name is not None and not _ENV_NAME.match(name):
            raise ValueError(
                f"{name!r} is not an environment variable name: give the variable's name, not its value"
            )
        return name

    @property
    def kind(self) -> DbKind:
        return "sqlite" if self.url.startswith("sqlite:") else "postgres"

    @property
    def dialect(self) -> str:
        """The SQL dialect name the parser expects for this connection."""
        return self.kind


class ToolsConfig(BaseModel):
    """Limits of the file and HTTP executors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_read_bytes: int = Field(
        default=256 * 1024,
        ge=1,
        description="Bytes a file read returns at most; offset/limit page on",
    )
    max_write_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1, description="Bytes a file write or edit may produce at most"
    )
    max_list_entries: int = Field(
        default=2000, ge=1, description="Directory entries a file list returns at most"
    )
    http_max_request_bytes: int = Field(
        default=1024 * 1024, ge=0, description="Bytes of request body (and headers) sent at most"
    )
    http_max_response_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1,
        description="Bytes of response body read at most; the cut is reported",
    )
    http_timeout: float = Field(
        default=30.0, gt=0, le=600, description="Seconds for connect, each read, and the whole call"
    )
    http_max_redirects: int = Field(
        default=5, ge=0, le=20, description="Redirects followed (each hop decided again)"
    )
