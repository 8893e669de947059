"""The gateway's settings: one typed object, read once at start-up and passed in explicitly.

Sources, highest priority first: values given in code (the CLI flags), environment variables with prefix
``STUF_BRIDGE_`` (nested values as JSON), the YAML config file (``--config`` or ``STUF_BRIDGE_CONFIG``), defaults.
"""

from __future__ import annotations

import contextvars
import enum
import string
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, PositiveInt, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from .legacy.config import LegacySettings
from .migration.config import MigrationSettings, ReconcileSettings
from .notifications.config import NotificationSettings
from .outbox.config import OutboxSettings
from .recovery.config import RecoverySettings
from .routing.config import RoutingSettings
from .trace.config import TraceSettings
from .ui.config import UiSettings
from .security.config import BackendTls, ClientSettings, OAuth2Settings, SecuritySettings
from .security.tenants import TenantSettings, check_tenants, tenant_limits

_CONFIG_FILE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("stuf_bridge_config", default=None)

DEMO_RSIN = "002220647"  # a valid test RSIN (passes the 11-test), for the demo profile only
DEMO_PROFILE: dict[str, Any] = {"default_rsin": DEMO_RSIN}
IDENTIFIER_FIELDS = frozenset({"gemeentecode", "jaar", "volgnummer"})


class ValidationPolicy(enum.StrEnum):
    """What happens to a message that does not validate against the schemas."""

    STRICT = "strict"  # fault StUF055 naming the line and path of the first error
    WARN = "warn"  # process the message, record the errors as warnings
    OFF = "off"  # do not validate


class IdempotencyPolicy(enum.StrEnum):
    """What the referentienummer of a message that changes something means for a resend (StUF §4.4)."""

    STRICT = "strict"  # zender + referentienummer name one message: same body = resend, another body = StUF016
    BY_BODY = "by_body"  # the same referentienummer with another body is a new message; the same body a resend
    OFF = "off"  # no resend detection: every message is processed


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_Policy = TypeVar("_Policy", ValidationPolicy, IdempotencyPolicy)


class ZgwCredentials(BaseModel):
    client_id: str
    secret: str


ZGW_APIS = ("zaken", "documenten", "catalogi", "besluiten")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STUF_BRIDGE_",
        extra="forbid",
        validate_default=True,
    )

    # --- server -------------------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Interface the HTTP server listens on.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port the HTTP server listens on.")
    data_dir: Path = Field(Path("data"), description="Directory for the gateway's own store (SQLite) and files.")
    database_url: str | None = Field(
        None,
        description="Store URL. Unset: SQLite file `stuf-bridge.sqlite3` in data_dir. Production: "
        "`postgresql://user:pass@host:5432/db`.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL clients reach the gateway on, used for WSDL addresses. Unset: taken from each request.",
    )
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    log_format: str = Field("json", pattern="^(json|console)$", description="Log output: `json` or `console`.")
    keep_alive_seconds: float = Field(
        75.0, gt=0,
        description="Seconds an idle client connection is kept open. Longer than clients keep theirs idle, so the "
        "gateway never closes one a client is about to reuse (uvicorn's own default of 5 s lost requests).",
    )

    # --- processes and shutdown (docs/operations.md) ------------------------------------------------------
    workers: int = Field(
        1, ge=1, le=64,
        description="Gateway processes sharing the listening socket (`serve --workers N`). More than one needs a "
        "store that several processes share: PostgreSQL (database_url), or SQLite on one machine.",
    )
    shutdown_grace_seconds: float = Field(
        30.0, ge=0,
        description="On SIGTERM the gateway stops accepting and waits this long for messages in flight to be "
        "answered; what is still running then is cancelled. Keep it below Kubernetes' terminationGracePeriodSeconds.",
    )
    ready_timeout_seconds: float = Field(
        3.0, gt=0, description="Seconds `GET /ready` waits for the store and each ZGW API before it answers 503.")

    # --- gateway identity -----------------------------------------------------------------------------------
    applicatie: str = Field(
        "stuf-bridge", max_length=50,
        description="The gateway's own StUF applicatie, used as answer zender when a request names no ontvanger.",
    )
    organisatie: str | None = Field(None, max_length=200, description="The gateway's own StUF organisatie, idem.")

    # --- hardened input -------------------------------------------------------------------------------------
    max_message_bytes: int = Field(
        512 * 1024 * 1024, gt=0,
        description="Largest accepted SOAP message in bytes, without document content (inhoud, MTOM parts), "
        "which is streamed to disk and limited by max_document_bytes.",
    )
    max_xml_depth: int = Field(200, gt=8, description="Deepest element nesting accepted in a message.")
    max_document_bytes: int = Field(
        4 * 1024 * 1024 * 1024, gt=0, description="Largest document content accepted, decoded (StUF055 above it)."
    )
    bestandsdelen_threshold_bytes: int = Field(
        4 * 1024 * 1024, ge=0,
        description="Documents up to this size go inline (base64) to the Documenten API; larger ones in bestandsdelen.",
    )

    # --- validation -------------------------------------------------------------------------------------
    validation: ValidationPolicy = Field(
        ValidationPolicy.WARN,
        description="Schema validation policy for senders not listed in validation_senders: strict, warn or off.",
    )
    validation_senders: dict[str, ValidationPolicy] = Field(
        default_factory=dict,
        description="Policy per sender, keyed `organisatie/applicatie`; either part may be `*`, "
        "e.g. {'1900/GWS4all': 'strict', '*/Open Formulieren': 'warn'}.",
    )
    xsd_dir: Path | None = Field(None, description="Directory with the schemas. Unset: the project's own `xsd/`.")
    official_xsd_zds11: Path | None = Field(
        None,
        description="Root of an unpacked official ZDS 1.1 schema bundle (holding zkn0310/zkn0310_msg_totaal.xsd); "
        "when set, ZDS 1.1 messages are validated against it instead of the project's schemas (slower).",
    )
    official_xsd_zds12: Path | None = Field(
        None,
        description="Root of an unpacked official ZDS 1.2 schema bundle (holding zds0120/berichten/"
        "zds0120_msg_zs-dms.xsd); idem for ZDS 1.2 messages.",
    )

    # --- identifiers ----------------------------------------------------------------------------------------
    zaak_identificatie_template: str = Field(
        "{gemeentecode}{jaar}{volgnummer:07d}",
        description="Template for genereerZaakIdentificatie. Fields: gemeentecode, jaar, volgnummer.",
    )
    document_identificatie_template: str = Field(
        "{gemeentecode}D{jaar}{volgnummer:07d}", description="Template for genereerDocumentIdentificatie."
    )
    besluit_identificatie_template: str = Field(
        "{gemeentecode}B{jaar}{volgnummer:07d}", description="Template for genereerBesluitIdentificatie."
    )
    identificatie_start: dict[Literal["zaak", "document", "besluit"], PositiveInt] = Field(
        default_factory=dict,
        description="Where each identifier sequence starts (its first volgnummer), per kind (zaak, document, besluit), "
        "e.g. {\"zaak\": 20001} for a gateway that takes over from a numbering that reached 20000. A sequence below "
        "its start jumps to it; one past it goes on. Whatever the start, genereer*Identificatie never hands out an "
        "identificatie the ZGW backend already has.",
    )
    answer_lokatie_srs: Literal["EPSG:4326", "EPSG:28992"] = Field(
        "EPSG:4326",
        description="Coordinate system of the anderZaakObject/lokatie in answers (geefZaakdetails): EPSG:4326 (WGS84, "
        "as ZGW keeps zaakgeometrie) or EPSG:28992 (RD, transformed with PROJ). Incoming lokatie may be either.",
    )
    default_gemeentecode: str | None = Field(
        None,
        pattern=r"^\d{4}$",
        description="Gemeentecode for identifiers when the sender's zender/organisatie is not a 4-digit code.",
    )

    # --- mapping ------------------------------------------------------------------------------------------------
    mappings_dir: Path | None = Field(
        None,
        description="A deployment's own mapping directory, laid over the default mapping files: RSIN per "
        "gemeentecode, roltypen per zaaktype, matching rules, fallback resultaat, value overrides.",
    )
    default_rsin: str | None = Field(
        None,
        pattern=r"^\d{9}$",
        description="RSIN for a zender/organisatie (gemeentecode) the mapping does not list. Unset: such a message "
        f"gets StUF013; `serve` on the embedded backend then applies the demo profile ({DEMO_RSIN}).",
    )
    require_initiator: bool = Field(
        False,
        description="Fault (StUF058) a creeerZaak without heeftAlsInitiator, as ZDS 1.2 §4.1.4.2 prescribes. "
        "Off: such a zaak is created with a warning (clients in the field do not always send one).",
    )

    # --- nothing twice ----------------------------------------------------------------------------------------
    idempotency_retention_hours: float = Field(
        168.0, gt=0,
        description="Hours a processed message's answer is kept, so that a resend (same zender + referentienummer, "
        "same body) gets it again instead of being processed twice.",
    )
    idempotency_wait_seconds: float = Field(
        30.0, ge=0, description="How long a resend waits for the first copy that is still being processed."
    )
    idempotency_stale_seconds: float = Field(
        900.0, gt=0,
        description="A message still marked 'being processed' after this long belongs to a process that died; "
        "a resend then processes it again.",
    )
    idempotency_senders: dict[str, IdempotencyPolicy] = Field(
        default_factory=dict,
        description="Resend policy per sender, keyed `organisatie/applicatie` like validation_senders (either part "
        "may be `*`): strict (the default for senders not listed), by_body or off.",
    )

    # --- ZGW backend ----------------------------------------------------------------------------------------
    zgw_url: str | None = Field(
        None,
        description="Base URL of an external ZGW backend such as Open Zaak (`https://openzaak.example.nl`); the APIs "
        "are at `<zgw_url>/<api>/api/v1/`. Unset: the embedded backend is started and used.",
    )
    zgw_zaken_url: str | None = Field(None, description="Root of the Zaken API (`…/zaken/api/v1`), overrides zgw_url.")
    zgw_documenten_url: str | None = Field(None, description="Root of the Documenten API, overrides zgw_url.")
    zgw_catalogi_url: str | None = Field(None, description="Root of the Catalogi API, overrides zgw_url.")
    zgw_besluiten_url: str | None = Field(None, description="Root of the Besluiten API, overrides zgw_url.")
    zgw_client_id: str = Field(
        "stuf-bridge", description="JWT client id towards the ZGW APIs (and of the embedded backend).")
    zgw_secret: str = Field(
        "stuf-bridge-demo-secret-not-for-production",
        description="JWT secret (HS256) towards the ZGW APIs; change it in production.",
    )
    zgw_credentials: dict[str, ZgwCredentials] = Field(
        default_factory=dict,
        description="Per-API client id and secret where they differ, keyed zaken/documenten/catalogi/besluiten, "
        "e.g. {'documenten': {'client_id': 'x', 'secret': 'y'}}.",
    )
    zgw_user_id: str = Field("stuf-bridge", description="JWT `user_id` claim (the technical user the gateway acts as).")
    zgw_user_representation: str = Field("stuf-bridge", description="JWT `user_representation` claim.")
    zgw_timeout: float = Field(30.0, gt=0, description="Seconds before a ZGW call times out.")
    zgw_max_connections: int = Field(20, gt=0, description="Connections per ZGW API.")
    zgw_catalogue_ttl: float = Field(
        300.0, ge=0, description="Seconds a catalogue look-up (zaaktype, statustypen…) is cached.")

    # --- side by side with a legacy zaaksysteem ----------------------------------------------------------------
    legacy: LegacySettings = Field(default_factory=LegacySettings, description="The legacy ZDS services (proxy).")
    routing: RoutingSettings = Field(
        default_factory=RoutingSettings,
        description="The routing table: per operation, zender and zaaktype translate, proxy or replicate "
        "(README, Routing); a zaak keeps the route it was created under.",
    )
    outbox: OutboxSettings = Field(
        default_factory=OutboxSettings,
        description="Delivery of replicate's secondary leg (README, Replicate and the outbox).",
    )
    recovery: RecoverySettings = Field(
        default_factory=RecoverySettings,
        description="The step journal and the recovery of messages left half-done (README, What happens when "
        "things fail halfway; docs/recovery.md).",
    )

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
        return value.upper()
    # --- the message trace and its page (docs/tracing.md) --------------------------------------------------------
    trace: TraceSettings = Field(
        default_factory=TraceSettings,
        description="What happened to every message: what is traced, how long and how much is kept (docs/tracing.md).",
    )
    ui: UiSettings = Field(
        default_factory=UiSettings,
        description="The trace page /ui/: its users and roles, or a trusted reverse proxy's header (docs/tracing.md).",
    )

    # --- who may send what (issue 18; security/config.py) ------------------------------------------------------
    clients: list[ClientSettings] = Field(
        default_factory=list,
        description="The clients that may send SOAP messages, each with its credentials (basic, wsse, certificate), "
        "addresses, zenders, operations and zaaktypen (README, Locking it down). Empty: anyone may (the demo).",
    )
    security: SecuritySettings = Field(
        default_factory=SecuritySettings,
        description="TLS, the UsernameToken window, the trusted proxy header, the internal port (docs/security.md).",
    )

    zgw_tls: BackendTls = Field(
        default_factory=BackendTls,
        description="TLS towards the ZGW backend: a CA bundle to verify it with, a client certificate and key (Open "
        "Zaak behind mutual TLS).",
    )
    zgw_api_tls: dict[str, BackendTls] = Field(
        default_factory=dict,
        description="TLS per ZGW API (zaken, documenten, catalogi, besluiten) where it differs: ca_bundle, "
        "client_certificate and client_key, verify; what an API does not set comes from zgw_tls.",
    )
    zgw_oauth2: OAuth2Settings | None = Field(
        None,
        description="OAuth2 client credentials towards ZGW instead of the HS256 JWT: token_url, client_id, "
        "client_secret or client_secret_file, scope, audience.",
    )
    zgw_get_retries: int = Field(
        2, ge=0, le=10,
        description="Times a ZGW GET is tried again after a connection error or 502/503/504 (writes never are).",
    )
    zgw_retry_backoff_seconds: float = Field(
        0.1, ge=0, description="First wait before a GET is tried again; doubled each time.")
    zgw_audit_user: bool = Field(
        False,
        description="The JWT's user_id and user_representation towards ZGW are the message's StUF gebruiker (else "
        "zender) and zender, instead of zgw_user_id / zgw_user_representation, so that ZGW's audit trail names them.",
    )
    allow_demo_secret: bool = Field(
        False,
        description="Allow `serve` to listen beyond loopback while zgw_secret is the public demo secret (a demo "
        "container); otherwise such a start is refused.",
    )
    tenants: list[TenantSettings] = Field(
        default_factory=list,
        description="Several municipalities on one gateway, each with its own ZGW backend and credentials, chosen by "
        "the authenticated client or the zender organisatie (docs/security.md, Tenants). Empty: one backend.",
    )

    @model_validator(mode="after")
    def _check_tenants(self) -> Settings:
        if self.tenants:
            check_tenants(self.tenants, {c.name for c in self.clients})
            refused = tenant_limits(self)  # what does not work per tenant yet (docs/security.md, Tenants)
            if refused:
                raise ValueError(refused)
        return self

    @field_validator("clients")
    @classmethod
    def _unique_clients(cls, value: list[ClientSettings]) -> list[ClientSettings]:
        for what, names in (
            ("name", [c.name for c in value]),
            ("basic username", [c.basic.username for c in value if c.basic]),
            ("wsse username", [c.wsse.username for c in value if c.wsse]),
        ):
            doubles = sorted({n for n in names if names.count(n) > 1})
            if doubles:
                raise ValueError(f"clients: {what} {doubles} given more than once")
        return value

    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings,
        description="ZGW notifications in, StUF kennisgevingen out to legacy subscribers (docs/notifications.md).",
    )
    reconcile: ReconcileSettings = Field(  # issue 15
        default_factory=ReconcileSettings,
        description="The scheduled reconcile inside the gateway, off by default (docs/migration.md).",
    )
    migration: MigrationSettings = Field(  # issue 15: legacy zaaktype codes → ZGW zaaktypen for the copy
        default_factory=MigrationSettings,
        description="How the copy finds a legacy zaaktype in ZGW: zaaktypen, code → identificatie (docs/migration.md).",
    )

    @field_validator("zgw_api_tls")
    @classmethod
    def _check_tls_apis(cls, value: dict[str, BackendTls]) -> dict[str, BackendTls]:
        unknown = set(value) - set(ZGW_APIS)
        if unknown:
            raise ValueError(f"zgw_api_tls for unknown APIs {sorted(unknown)}; use {', '.join(ZGW_APIS)}")
        return value

    @field_validator("zgw_credentials")
    @classmethod
    def _check_apis(cls, value: dict[str, ZgwCredentials]) -> dict[str, ZgwCredentials]:
        unknown = set(value) - set(ZGW_APIS)
        if unknown:
            raise ValueError(f"unknown ZGW APIs {sorted(unknown)}; use {list(ZGW_APIS)}")
        return value

    @field_validator("default_rsin")
    @classmethod
    def _eleven_test(cls, value: str | None) -> str | None:
        if value is not None and sum(int(d) * w for d, w in zip(value, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11:
            raise ValueError(f"RSIN {value} fails the 11-test")
        return value

    @property
    def zgw_embedded(self) -> bool:
        """True when no external backend is configured: `serve` starts the embedded one under /zgw."""
        return not (self.zgw_url or self.zgw_zaken_url or self.zgw_documenten_url or self.zgw_catalogi_url
                    or self.zgw_besluiten_url)

    def zgw_api_url(self, api: str, embedded_base: str | None = None) -> str:
        """Root URL of one ZGW API (no trailing slash). ``embedded_base`` is where the embedded backend runs."""
        explicit: str | None = getattr(self, f"zgw_{api}_url")
        if explicit:
            return explicit.rstrip("/")
        base = self.zgw_url or embedded_base
        if not base:
            raise ValueError(f"no URL for the {api} API: set zgw_url or zgw_{api}_url")
        return f"{base.rstrip('/')}/{api}/api/v1"

    def zgw_tls_for(self, api: str) -> BackendTls:
        """The TLS settings towards one ZGW API: its own (``zgw_api_tls``) over the general ``zgw_tls``."""
        own = self.zgw_api_tls.get(api)
        return own.over(self.zgw_tls) if own is not None else self.zgw_tls

    def zgw_credentials_for(self, api: str) -> ZgwCredentials:
        return self.zgw_credentials.get(api) or ZgwCredentials(client_id=self.zgw_client_id, secret=self.zgw_secret)

    @field_validator("zaak_identificatie_template", "document_identificatie_template", "besluit_identificatie_template")
    @classmethod
    def _check_template(cls, value: str) -> str:
        check_identifier_template(value)
        return value

    @field_validator("validation", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `off` as false; that is what the writer meant.
        return "off" if value is False else value

    @field_validator("validation_senders", "idempotency_senders", mode="before")
    @classmethod
    def _yaml_off_per_sender(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: "off" if policy is False else policy for key, policy in value.items()}
        return value

    @field_validator("validation_senders", "idempotency_senders")
    @classmethod
    def _check_sender_keys(cls, value: dict[str, _Policy]) -> dict[str, _Policy]:
        for key in value:
            if key.count("/") != 1:
                raise ValueError(f"sender key {key!r} must be 'organisatie/applicatie' (either may be '*')")
        return value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        return self

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'stuf-bridge.sqlite3').resolve()}"

    def validation_policy_for(self, organisatie: str | None, applicatie: str | None) -> ValidationPolicy:
        """The validation policy for a sender (see ``policy_for_sender``)."""
        return policy_for_sender(self.validation_senders, self.validation, organisatie, applicatie)

    def idempotency_policy_for(self, organisatie: str | None, applicatie: str | None) -> IdempotencyPolicy:
        """The resend policy for a sender (see ``policy_for_sender``); strict for a sender not listed."""
        return policy_for_sender(self.idempotency_senders, IdempotencyPolicy.STRICT, organisatie, applicatie)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, SecretFilesSource(settings_cls)]
        config_file = _CONFIG_FILE.get()
        if config_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def policy_for_sender(per_sender: dict[str, _Policy], default: _Policy, organisatie: str | None,
                      applicatie: str | None) -> _Policy:
    """The policy for a sender from a table keyed `organisatie/applicatie`: exact match first, then `org/*`, then
    `*/app`, then the default."""
    org, app = organisatie or "", applicatie or ""
    for key in (f"{org}/{app}", f"{org}/*", f"*/{app}"):
        if key in per_sender:
            return per_sender[key]
    return default


class SecretFilesSource(PydanticBaseSettingsSource):
    """Settings that hold secrets, read from files as Docker and Kubernetes mount secrets: ``STUF_BRIDGE_<NAME>_FILE``
    names a file whose content (without its trailing newline) is the value, when ``STUF_BRIDGE_<NAME>`` itself is not
    set; both set is an error naming both. ``STUF_BRIDGE_ZGW_CREDENTIALS_FILE`` holds the JSON of zgw_credentials."""

    # variable -> (path to the setting, the variable that sets it directly, key inside that variable's JSON or None)
    FILES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
        "STUF_BRIDGE_ZGW_SECRET_FILE": (("zgw_secret",), "STUF_BRIDGE_ZGW_SECRET", None),
        "STUF_BRIDGE_DATABASE_URL_FILE": (("database_url",), "STUF_BRIDGE_DATABASE_URL", None),
        "STUF_BRIDGE_ZGW_CREDENTIALS_FILE": (("zgw_credentials",), "STUF_BRIDGE_ZGW_CREDENTIALS", None),
        "STUF_BRIDGE_LEGACY_PASSWORD_FILE": (("legacy", "password"), "STUF_BRIDGE_LEGACY", "password"),
        "STUF_BRIDGE_NOTIFICATIONS_CALLBACK_AUTH_FILE": (("notifications", "callback_auth"),
                                                         "STUF_BRIDGE_NOTIFICATIONS", "callback_auth"),
        "STUF_BRIDGE_NOTIFICATIONS_CALLBACK_SECRET_FILE": (("notifications", "callback_secret"),
                                                           "STUF_BRIDGE_NOTIFICATIONS", "callback_secret"),
        "STUF_BRIDGE_NOTIFICATIONS_NRC_SECRET_FILE": (("notifications", "nrc_secret"), "STUF_BRIDGE_NOTIFICATIONS",
                                                      "nrc_secret"),
        "STUF_BRIDGE_NOTIFICATIONS_SNAPSHOT_KEY_FILE": (("notifications", "snapshot_key"),
                                                        "STUF_BRIDGE_NOTIFICATIONS", "snapshot_key"),
    }

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        import json
        import os

        values: dict[str, Any] = {}
        for variable, (path, direct, key) in self.FILES.items():
            file_name = os.environ.get(variable)
            if not file_name:
                continue
            given = os.environ.get(direct)
            if given is not None and key is not None:
                try:
                    given = json.loads(given).get(key)
                except (ValueError, AttributeError):
                    given = None  # not JSON: the environment source reports that itself
            if given is not None:
                what = direct if key is None else f"{direct} (its {key!r})"
                raise ValueError(f"both {what} and {variable} are set; give the value in one of them")
            try:
                content = Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ValueError(f"{variable}: cannot read {file_name}: {exc.strerror or exc}") from exc
            value: Any = content
            if path == ("zgw_credentials",):
                try:
                    value = json.loads(content)
                except ValueError as exc:
                    raise ValueError(f"{variable}: {file_name} does not hold JSON: {exc}") from exc
            target = values
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        return values


def check_identifier_template(template: str) -> None:
    """Reject templates with unknown fields, attribute/index access, or without a volgnummer."""
    fields = set()
    for _, name, _spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if name not in IDENTIFIER_FIELDS:
            raise ValueError(f"unknown field {{{name}}} in template {template!r}; use {sorted(IDENTIFIER_FIELDS)}")
        if conversion:
            raise ValueError(f"conversions (!{conversion}) are not allowed in template {template!r}")
        fields.add(name)
    if "volgnummer" not in fields:
        raise ValueError(f"template {template!r} must contain {{volgnummer}}, or identifiers would repeat")


def with_demo_profile(settings: Settings) -> Settings:
    """The settings completed for a start on the embedded backend: with no ``default_rsin`` configured, the demo
    profile (:data:`DEMO_PROFILE`) fills it in, so that the README's demo messages (zender organisatie 0363, which no
    mapping lists) create zaken out of the box. Anything configured wins; with an external backend nothing changes.

    This is the only place that looks at the backend to pick a value: the gateway itself treats the same message with
    the same settings the same on either backend.
    """
    if not settings.zgw_embedded:
        return settings
    missing = {name: value for name, value in DEMO_PROFILE.items() if getattr(settings, name) is None}
    return settings.model_copy(update=missing) if missing else settings


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Read the settings; ``overrides`` (e.g. CLI flags) win over the environment and the config file."""
    import os

    path = config_file or os.environ.get("STUF_BRIDGE_CONFIG")
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
    token = _CONFIG_FILE.set(Path(path) if path else None)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    finally:
        _CONFIG_FILE.reset(token)


# Variables with the STUF_BRIDGE_ prefix that are read elsewhere than as a setting of Settings.
OTHER_VARIABLES = frozenset({
    "STUF_BRIDGE_CONFIG",  # the config file (load_settings)
    "STUF_BRIDGE_SHARED",  # the tests: where ../shared is
    "STUF_BRIDGE_TEST_PG_URL",  # the tests: the PostgreSQL admin URL
})
OTHER_PREFIXES = ("STUF_BRIDGE_EMBEDDED_", "STUF_BRIDGE_CI_")  # the embedded backend's own settings; .ci scripts


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """The ``STUF_BRIDGE_`` variables in ``environ`` that no setting reads: most likely typos, which would otherwise be
    silently ignored. Each is returned with the nearest known name, when one is close (``... (did you mean X?)``)."""
    import difflib

    known = {f"STUF_BRIDGE_{name.upper()}" for name in Settings.model_fields}
    known |= set(SecretFilesSource.FILES) | OTHER_VARIABLES
    unknown = []
    for name in sorted(environ):
        if not name.upper().startswith("STUF_BRIDGE_") or name.upper() in known or name.upper().startswith(
                OTHER_PREFIXES):
            continue
        near = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.8)
        unknown.append(f"{name} (did you mean {near[0]}?)" if near else name)
    return unknown
