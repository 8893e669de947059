"""Client certificate subjects, compared as sets of attribute/value pairs: the order of the attributes, the case of
their names and the spaces around the separators do not matter, and ``commonName`` is ``CN``.

Subjects come written as RFC 4514 (``CN=portaal,O=Gemeente,C=NL``, what nginx's ``$ssl_client_s_dn`` and most proxies
send), in the old slash form (``/C=NL/O=Gemeente/CN=portaal``), or from Python's ``ssl`` as a tuple of RDNs.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

Subject = tuple[tuple[str, str], ...]  # sorted (ATTRIBUTE, value) pairs

_LONG_NAMES = {
    "COMMONNAME": "CN", "ORGANIZATIONNAME": "O", "ORGANIZATIONALUNITNAME": "OU", "COUNTRYNAME": "C",
    "LOCALITYNAME": "L", "STATEORPROVINCENAME": "ST", "EMAILADDRESS": "EMAILADDRESS", "E": "EMAILADDRESS",
    "SERIALNUMBER": "SERIALNUMBER", "ORGANIZATIONIDENTIFIER": "ORGANIZATIONIDENTIFIER", "STREETADDRESS": "STREET",
    "DOMAINCOMPONENT": "DC", "S": "ST",
}


def _attribute(name: str) -> str:
    upper = name.strip().upper()
    return _LONG_NAMES.get(upper, upper)


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` where it is not escaped with a backslash; escapes are resolved."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_subject(text: str) -> Subject:
    """A subject written as text; empty when it is not ``ATTR=value`` pairs."""
    text = text.strip()
    if "%" in text and "=" not in text.split("%", 1)[0]:
        text = unquote(text)
    if text.startswith("/"):
        pieces = [p for p in text.split("/") if p]
    else:
        pieces = [p for piece in _split(text, ",") for p in _split(piece, "+")]
    pairs = []
    for piece in pieces:
        name, sep, value = piece.partition("=")
        if not sep or not name.strip():
            return ()
        pairs.append((_attribute(name), value.strip()))
    return tuple(sorted(pairs))


def subject_from_ssl(rdns: Iterable[Iterable[tuple[str, str]]]) -> Subject:
    """A subject from ``ssl.SSLSocket.getpeercert()['subject']``."""
    return tuple(sorted((_attribute(name), value.strip()) for rdn in rdns for name, value in rdn))


def show(subject: Subject) -> str:
    return ",".join(f"{name}={value}" for name, value in subject)
