"""What ``serve`` checks and says about security before it listens."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from ..settings import Settings

log = structlog.get_logger("stuf_bridge")


class StartRefused(Exception):
    """A configuration ``serve`` will not run with; the text says why and what to change."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_secret_in_use(settings: Settings) -> bool:
    demo = type(settings).model_fields["zgw_secret"].default
    secrets = [settings.zgw_secret] + [c.secret for c in settings.zgw_credentials.values()]
    for tenant in settings.tenants:  # a tenant's own backend with the public secret is as open
        own = tenant.settings(settings)
        secrets += [own.zgw_secret] + [c.secret for c in own.zgw_credentials.values()]
    return demo in secrets


def check_start(settings: Settings) -> None:
    """Refuse what must not run, warn (once) about what is open. Raises :class:`StartRefused`."""
    public = not is_loopback(settings.host)
    if public and demo_secret_in_use(settings) and not settings.allow_demo_secret:
        raise StartRefused(
            f"zgw_secret is the public demo secret and the gateway would listen on {settings.host}, beyond loopback: "
            "anyone could sign tokens for the ZGW backend with it. Set zgw_secret (STUF_BRIDGE_ZGW_SECRET or "
            "STUF_BRIDGE_ZGW_SECRET_FILE), or allow it for a demo with allow_demo_secret (STUF_BRIDGE_ALLOW_DEMO_SECRET"
            "=true).")
    if not settings.clients:
        if public:
            log.warning("unauthenticated_gateway", host=settings.host,
                        warning="NO CLIENTS CONFIGURED: anyone who reaches this port can create, change and read "
                        "zaken and documents, and use the embedded ZGW backend. Configure clients (README, Locking "
                        "it down) before exposing the gateway.")
        else:
            log.info("unauthenticated_gateway", host=settings.host,
                     note="no clients configured: the gateway accepts unauthenticated messages (loopback only)")
    elif public and not settings.security.tls.enabled and not settings.security.client_certificate_header:
        log.warning("plain_http", host=settings.host,
                    note="clients authenticate over plain HTTP: passwords cross the network unencrypted unless a "
                    "TLS-terminating proxy is in front (security.tls for HTTPS served by the gateway)")


def internal_port_needed(settings: Settings) -> bool:
    """Whether /metrics, /ready, /ui/ and the embedded backend get a port of their own: when configured, and always
    for the embedded backend once clients are configured (it never shares the SOAP port outside the demo)."""
    return settings.security.internal_port is not None or (bool(settings.clients) and settings.zgw_embedded)
