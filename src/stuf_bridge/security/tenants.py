"""Tenants: several municipalities on one gateway, each with its own ZGW backend and credentials (``tenants:`` in the
config file; docs/security.md, Tenants).

A message's tenant is chosen once its stuurgegevens and its client are known (the *tenant* stage, after *check*):

* by the authenticated client, when a tenant lists it in ``clients``;
* else by the zender's organisatie, when a tenant lists it in ``organisaties``;
* else the message is refused: StUF013 ``tenant-unknown`` (nothing read or written). A client bound to a tenant
  that sends as an organisatie of another tenant is refused the same way (StUF052 ``not-authorised``).

Everything the message does towards ZGW then follows the tenant: its own :class:`ZgwClients` (URLs, JWT or OAuth2
credentials, TLS), and so its own catalogue cache; the identifier sequences are the tenant's own (``tenant=NAME|``
before the sequence's name) and so are the resend records (``|tenant=NAME`` after the zender of the key), so that a
referentienummer of one municipality never answers another's resend.

A tenant may have its own ``routing:`` and ``legacy:`` sections (else the gateway's): ``routing/tenants.py`` gives
its environment its router (its zaak registry rows ``tenant=NAME|...``, see :func:`scoped`) and its proxy and
replicate handlers, and its outbox items record it. What does not work per tenant yet is refused
(:func:`tenant_limits`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..legacy.config import LegacySettings
from ..routing.config import RoutingSettings
from .config import BackendTls, OAuth2Settings

if TYPE_CHECKING:
    from ..pipeline.exchange import Environment, Exchange, Next
    from ..settings import Settings
    from ..zgw import ZgwClients

_APIS = ("zaken", "documenten", "catalogi", "besluiten")


class TenantSettings(BaseModel):
    """One municipality: who belongs to it and where its ZGW backend is."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="The tenant's name in logs, traces and its store keys.")
    organisaties: list[str] = Field(
        default_factory=list, description="zender/organisatie values (gemeentecodes) whose messages are this tenant's.")
    clients: list[str] = Field(
        default_factory=list, description="Names of configured clients whose messages are this tenant's.")
    zgw_url: str | None = Field(None, description="Base URL of the tenant's ZGW backend.")
    zgw_zaken_url: str | None = None
    zgw_documenten_url: str | None = None
    zgw_catalogi_url: str | None = None
    zgw_besluiten_url: str | None = None
    zgw_client_id: str | None = Field(None, description="JWT client id; unset: the gateway's zgw_client_id.")
    zgw_secret: SecretStr | None = Field(None, description="JWT secret (HS256) of the tenant's backend.")
    zgw_secret_file: Path | None = Field(None, description="File holding the JWT secret.")
    zgw_credentials: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per-API client_id and secret, as the gateway's zgw_credentials.")
    zgw_oauth2: OAuth2Settings | None = Field(None, description="OAuth2 client credentials instead of the JWT.")
    zgw_tls: BackendTls | None = Field(None, description="TLS towards the tenant's backend; unset: the gateway's.")
    zgw_api_tls: dict[str, BackendTls] = Field(
        default_factory=dict, description="TLS per API of the tenant's backend, over the tenant's zgw_tls.")
    default_rsin: str | None = Field(None, pattern=r"^\d{9}$", description="RSIN for organisaties the mapping lacks.")
    default_gemeentecode: str | None = Field(None, pattern=r"^\d{4}$")
    legacy: LegacySettings | None = Field(
        None, description="The tenant's own legacy zaaksysteem (as the gateway's legacy:, the whole section); unset: "
        "the gateway's legacy side.")
    routing: RoutingSettings | None = Field(
        None, description="The tenant's own routing table (as the gateway's routing:, the whole section); unset: the "
        "gateway's routing table.")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if not self.organisaties and not self.clients:
            raise ValueError(f"tenant {self.name!r} has neither organisaties nor clients: no message could reach it")
        urls = [getattr(self, f"zgw_{api}_url") for api in _APIS]
        if self.zgw_url is None and not all(urls):
            raise ValueError(f"tenant {self.name!r} needs zgw_url (or the URL of each of the four APIs)")
        secrets = [n for n in ("zgw_secret", "zgw_secret_file", "zgw_oauth2") if getattr(self, n) is not None]
        if len(secrets) != 1 and not (not secrets and set(self.zgw_credentials) >= set(_APIS)):
            raise ValueError(f"tenant {self.name!r}: give exactly one of zgw_secret, zgw_secret_file, zgw_oauth2 "
                             f"(or zgw_credentials for all four APIs); got {secrets or 'none'}")
        if self.zgw_secret_file is not None and not self.zgw_secret_file.is_file():
            raise ValueError(f"tenant {self.name!r}: zgw_secret_file {self.zgw_secret_file} does not exist")
        for what in ("zgw_credentials", "zgw_api_tls"):
            unknown = set(getattr(self, what)) - set(_APIS)
            if unknown:
                raise ValueError(f"tenant {self.name!r}: {what} for unknown APIs {sorted(unknown)}")
        return self

    @field_validator("zgw_credentials")
    @classmethod
    def _pairs(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for api, pair in value.items():
            if set(pair) != {"client_id", "secret"}:
                raise ValueError(f"zgw_credentials.{api} needs exactly client_id and secret")
        return value

    def settings(self, base: Settings) -> Settings:
        """The gateway's settings with this tenant's backend, credentials and TLS in place of its own."""
        from ..settings import ZgwCredentials

        secret = base.zgw_secret
        if self.zgw_secret is not None:
            secret = self.zgw_secret.get_secret_value()
        elif self.zgw_secret_file is not None:
            secret = self.zgw_secret_file.read_text(encoding="utf-8").rstrip("\r\n")
        credentials: dict[str, ZgwCredentials] = {
            api: ZgwCredentials(**pair) for api, pair in self.zgw_credentials.items()}
        update: dict[str, Any] = {
            "zgw_url": self.zgw_url,
            **{f"zgw_{api}_url": getattr(self, f"zgw_{api}_url") for api in _APIS},
            "zgw_client_id": self.zgw_client_id or base.zgw_client_id,
            "zgw_secret": secret,
            "zgw_credentials": credentials,
            "zgw_oauth2": self.zgw_oauth2,
            "zgw_tls": self.zgw_tls if self.zgw_tls is not None else base.zgw_tls,
            "zgw_api_tls": self.zgw_api_tls,  # never the gateway's own per-API certificates
        }
        if self.default_rsin is not None:
            update["default_rsin"] = self.default_rsin
        if self.default_gemeentecode is not None:
            update["default_gemeentecode"] = self.default_gemeentecode
        if self.legacy is not None:
            update["legacy"] = self.legacy
        if self.routing is not None:
            update["routing"] = self.routing
        return base.model_copy(update=update)


def check_tenants(tenants: list[TenantSettings], client_names: set[str]) -> None:
    """Names, organisaties and clients each belong to one tenant; every client named is configured."""
    for what, values in (("name", [t.name for t in tenants]),
                         ("organisatie", [o for t in tenants for o in t.organisaties]),
                         ("client", [c for t in tenants for c in t.clients])):
        doubles = sorted({v for v in values if values.count(v) > 1})
        if doubles:
            raise ValueError(f"tenants: {what} {doubles} in more than one tenant")
    unknown = sorted({c for t in tenants for c in t.clients} - client_names)
    if unknown:
        raise ValueError(f"tenants: clients {unknown} are not among the configured clients")


def tenant_limits(settings: Settings) -> str | None:
    """What cannot be combined with tenants (yet), as the reason the settings are refused; None when all fits.

    A routing table and a legacy side work per tenant (each tenant's own or the gateway's). What still works on the
    gateway's own backend only is refused: notifications, the lazy back-fill (``backfill: on_reference``),
    ``compare_reads`` and the scheduled reconcile."""
    if settings.notifications.active:
        return ("tenants cannot be combined (yet) with notifications: subscriptions and kennisgevingen work on the "
                "gateway's own backend (docs/security.md, Tenants)")
    if settings.reconcile.scheduled:
        return ("tenants cannot be combined (yet) with the scheduled reconcile (reconcile.scheduled): it compares the "
                "gateway's own backend and legacy side only (docs/security.md, Tenants)")
    tables = [("routing", settings.routing)] + [
        (f"tenants[{t.name}].routing", t.routing) for t in settings.tenants if t.routing is not None]
    for where, table in tables:
        for target in (table.default, *table.rules):
            if target.backfill != "off" or target.compare_reads > 0:
                what = "backfill" if target.backfill != "off" else "compare_reads"
                return (f"tenants cannot be combined (yet) with {what} ({where}): the back-fill and the read "
                        "comparison work on the gateway's own backend and legacy side (docs/security.md, Tenants)")
    return None


def keeps_raw(settings: Settings) -> bool:
    """Whether a message's bytes are kept as they came (for proxy and replicate): when the gateway or a tenant has a
    legacy side."""
    return settings.legacy.configured or any(t.legacy is not None and t.legacy.configured for t in settings.tenants)


def scoped(tenant: str | None, key: str) -> str:
    """A store key of a tenant's own (zaak registry, outbox target and partition): ``tenant=NAME|key``; unchanged
    for the gateway's own messages."""
    return key if tenant is None else f"{TENANT_PREFIX}{tenant}|{key}"


def unscoped(key: str) -> tuple[str | None, str]:
    """``(tenant, key)`` of a key made by :func:`scoped` (tenant None: the gateway's own)."""
    if not key.startswith(TENANT_PREFIX):
        return None, key
    tenant, _, rest = key[len(TENANT_PREFIX):].partition("|")
    return tenant, rest


TENANT_PREFIX = "tenant="


class Tenants:
    """The tenants' environments (settings, ZGW clients) and the choice of one per message."""

    def __init__(self, environments: dict[str, Environment], settings: list[TenantSettings]):
        self.environments = environments
        self._by_client = {c: t.name for t in settings for c in t.clients}
        self._by_organisatie = {o: t.name for t in settings for o in t.organisaties}

    @classmethod
    def build(cls, base: Environment, transport: httpx.AsyncBaseTransport | None = None) -> Tenants:
        """One environment per tenant of ``base.settings``: its settings and its own ZGW clients (close with
        :meth:`aclose`)."""
        from ..pipeline.route import TranslateAll
        from ..zgw import ZgwClients

        environments: dict[str, Environment] = {}
        for tenant in base.settings.tenants:
            own = tenant.settings(base.settings)
            zgw: ZgwClients = ZgwClients.from_settings(own, None, transport)
            # translate only, until ``routing/tenants.py`` (``wire_tenants``) gives it its router and legacy side:
            # never the gateway's own router or legacy side
            environments[tenant.name] = replace(base, settings=own, zgw=zgw, tenant=tenant.name,
                                                router=TranslateAll(), modes={})
        return cls(environments, list(base.settings.tenants))

    def choose(self, x: Exchange) -> Environment:
        """The environment of the exchange's tenant, or a fault (see the module's text)."""
        from ..errors import NotAuthorised, StuurgegevensError

        zender = x.stuurgegevens.zender if x.stuurgegevens is not None else None
        organisatie = (zender.organisatie if zender is not None else None) or ""
        by_organisatie = self._by_organisatie.get(organisatie)
        if x.client is not None and x.client.name in self._by_client:
            name = self._by_client[x.client.name]
            if by_organisatie is not None and by_organisatie != name:
                raise NotAuthorised(
                    "Het zendende systeem is niet geautoriseerd voor dit bericht",
                    f"client {x.client.name!r} hoort bij tenant {name!r}, zender/organisatie {organisatie!r} bij een "
                    "andere")
            return self.environments[name]
        if by_organisatie is None:
            raise StuurgegevensError(
                "StUF013",
                "Zender/organisatie hoort bij geen enkele gemeente van deze gateway",
                f"zender/organisatie {organisatie[:40]!r} is niet geconfigureerd bij een tenant (tenants: "
                "organisaties); de gateway weet niet naar welke ZGW-backend het bericht moet.",
                reason="tenant-unknown",
            )
        return self.environments[by_organisatie]

    async def aclose(self) -> None:
        for env in self.environments.values():
            if env.zgw is not None:
                await env.zgw.aclose()


class TenantStage:
    """Stage *tenant*: the exchange continues in its tenant's environment (no-op without tenants)."""

    name = "tenant"

    def __init__(self, tenants: Tenants | None):
        self.tenants = tenants

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        if self.tenants is not None:
            x.env = self.tenants.choose(x)
        await call_next(x)


__all__ = ["TenantSettings", "TenantStage", "Tenants", "check_tenants", "keeps_raw", "scoped", "tenant_limits",
           "unscoped"]
