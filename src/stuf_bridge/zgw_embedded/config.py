"""Configuration of the embedded ZGW backend: its own settings (environment ``STUF_BRIDGE_EMBEDDED_*``), apart from
the gateway's, and the complete configuration :func:`create_app` takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .notifications import NotificationTarget


class EmbeddedSettings(BaseSettings):
    """What only the embedded backend reads. The gateway's ``Settings`` do not know these: nothing the gateway does
    may depend on which backend it talks to."""

    model_config = SettingsConfigDict(env_prefix="STUF_BRIDGE_EMBEDDED_", extra="forbid")

    jwt_leeway: int = Field(60, ge=0, description="Clock leeway in seconds allowed on a token's `iat` (and expiry).")
    force_unlock: bool = Field(True, description=(
        "The gateway's client holds Open Zaak's `documenten.geforceerd-unlock` scope (as 'alle autorisaties' does, "
        "which is what the demo gives it): an unlock then succeeds whatever lock it carries. The gateway checks a "
        "checkedOutId itself before it unlocks, and recovery uses the scope to release a lock lost with an answer."))
    notification_callbacks: list[dict[str, str]] = Field(
        default_factory=list, description="Notificaties API callbacks told of every write, as Open Zaak tells its "
        "Notificaties API: a list of `{url, auth}` (`auth`: the literal Authorization value).")


@dataclass(frozen=True)
class EmbeddedConfig:
    """Everything the embedded backend needs; passed to :func:`create_app`.

    - ``data_dir``: the store lives in ``data_dir/zgw/`` (``zgw.sqlite3`` plus ``files/`` with document content).
    - ``client_id``/``secret``: the one JWT client (HS256) the backend accepts; ``extra_clients`` adds more.
    - ``jwt_leeway``: seconds of clock drift allowed on ``iat`` (and on the expiry check).
    - ``jwt_expiry``: seconds a token stays valid after its ``iat`` (Open Zaak's ``JWT_EXPIRY``); ``None``: forever.
    - ``seed_file``: a catalogue YAML loaded at start-up when the store holds no catalogus yet.
    - ``page_size``: page size of paginated lists (Open Zaak: 100).
    - ``notification_targets``: callbacks told of every committed write (``notifications.py``).
    - ``upload_chunk_size``: size of a bestandsdeel when a document is created with ``bestandsomvang`` and no
      ``inhoud``. Open Zaak's default is 4 GiB; ours is small so that every gateway path sees several parts.
    - ``force_unlock_clients``: the clients holding ``documenten.geforceerd-unlock``. As in Open Zaak, their unlock
      is not checked against the document's lock (any lock, or none, unlocks).
    """

    data_dir: Path
    client_id: str
    secret: str
    jwt_leeway: int = 60
    seed_file: Path | None = None
    jwt_expiry: int | None = 3600
    page_size: int = 100
    upload_chunk_size: int = 4 * 1024 * 1024
    extra_clients: Mapping[str, str] = field(default_factory=dict)
    force_unlock_clients: frozenset[str] = frozenset()
    notification_targets: Sequence[NotificationTarget] = ()

    @property
    def root(self) -> Path:
        return Path(self.data_dir) / "zgw"

    @property
    def database_path(self) -> Path:
        return self.root / "zgw.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.root / "files"

    def secret_for(self, client_id: str) -> str | None:
        if client_id == self.client_id:
            return self.secret
        return self.extra_clients.get(client_id)
