"""The ``ui:`` settings: who may read the trace page ``/ui/`` (YAML config file, or ``STUF_BRIDGE_UI`` as JSON)."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Role(enum.StrEnum):
    VIEWER = "viewer"  # reads the list, the messages and their downloads
    ADMIN = "admin"  # also deletes traces


class UiUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password_hash: str = Field(description="An Argon2 hash: `stuf-bridge hash-password` makes one.")
    role: Role = Field(default=Role.VIEWER, description="`viewer` or `admin`.")


class UiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Serve the trace page at /ui/.")
    users: dict[str, UiUser] = Field(default_factory=dict, description="Users by name, each with a password hash "
                                     "and a role.")
    proxy_user_header: str | None = Field(default=None, description="Trust this header (set by an authenticating "
                                          "reverse proxy, e.g. `X-Forwarded-User`) as the logged-in user. Only "
                                          "when nothing but the proxy can reach the gateway.")
    proxy_role_header: str | None = Field(default=None, description="The proxy's header with the role (`viewer` "
                                          "or `admin`); unset or another value: viewer.")
    session_secret: SecretStr | None = Field(default=None, description="Key that signs the login cookie. Unset: a "
                                             "random key per process (logins end at a restart, and with several "
                                             "worker processes set it, so that each accepts the others' cookies).")
    session_hours: float = Field(default=8.0, gt=0, description="A login lasts this long.")
    require_login: bool | None = Field(default=None, description="Unset: a login is needed unless the gateway "
                                       "listens on loopback only (host 127.0.0.1, ::1 or localhost) with no users "
                                       "configured.")
