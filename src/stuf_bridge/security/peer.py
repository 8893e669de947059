"""What the transport says about who sent a request: its address, its Authorization header and the client
certificate (checked by the gateway's own TLS, or passed by a proxy in a header). The web layer fills it in; the
authenticate stage reads it."""

from __future__ import annotations

from dataclasses import dataclass

from .identity import Subject


@dataclass(frozen=True)
class Peer:
    address: str | None = None
    authorization: str | None = None
    certificate: Subject | None = None  # the TLS client certificate's subject (the gateway's own TLS verified it)
    certificate_header: str | None = None  # the subject a proxy passed (believed only from a trusted proxy)
