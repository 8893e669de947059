"""Authentication of SOAP requests against the configured clients (``clients:``).

Two moments: :meth:`Authenticator.transport` before the body is read (HTTP Basic, the client certificate, the source
address: a stranger's large body is never parsed), and :meth:`Authenticator.token` once the envelope is read (the
WS-Security UsernameToken in the SOAP header). Every refusal is :class:`~stuf_bridge.errors.NotAuthenticated`
(HTTP 401 with a SOAP fault); its texts say what was missing or wrong, never a password, and do not tell a wrong
password from an unknown user.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from lxml import etree

from ..errors import NotAuthenticated
from ..store import Store
from .config import ClientSettings, SecuritySettings
from .identity import Subject, parse_subject, show
from .nonces import NonceStore
from .passwords import PasswordCheck
from .peer import Peer
from .wsse import TokenError, read_token

log = structlog.get_logger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class Client:
    """A configured client, ready to check credentials against."""

    settings: ClientSettings
    basic: PasswordCheck | None = None
    wsse: PasswordCheck | None = None
    subject: Subject | None = None
    networks: list[Network] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.settings.name

    @classmethod
    def build(cls, settings: ClientSettings) -> Client:
        return cls(
            settings,
            basic=PasswordCheck(settings.basic) if settings.basic is not None else None,
            wsse=PasswordCheck(settings.wsse) if settings.wsse is not None else None,
            subject=parse_subject(settings.certificate.subject) if settings.certificate is not None else None,
            networks=[ipaddress.ip_network(cidr, strict=False) for cidr in settings.addresses],
        )

    def admits(self, address: str | None) -> bool:
        if not self.networks:
            return True
        ip = _ip(address)
        return ip is not None and any(ip in network for network in self.networks)


def _ip(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def refuse(omschrijving: str, details: str, *, basic: bool = False) -> NotAuthenticated:
    error = NotAuthenticated(omschrijving, details)
    if basic:
        error.http_headers = {"www-authenticate": 'Basic realm="stuf-bridge", charset="UTF-8"'}
    return error


class Authenticator:
    def __init__(self, clients: Sequence[ClientSettings], security: SecuritySettings, store: Store,
                 clock: Callable[[], dt.datetime] | None = None):
        self.clients = [Client.build(c) for c in clients]
        self.security = security
        self.nonces = NonceStore(store)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.by_basic = {c.settings.basic.username: c for c in self.clients if c.settings.basic is not None}
        self.by_wsse = {c.settings.wsse.username: c for c in self.clients if c.settings.wsse is not None}
        self.by_subject = {c.subject: c for c in self.clients if c.subject}
        self.proxies = [ipaddress.ip_network(cidr, strict=False) for cidr in security.trusted_proxies]
        self.basic_offered = bool(self.by_basic)

    @property
    def active(self) -> bool:
        return bool(self.clients)

    async def transport(self, peer: Peer) -> Client | None:
        """The client the transport's credentials name, or None when it sent none and a UsernameToken may still
        authenticate it. Wrong credentials are refused here."""
        client: Client | None = None
        if peer.authorization is not None and peer.authorization[:6].lower() == "basic ":
            client = await self._basic(peer.authorization[6:].strip())
        else:
            subject = self._subject(peer)
            if subject:
                client = self.by_subject.get(subject)
                if client is None:
                    log.info("authentication_refused", why="certificate-unknown", subject=show(subject),
                             address=peer.address)
                    raise refuse("Het clientcertificaat is niet bekend",
                                 "Het onderwerp van het clientcertificaat hoort bij geen geconfigureerde client.")
        if client is None:
            if not self.by_wsse:
                raise refuse("Authenticatie vereist",
                             "Dit bericht heeft geen inloggegevens: stuur HTTP Basic of een clientcertificaat.",
                             basic=self.basic_offered)
            return None
        self._check_address(client, peer)
        return client

    async def token(self, envelope: etree._Element, peer: Peer, client: Client | None) -> Client:
        """The client after the UsernameToken (if any) is checked; ``client`` is the transport's."""
        try:
            token = read_token(envelope)
        except TokenError as exc:
            raise refuse("De WS-Security UsernameToken is onleesbaar", str(exc)) from exc
        if token is None:
            if client is None:
                raise refuse("Authenticatie vereist",
                             "Dit bericht heeft geen inloggegevens: stuur HTTP Basic, een WS-Security UsernameToken "
                             "of een clientcertificaat.", basic=self.basic_offered)
            return client
        found = self.by_wsse.get(token.username)
        password = found.wsse.plain if found is not None and found.wsse is not None else None
        if found is None or password is None or not token.matches(password):
            log.info("authentication_refused", why="wsse-wrong", username=token.username[:100], address=peer.address)
            raise refuse("Gebruikersnaam of wachtwoord onjuist", "De WS-Security UsernameToken is niet geldig.")
        if client is not None and client is not found:
            raise refuse("De inloggegevens spreken elkaar tegen",
                         "De transportgegevens en de UsernameToken horen bij verschillende clients.")
        await self._fresh(found, token.created_at(), token.nonce)
        self._check_address(found, peer)
        return found

    async def _basic(self, encoded: str) -> Client:
        try:
            username, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            username, sep, password = "", "", ""
        if not sep:
            raise refuse("HTTP Basic is onleesbaar", "De Authorization-header is geen base64 van gebruiker:wachtwoord.",
                         basic=True)
        client = self.by_basic.get(username)
        if client is None or client.basic is None or not await client.basic.averify(password):
            log.info("authentication_refused", why="basic-wrong", username=username[:100])
            raise refuse("Gebruikersnaam of wachtwoord onjuist", "De HTTP Basic-inloggegevens zijn niet geldig.",
                         basic=True)
        return client

    def _subject(self, peer: Peer) -> Subject | None:
        if peer.certificate:
            return peer.certificate
        if peer.certificate_header and self.security.client_certificate_header:
            ip = _ip(peer.address)
            if ip is not None and any(ip in network for network in self.proxies):
                return parse_subject(peer.certificate_header) or None
            log.warning("certificate_header_untrusted", address=peer.address,
                        header=self.security.client_certificate_header)
        return None

    def _check_address(self, client: Client, peer: Peer) -> None:
        if not client.admits(peer.address):
            log.info("authentication_refused", why="address", client=client.name, address=peer.address)
            raise refuse("Dit adres is niet toegestaan",
                         f"Client {client.name} mag alleen vanaf de voor hem ingestelde adressen berichten sturen.")

    async def _fresh(self, client: Client, created: dt.datetime | None, nonce: bytes | None) -> None:
        window = dt.timedelta(seconds=self.security.wsse_window_seconds)
        now = self.clock()
        if created is not None and abs(now - created) > window:
            raise refuse("De UsernameToken is verlopen",
                         f"wsu:Created ligt meer dan {window.total_seconds():.0f} s van de klok van de gateway; "
                         "stuur een nieuwe token (en controleer de klok).")
        if nonce is not None:
            key = base64.b64encode(nonce).decode()[:200]
            if not await self.nonces.take(client.name, key, now + 2 * window):
                log.info("authentication_refused", why="wsse-replay", client=client.name)
                raise refuse("De UsernameToken is al gebruikt",
                             "Deze wsse:Nonce is binnen het venster al eens ontvangen (herhaald bericht); stuur een "
                             "nieuwe token.")
