"""References between resources: stored as host-independent markers, rendered as absolute URLs per request.

A stored document never holds the scheme, host or mount prefix. A reference to a resource of this backend is kept as
``"\\uffff<api>/api/v1/<collection>/<uuid>"``. U+FFFF is a Unicode noncharacter that is refused in client input
(see :mod:`.fields`), so a marker is unambiguous; unlike NUL it survives SQLite's JSON functions. On the way out
the JSON text is rendered once, replacing each marker by the base URL the request came in on (scheme, host, port
and mount prefix).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

MARK = "\uffff"

# kind → (api, collection path below /api/v1/); nested kinds carry a "{parent}" placeholder.
KINDS: dict[str, tuple[str, str]] = {
    "catalogus": ("catalogi", "catalogussen"),
    "zaaktype": ("catalogi", "zaaktypen"),
    "statustype": ("catalogi", "statustypen"),
    "roltype": ("catalogi", "roltypen"),
    "resultaattype": ("catalogi", "resultaattypen"),
    "informatieobjecttype": ("catalogi", "informatieobjecttypen"),
    "besluittype": ("catalogi", "besluittypen"),
    "eigenschap": ("catalogi", "eigenschappen"),
    "zaaktypeinformatieobjecttype": ("catalogi", "zaaktype-informatieobjecttypen"),
    "zaak": ("zaken", "zaken"),
    "status": ("zaken", "statussen"),
    "rol": ("zaken", "rollen"),
    "resultaat": ("zaken", "resultaten"),
    "zaakinformatieobject": ("zaken", "zaakinformatieobjecten"),
    "zaakobject": ("zaken", "zaakobjecten"),
    "zaakeigenschap": ("zaken", "zaken/{parent}/zaakeigenschappen"),
    "zaakbesluit": ("zaken", "zaken/{parent}/besluiten"),
    "enkelvoudiginformatieobject": ("documenten", "enkelvoudiginformatieobjecten"),
    "bestandsdeel": ("documenten", "bestandsdelen"),
    "objectinformatieobject": ("documenten", "objectinformatieobjecten"),
    "gebruiksrechten": ("documenten", "gebruiksrechten"),
    "besluit": ("besluiten", "besluiten"),
    "besluitinformatieobject": ("besluiten", "besluitinformatieobjecten"),
}

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PATTERNS: list[tuple[re.Pattern[str], str]] = []
for _kind, (_api, _coll) in KINDS.items():
    _coll_re = re.escape(_coll).replace(re.escape("{parent}"), f"(?P<parent>{_UUID})")
    _PATTERNS.append((re.compile(rf"^{_api}/api/v1/{_coll_re}/(?P<uuid>{_UUID})$"), _kind))


def ref(kind: str, uuid: str, parent: str | None = None) -> str:
    """The stored marker for a resource of this backend."""
    api, coll = KINDS[kind]
    if parent is not None:
        coll = coll.format(parent=parent)
    return f"{MARK}{api}/api/v1/{coll}/{uuid}"


def path(api: str, rest: str) -> str:
    """A marker for any other path of this backend (download links, collection URLs)."""
    return f"{MARK}{api}/api/v1/{rest}"


def uuid_of(marker: str) -> str:
    return marker.rsplit("/", 1)[1]


def kind_of(marker: str) -> str | None:
    match = parse_path(marker[1:]) if marker.startswith(MARK) else None
    return match.kind if match else None


@dataclass(frozen=True)
class Target:
    kind: str
    uuid: str
    parent: str | None = None

    @property
    def marker(self) -> str:
        return ref(self.kind, self.uuid.lower(), self.parent.lower() if self.parent else None)


def parse_path(rel: str) -> Target | None:
    for pattern, kind in _PATTERNS:
        m = pattern.match(rel)
        if m:
            return Target(kind, m["uuid"].lower(), (m.groupdict().get("parent") or None))
    return None


def base_url(request: Request) -> str:
    """Scheme, host, port and mount prefix of this request, with a trailing slash.

    ``request.base_url`` leaves out the mount prefix of a mounted sub-application, so it is built from the scope.
    """
    url = request.url
    root = (request.scope.get("root_path") or "").rstrip("/")
    return f"{url.scheme}://{url.netloc}{root}/"


def _norm_netloc(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme.lower())
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return netloc


def local_target(url: str, base: str) -> Target | None:
    """The resource of this backend a URL points at, or None when it points elsewhere.

    The scheme is not compared (a TLS-terminating proxy may change it); host, port and mount prefix are.
    """
    try:
        parts = urlsplit(url)
        base_parts = urlsplit(base)
    except ValueError:
        return None
    if parts.query or parts.fragment:
        return None
    if _norm_netloc(parts.scheme, parts.netloc) != _norm_netloc(base_parts.scheme, base_parts.netloc):
        return None
    prefix = base_parts.path
    if not parts.path.startswith(prefix):
        return None
    return parse_path(parts.path[len(prefix):])


def absolute(marker: str, base: str) -> str:
    return base + marker[1:] if marker.startswith(MARK) else marker


def render(document: Any, base: str) -> bytes:
    """JSON text of a document with every marker replaced by the base URL."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace('"' + MARK, '"' + json.dumps(base)[1:-1]).encode()
