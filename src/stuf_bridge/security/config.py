"""Who may send what: the configured clients (``clients:`` in the config file) and the gateway's own security
settings (``security:``). Read by the settings; used by the authenticate and authorise stages and by ``serve``.

A client authenticates in one of four ways, each optional and any of them enough:

* ``basic``: HTTP Basic with a username and a password given inline (demo only), in a file (``password_file``) or as
  an argon2 hash (``password_hash``, made with ``stuf-bridge hash-password``);
* ``wsse``: a WS-Security UsernameToken in the SOAP header, PasswordText or PasswordDigest. The digest needs the
  password itself on both sides, so it is inline or in a file, never a hash;
* ``certificate``: the subject of a client certificate: the one the gateway's own TLS checked (``security.tls``), or
  the one a TLS-terminating proxy puts in a trusted header (``security.client_certificate_header``);

and, with any of them, ``addresses``: the source addresses (CIDR) it may come from.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

ANY = "*"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PasswordSource(_Model):
    """A password: inline (``password``), in a file (``password_file``) or, where only checking is needed, as an
    argon2 hash (``password_hash``). Exactly one."""

    password: SecretStr | None = None
    password_file: Path | None = None
    password_hash: SecretStr | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [n for n in ("password", "password_file", "password_hash") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of password, password_file, password_hash (got {given or 'none'})")
        if self.password_file is not None and not self.password_file.is_file():
            raise ValueError(f"password_file {self.password_file} does not exist")
        return self

    def plain(self) -> str | None:
        """The password itself (inline or from its file), or None when only its hash is known."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        return None


class BasicCredentials(PasswordSource):
    username: str = Field(min_length=1)


class WsseCredentials(PasswordSource):
    username: str = Field(min_length=1)

    @model_validator(mode="after")
    def _no_hash(self) -> Self:
        if self.password_hash is not None:
            raise ValueError("wsse needs the password itself (PasswordDigest is computed from it): use password or "
                             "password_file, not password_hash")
        return self


class CertificateIdentity(_Model):
    """A client certificate by its subject, written as RFC 4514 (``CN=portaal,O=Gemeente Voorbeeld,C=NL``); the
    order of the attributes and spaces around ``=`` and ``,`` do not matter."""

    subject: str = Field(min_length=3)

    @field_validator("subject")
    @classmethod
    def _parsable(cls, value: str) -> str:
        from .identity import parse_subject

        if not parse_subject(value):
            raise ValueError(f"subject {value!r} is not 'ATTR=value,...'")
        return value


class ClientSettings(_Model):
    name: str = Field(min_length=1, max_length=100, description="The client's name in logs, traces and audit.")
    basic: BasicCredentials | None = None
    wsse: WsseCredentials | None = None
    certificate: CertificateIdentity | None = None
    addresses: list[str] = Field(
        default_factory=list,
        description="Source addresses (CIDR) the client may come from; empty: any address.")
    zenders: list[str] = Field(
        default_factory=lambda: [ANY],
        description="The StUF zenders it may act as, `organisatie/applicatie`; either part or the whole may be `*`.")
    operations: list[str] = Field(
        default_factory=lambda: [ANY], description="Operation names as in the README (creeerZaak, …), or `*`.")
    zaaktypen: list[str] = Field(
        default_factory=lambda: [ANY], description="Zaaktype codes (omschrijving/identificatie) it may use, or `*`.")

    @model_validator(mode="after")
    def _one_way_at_least(self) -> Self:
        if self.basic is None and self.wsse is None and self.certificate is None:
            raise ValueError(f"client {self.name!r} has no way to authenticate: give basic, wsse or certificate")
        return self

    @field_validator("addresses")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"address {cidr!r} is not an IP address or CIDR range") from exc
        return value

    @field_validator("zenders")
    @classmethod
    def _zender_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if key != ANY and key.count("/") != 1:
                raise ValueError(f"zender {key!r} must be 'organisatie/applicatie' (either may be '*') or '*'")
        return value


class TlsServerSettings(_Model):
    """HTTPS served by the gateway itself."""

    certificate: Path | None = Field(None, description="PEM file with the server certificate (and chain).")
    key: Path | None = Field(None, description="PEM file with the server's private key.")
    key_password_file: Path | None = Field(None, description="File holding the key's password, if it has one.")
    client_ca: Path | None = Field(None, description="PEM bundle of the CAs whose client certificates are accepted.")
    require_client_certificate: bool = Field(
        False, description="Refuse the TLS handshake without a client certificate (otherwise it is optional, and a "
        "client without one must authenticate otherwise).")

    @property
    def enabled(self) -> bool:
        return self.certificate is not None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.certificate is None) != (self.key is None):
            raise ValueError("tls needs both certificate and key")
        if self.require_client_certificate and self.client_ca is None:
            raise ValueError("require_client_certificate needs client_ca")
        for name in ("certificate", "key", "client_ca", "key_password_file"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"tls.{name}: {path} does not exist")
        return self


class SecuritySettings(_Model):
    wsse_window_seconds: float = Field(
        300.0, gt=0,
        description="A UsernameToken's Created may be this far from the gateway's clock (either way); its Nonce is "
        "remembered this long (twice) so that a replay within the window is refused.")
    client_certificate_header: str | None = Field(
        None,
        description="Behind a TLS-terminating proxy: the header in which the proxy passes the verified client "
        "certificate's subject (RFC 4514), e.g. X-SSL-Client-S-DN. Believed only from trusted_proxies.")
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="Addresses (CIDR) of the proxies whose client_certificate_header is believed.")
    header_timeout_seconds: float = Field(
        30.0, gt=0,
        description="A connection must send a request's complete headers within this many seconds of its first "
        "byte (or of connecting), or it is closed (slow-loris clients).")
    body_timeout_seconds: float = Field(
        60.0, gt=0,
        description="While a request's body is read, the client must send more within this many seconds, or the "
        "connection is closed.")
    tls: TlsServerSettings = Field(default_factory=TlsServerSettings, description="HTTPS served by the gateway.")
    internal_host: str = Field("127.0.0.1", description="Interface of the internal port.")
    internal_port: int | None = Field(
        None, ge=0, le=65535,
        description="A second port for /metrics, /ready, /ui/ and the embedded ZGW backend: then they are not "
        "served on the SOAP port. With clients configured and the embedded backend, the backend always gets a port "
        "of its own (this one, or a free loopback port).")
    internal_basic: BasicCredentials | None = Field(
        None, description="HTTP Basic credentials required for /metrics, /ready and /ui/ (on whichever port).")

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value


class BackendTls(_Model):
    """TLS towards a backend (ZGW): verify it with ``ca_bundle`` (unset: the system's CAs) and present
    ``client_certificate`` / ``client_key`` (mutual TLS)."""

    ca_bundle: Path | None = Field(None, description="PEM bundle of the CAs that sign the backend's certificate.")
    client_certificate: Path | None = Field(None, description="PEM client certificate (and chain) to present.")
    client_key: Path | None = Field(None, description="PEM private key of the client certificate.")
    verify: bool = Field(True, description="Verify the backend's certificate (turn off only for a test).")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.client_certificate is None) != (self.client_key is None):
            raise ValueError("client_certificate and client_key go together")
        for name in ("ca_bundle", "client_certificate", "client_key"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name}: {path} does not exist")
        return self

    def over(self, general: BackendTls) -> BackendTls:
        """These settings where they are given, ``general``'s for the rest: the CA bundle, the client certificate
        with its key (as a pair), and ``verify`` each fall back on their own."""
        given = self.model_fields_set
        merged = general.model_copy()
        if "ca_bundle" in given:
            merged.ca_bundle = self.ca_bundle
        if "client_certificate" in given or "client_key" in given:
            merged.client_certificate, merged.client_key = self.client_certificate, self.client_key
        if "verify" in given:
            merged.verify = self.verify
        return merged

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What httpx's ``verify`` takes: True (the system's CAs) unless something is configured."""
        if self.ca_bundle is None and self.client_certificate is None:
            return self.verify
        context = ssl.create_default_context(cafile=str(self.ca_bundle) if self.ca_bundle else None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_certificate is not None:  # the key may be in the certificate's file (legacy.client_cert)
            context.load_cert_chain(str(self.client_certificate),
                                    str(self.client_key) if self.client_key is not None else None)
        return context


class OAuth2Settings(_Model):
    """OAuth2 client credentials towards ZGW (instead of the HS256 JWT)."""

    token_url: str = Field(min_length=8, description="The authorisation server's token endpoint.")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    scope: str | None = None
    audience: str | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> Self:
        if (self.client_secret is None) == (self.client_secret_file is None):
            raise ValueError("give exactly one of client_secret, client_secret_file")
        if self.client_secret_file is not None and not self.client_secret_file.is_file():
            raise ValueError(f"client_secret_file {self.client_secret_file} does not exist")
        if not self.token_url.startswith(("https://", "http://")):
            raise ValueError("token_url must be an http(s) URL")
        return self

    def secret(self) -> str:
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        assert self.client_secret_file is not None
        return self.client_secret_file.read_text(encoding="utf-8").rstrip("\r\n")
