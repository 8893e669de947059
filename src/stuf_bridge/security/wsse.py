"""WS-Security UsernameToken (OASIS Username Token Profile 1.0/1.1) in the SOAP header, as Open Formulieren (zeep)
and most Java stacks send it:

    <wsse:Security><wsse:UsernameToken>
        <wsse:Username>…</wsse:Username>
        <wsse:Password Type="…#PasswordText | …#PasswordDigest">…</wsse:Password>
        <wsse:Nonce EncodingType="…#Base64Binary">…</wsse:Nonce>   (digest: required)
        <wsu:Created>2026-12-07T10:00:00Z</wsu:Created>              (digest: required)
    </wsse:UsernameToken></wsse:Security>

PasswordDigest = Base64(SHA-1(nonce bytes + Created text + password)). A Created outside the window around the
gateway's clock is refused, and so is a Nonce seen before within the window (``nonces.py``: shared by every process
on the store).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from lxml import etree

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"


class TokenError(ValueError):
    """A UsernameToken that cannot be checked (malformed): the message says what is wrong, never a secret."""


@dataclass(frozen=True)
class UsernameToken:
    username: str
    password: str
    digest: bool
    nonce: bytes | None
    created: str | None

    def matches(self, password: str) -> bool:
        if not self.digest:
            return hmac.compare_digest(self.password.encode(), password.encode())
        assert self.nonce is not None and self.created is not None
        expected = base64.b64encode(
            hashlib.sha1(self.nonce + self.created.encode() + password.encode()).digest()  # noqa: S324 (the profile's)
        ).decode()
        return hmac.compare_digest(self.password.strip().encode(), expected.encode())

    def created_at(self) -> dt.datetime | None:
        if self.created is None:
            return None
        try:
            value = dt.datetime.fromisoformat(self.created.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise TokenError(f"wsu:Created {self.created[:40]!r} is geen xs:dateTime") from exc
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def make_digest(nonce: bytes, created: str, password: str) -> str:
    """The PasswordDigest of a token (for clients and tests)."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()  # noqa: S324


def _child(parent: etree._Element, local: str) -> etree._Element | None:
    for ns in (WSSE, WSSE11, WSU):
        found = parent.find(f"{{{ns}}}{local}")
        if found is not None:
            return found
    return None


def read_token(envelope: etree._Element) -> UsernameToken | None:
    """The UsernameToken in the envelope's SOAP header, or None when there is none."""
    header = next((el for el in envelope if isinstance(el.tag, str) and etree.QName(el).localname == "Header"), None)
    if header is None:
        return None
    token = None
    for security in header:
        if isinstance(security.tag, str) and etree.QName(security).localname == "Security":
            token = _child(security, "UsernameToken")
            if token is not None:
                break
    if token is None:
        return None
    username_el, password_el = _child(token, "Username"), _child(token, "Password")
    if username_el is None or not (username_el.text or "").strip():
        raise TokenError("wsse:UsernameToken zonder wsse:Username")
    if password_el is None:
        raise TokenError("wsse:UsernameToken zonder wsse:Password")
    kind = (password_el.get("Type") or PASSWORD_TEXT).strip()
    if kind.endswith("#PasswordDigest"):
        digest = True
    elif kind.endswith("#PasswordText"):
        digest = False
    else:
        raise TokenError(f"wsse:Password Type {kind[:100]!r} wordt niet ondersteund (PasswordText, PasswordDigest)")
    nonce_el, created_el = _child(token, "Nonce"), _child(token, "Created")
    nonce = None
    if nonce_el is not None and (nonce_el.text or "").strip():
        try:
            nonce = base64.b64decode((nonce_el.text or "").strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TokenError("wsse:Nonce is geen base64") from exc
    created = (created_el.text or "").strip() if created_el is not None else None
    if digest and (nonce is None or not created):
        raise TokenError("een PasswordDigest vraagt wsse:Nonce en wsu:Created")
    return UsernameToken((username_el.text or "").strip(), password_el.text or "", digest, nonce, created or None)
