"""The ``notifications:`` settings (YAML config file, or ``STUF_BRIDGE_NOTIFICATIONS`` as JSON): how ZGW notifications
reach the gateway, and which legacy systems hear about them as StUF kennisgevingen."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..stuf.namespaces import Dialect


class Profile(enum.StrEnum):
    """How a subscriber is fed: as a ZDS client feeds a zaaksysteem, or with the generic StUF-ZKN kennisgevingen."""

    ZDS_CLIENT = "zds-client"
    STUF_ZKN = "stuf-zkn"


#: how a changed relation goes in a W (SubscriberSettings.relations)
RelationSoort = Literal["VT", "W"]


class StufParty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisatie: str | None = Field(default=None, max_length=200)
    applicatie: str = Field(max_length=50)
    administratie: str | None = Field(default=None, max_length=50)
    gebruiker: str | None = Field(default=None, max_length=100)

    def matches(self, organisatie: str | None, applicatie: str | None) -> bool:
        """True when a message's zender is this party (organisatie compared only when both have one)."""
        if applicatie != self.applicatie:
            return False
        return self.organisatie is None or organisatie is None or organisatie == self.organisatie


class SubscriberSettings(BaseModel):
    """One legacy system that hears about ZGW changes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="A short name: the outbox target is `subscriber:<name>`, snapshots are kept by it.")
    endpoint: str = Field(description="The subscriber's OntvangAsynchroon endpoint (http or https).")
    stuf: StufParty = Field(description="The subscriber's own StUF identity: the ontvanger of what is sent to it, and "
                            "how its own messages through the gateway are recognised (no echo).")
    zaaktypen: list[str] = Field(default_factory=lambda: ["*"], description="Zaaktype codes (identificatie) it "
                                 "wants; `*`: all.")
    profile: Profile = Field(default=Profile.ZDS_CLIENT, description="zds-client: creeerZaak, updateZaak, "
                             "actualiseerZaakstatus, voegZaakdocumentToe; stuf-zkn: zakLk01/edcLk01.")
    documents: bool = Field(default=True, description="Send documents added to a zaak (with their content).")
    vrije_berichten: str | None = Field(default=None, description="zds-client: the subscriber's VrijeBerichten "
                                        "endpoint; a changed document (metadata or a new version) goes there as "
                                        "updateZaakdocument_Di02 after a checkout (geefZaakdocumentbewerken_Di02). "
                                        "Unset: such changes are not sent to it.")
    zds: Literal["1.1", "1.2"] = Field(default="1.1", description="zds-client: the ZDS version the subscriber speaks "
                                       "(1.2: ZDS:creeerZaak_ZakLk01 … with the zds0120 SOAPActions).")
    replicate_target: bool | None = Field(default=None, description="This subscriber is the legacy zaaksysteem of "
                                          "`legacy.endpoints`, fed by replicate's secondary leg: changes made through "
                                          "a replicate route are not sent to it a second time. Unset: when its "
                                          "endpoint is the legacy OntvangAsynchroon endpoint.")
    relations: dict[str, RelationSoort] = Field(default_factory=dict, description="Per relation (heeftAlsInitiator, "
                                                "leidtTot, heeftBetrekkingOp, …, or `*` for all): how a relation to "
                                                "the same object whose details changed is sent in a W: `VT` (the "
                                                "default: V in the old object, T in the new) or `W` (W on both "
                                                "sides).")
    timeout: float = Field(default=60.0, gt=0, description="Seconds to connect, and between two pieces of an answer.")
    ca_bundle: Path | None = Field(default=None, description="CA bundle (PEM) that signs its TLS certificate.")
    client_cert: Path | None = Field(default=None, description="Client certificate (PEM) shown to it.")
    client_key: Path | None = Field(default=None, description="Key of client_cert, when not in the same file.")
    username: str | None = Field(default=None, description="Basic credentials towards it: user.")
    password: SecretStr | None = Field(default=None, description="Basic credentials: password.")

    @field_validator("endpoint", "vrije_berichten")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"subscriber endpoint must be an http(s) URL, not {value!r}")
        if parts.username or parts.password:
            raise ValueError("subscriber endpoint: give credentials as username/password, not in the URL")
        return value

    @field_validator("relations")
    @classmethod
    def _no_heeft(cls, value: dict[str, RelationSoort]) -> dict[str, RelationSoort]:
        if "heeft" in value:  # see relation_soort
            raise ValueError("relations: 'heeft' (a zaak's statussen) takes no choice: a new status is always a new "
                             "ZAKSTT relation (T), ZGW never changes a status")
        return value

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError(f"subscriber {self.name}: password needs username")
        if self.client_key is not None and self.client_cert is None:
            raise ValueError(f"subscriber {self.name}: client_key needs client_cert")
        return self

    @property
    def dialect(self) -> Dialect:
        return Dialect.ZDS12 if self.profile == Profile.ZDS_CLIENT and self.zds == "1.2" else Dialect.ZDS11

    def relation_soort(self, relation: str) -> RelationSoort:
        """How a changed relation of this name goes in a W. A status (``heeft``) is never a changed relation: ZGW's
        statussen are history that is only added to (no update), and STUF §5 makes each status a relation of its
        own, so a new one is T next to the ones before (an actualiseerZaakstatus: old object with ``heeft`` nil,
        new object with the new ``heeft`` T). A W of ``heeft`` would tell the receiver to overwrite the previous
        status, losing it from the zaak's history: neither ``heeft: W`` nor ``"*": W`` applies to it."""
        return self.relations.get(relation) or self.relations.get("*") or "VT"

    def wants(self, zaaktype: str | None) -> bool:
        return "*" in self.zaaktypen or (zaaktype is not None and zaaktype in self.zaaktypen)


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscribers: list[SubscriberSettings] = Field(default_factory=list, description="The legacy systems that are "
                                                  "sent kennisgevingen of ZGW changes.")
    callback_auth: SecretStr | None = Field(default=None, description="The exact `Authorization` value the "
                                            "Notificaties API sends to the callback (the abonnement's `auth`).")
    callback_client_id: str | None = Field(default=None, description="Accept a ZGW JWT (HS256) from this client id "
                                           "at the callback too.")
    callback_secret: SecretStr | None = Field(default=None, description="The secret of callback_client_id.")
    nrc_url: str | None = Field(default=None, description="Root of the Notificaties API (…/api/v1) for `stuf-bridge "
                                "notifications subscribe`.")
    nrc_client_id: str | None = Field(default=None, description="JWT client id towards the Notificaties API.")
    nrc_secret: SecretStr | None = Field(default=None, description="Its secret.")
    kanalen: list[str] = Field(default_factory=lambda: ["zaken", "documenten", "besluiten"],
                               description="Kanalen the abonnement listens to.")
    bronorganisatie: str | None = Field(default=None, description="Filter the abonnement on this bronorganisatie "
                                        "(RSIN); besluiten filter on verantwoordelijke_organisatie.")
    coalesce_seconds: float = Field(default=2.0, ge=0, description="A notification waits this long in the inbox, "
                                    "so that a burst (Open Zaak's zaak_registreren sends five) becomes one look.")
    poll_seconds: float = Field(default=0.5, gt=0, description="Seconds between two looks at the inbox.")
    delivery_workers: int = Field(default=4, ge=1, le=64, description="Outbox delivery loops in this process while "
                                  "there are subscribers: kennisgevingen about different zaken go out side by side "
                                  "(each zaak's stay in order).")
    inbox_retention_hours: float = Field(default=168.0, gt=0, description="Processed notifications are kept this "
                                         "long (deduplication of late repeats), then purged.")
    embedded_callback: bool = Field(default=True, description="With the embedded ZGW backend and subscribers: its "
                                    "notifications go to this gateway's own callback.")
    snapshot_key: SecretStr | None = Field(default=None, description="Key (base64 of 32 bytes) that seals the "
                                           "subscribers' snapshots at rest (AES-GCM). Unset: made once in the data "
                                           "directory on SQLite; required on PostgreSQL.")

    @field_validator("snapshot_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from .sealing import parse_key

            parse_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _unique_and_paired(self) -> Self:
        names = [s.name for s in self.subscribers]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"notifications.subscribers: names must be unique ({', '.join(doubles)})")
        if (self.callback_client_id is None) != (self.callback_secret is None):
            raise ValueError("notifications.callback_client_id and callback_secret go together")
        return self

    @property
    def active(self) -> bool:
        return bool(self.subscribers)

    def subscriber(self, name: str) -> SubscriberSettings | None:
        return next((s for s in self.subscribers if s.name == name), None)
