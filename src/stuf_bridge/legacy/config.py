"""The ``legacy:`` settings: where the legacy zaaksysteem's ZDS services are and how to reach them.

A legacy system in the field sits behind TLS with a private CA, often asks for a client certificate and sometimes
for Basic credentials; each is optional here. The endpoints are keyed by the gateway's own service names
(``Service`` in ``stuf/registry.py``), so a misspelt key stops the start instead of silently proxying nothing.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..security.config import BackendTls
from ..stuf.registry import Service


class LegacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoints: dict[Service, str] = Field(
        default_factory=dict,
        description="The legacy ZDS services by service name (BeantwoordVraag, OntvangAsynchroon, VrijeBerichten); "
        "any may be absent. Empty: no legacy side.",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds to connect, and between two pieces of an answer.")
    ca_bundle: Path | None = Field(default=None, description="CA bundle (PEM) that signs the legacy's TLS certificate.")
    client_cert: Path | None = Field(default=None, description="Client certificate (PEM) shown to the legacy system.")
    client_key: Path | None = Field(default=None, description="Key of client_cert, when not in the same file.")
    tls: dict[Service, BackendTls] = Field(
        default_factory=dict,
        description="TLS per endpoint where it differs (ca_bundle, client_certificate, client_key, verify), keyed as "
        "endpoints; what an endpoint does not set comes from ca_bundle, client_cert and client_key above.")
    username: str | None = Field(default=None, description="Basic credentials towards the legacy system: user.")
    password: SecretStr | None = Field(default=None, description="Basic credentials: password.")

    @field_validator("endpoints")
    @classmethod
    def _http_urls(cls, value: dict[Service, str]) -> dict[Service, str]:
        for service, url in value.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"legacy endpoint for {service.value} must be an http(s) URL, not {url!r}")
            if parts.username or parts.password:
                raise ValueError(f"legacy endpoint for {service.value}: give credentials as username/password, "
                                 "not in the URL (it is written in logs and faults)")
        return value

    @model_validator(mode="after")
    def _pairs(self) -> LegacySettings:
        if self.password is not None and self.username is None:
            raise ValueError("legacy.password needs legacy.username")
        if self.client_key is not None and self.client_cert is None:
            raise ValueError("legacy.client_key needs legacy.client_cert")
        return self

    def tls_for(self, service: Service) -> BackendTls | None:
        """An endpoint's own TLS settings over the general ones; None when it has none of its own."""
        own = self.tls.get(service)
        if own is None:
            return None
        general = BackendTls.model_construct(ca_bundle=self.ca_bundle, client_certificate=self.client_cert,
                                             client_key=self.client_key, verify=True)
        return own.over(general)

    @property
    def configured(self) -> bool:
        """True when a legacy side exists (at least one endpoint)."""
        return bool(self.endpoints)
