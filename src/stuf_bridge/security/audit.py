"""Audit attribution towards ZGW: who a write was done for.

ZGW's audit trail shows the gateway's own client for everything it does. While a message is handled, :func:`acting`
holds who sent it (the StUF zender, the referentienummer, the gebruiker, the authenticated client); every write the
ZGW client makes for it carries that in ``X-Audit-Toelichting`` (Open Zaak stores it as the audit trail's toelichting),
and with ``zgw_audit_user`` the JWT's ``user_id`` / ``user_representation`` name the gebruiker / zender, so that
the audit trail's user is the one the message names.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

HEADER = "X-Audit-Toelichting"
TOELICHTING_MAX = 1000
_CURRENT: ContextVar[Acting | None] = ContextVar("stuf_bridge_acting", default=None)


@dataclass(frozen=True)
class Acting:
    operation: str
    zender: str | None  # organisatie/applicatie
    referentienummer: str | None
    gebruiker: str | None
    client: str | None  # the configured client it authenticated as

    def toelichting(self) -> str:
        return self._toelichting

    @functools.cached_property
    def _toelichting(self) -> str:
        """Made once per message: every write of it carries the same (a creeerZaak makes four)."""
        parts = [f"stuf-bridge {self.operation}", f"zender {self.zender or '(geen)'}"]
        if self.referentienummer:
            parts.append(f"referentienummer {self.referentienummer}")
        if self.gebruiker:
            parts.append(f"gebruiker {self.gebruiker}")
        if self.client:
            parts.append(f"client {self.client}")
        return header_safe("; ".join(parts))[:TOELICHTING_MAX]

    @functools.cached_property
    def user_id(self) -> str:
        return header_safe(self.gebruiker or self.zender or "")[:255]

    @functools.cached_property
    def user_representation(self) -> str:
        return header_safe(self.zender or self.gebruiker or "")[:255]


def header_safe(text: str) -> str:
    """ASCII without control characters (an HTTP header value): accents dropped, the rest replaced by ``?``."""
    if text.isascii() and text.isprintable():  # nearly always: nothing to drop or replace
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else "?" for c in plain)


def current() -> Acting | None:
    return _CURRENT.get()


@contextmanager
def acting(who: Acting) -> Iterator[None]:
    token = _CURRENT.set(who)
    try:
        yield
    finally:
        _CURRENT.reset(token)
