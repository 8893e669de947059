"""Stage *authorise*: what an authenticated client may do (``clients:``: its ``zenders``, ``operations`` and
``zaaktypen``). It runs after *route*, when the operation, the stuurgegevens and what the message is about (its
zaak, zaaktype, documents) are known, and before *validate*, *claim* and *handle*: a refused message writes nothing.

* A zender the client may not act as, an operation it may not use, or a zaaktype outside its list: Fo02/Fo03 with
  StUF052 (reason ``not-authorised``). The zaaktype of a message that names only a zaak, document or besluit is
  looked up in ZGW (as the routing table does); a zaak that is not there is refused the same way as a zaak of
  another zaaktype, so the fault never tells whether a zaak exists.
* Reads are scoped instead of refused: a question about a zaak (or its document, besluit) of a zaaktype outside the
  list is answered with a La01 without antwoord, as for a zaak that does not exist; a question that names no zaak
  (zaken by initiator) gets only the zaken of the client's zaaktypen.
"""

from __future__ import annotations

from typing import Any

import structlog
from lxml import etree

from ..errors import NotAuthorised
from ..operations.common import la01
from ..routing.router import _zgw_zaaktype, _zgw_zaaktype_of_document, _zaaktype_code
from ..security.audit import Acting, acting
from ..security.authenticate import Client
from ..security.config import ANY
from ..stuf.namespaces import STUF, ZKN
from ..stuf.registry import Operation
from ..stuf.stuurgegevens import Stuurgegevens
from ..zgw import CatalogueLookupError, ZgwClients, ZgwNotFound
from .exchange import Exchange, Next

log = structlog.get_logger(__name__)

_ENTITEITTYPE = f"{{{STUF}}}entiteittype"
_CREATES_ZAAK = "creeerZaak"
#: operations about no zaak at all (identifiers, acknowledgements): only the zender and operation are checked
_NO_ZAAK = frozenset({"genereerZaakIdentificatie", "genereerDocumentIdentificatie", "genereerBesluitIdentificatie",
                      "ontvangBv03", "ontvangFo01", "ontvangFo03"})


def zender_allowed(patterns: list[str], organisatie: str | None, applicatie: str | None) -> bool:
    org, app = organisatie or "", applicatie or ""
    for pattern in patterns:
        if pattern == ANY:
            return True
        p_org, _, p_app = pattern.partition("/")
        if p_org in (ANY, org) and p_app in (ANY, app):
            return True
    return False


def operation_allowed(patterns: list[str], op: Operation) -> bool:
    return ANY in patterns or op.function in patterns or op.name in patterns


class Authorise:
    name = "authorise"

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        op, sg = x.operation, x.stuurgegevens
        assert op is not None and sg is not None and x.subject is not None
        zender = sg.zender
        who = Acting(op.function, f"{zender.organisatie or ''}/{zender.applicatie or ''}" if zender else None,
                     sg.referentienummer, zender.gebruiker if zender else None,
                     x.client.name if x.client is not None else None)
        with acting(who):  # every ZGW write made for the message says who it is for (X-Audit-Toelichting)
            await self._authorised(x, op, sg, call_next)

    async def _authorised(self, x: Exchange, op: Operation, sg: Stuurgegevens, call_next: Next) -> None:
        client = x.client
        if client is None:
            await call_next(x)
            return
        assert x.subject is not None
        allowed = client.settings
        zender = sg.zender
        if not zender_allowed(allowed.zenders, zender.organisatie if zender else None,
                              zender.applicatie if zender else None):
            shown = f"{zender.organisatie or ''}/{zender.applicatie or ''}" if zender else "(geen zender)"
            self._refuse(x, client, "zender", f"Client {client.name} mag niet als zender {shown[:120]} optreden.")
        if not operation_allowed(allowed.operations, op):
            self._refuse(x, client, "operation", f"Client {client.name} mag {op.function} niet gebruiken.")
        if ANY in allowed.zaaktypen or op.function in _NO_ZAAK:
            await call_next(x)
            return
        zaaktypen = set(allowed.zaaktypen)
        subject = x.subject
        named = bool(subject.zaak or subject.documenten or subject.besluiten)
        # The message's own word for the zaaktype counts only where it creates the zaak: anywhere else a client could
        # name an allowed zaaktype for a zaak of another one. Otherwise the zaak's zaaktype as the routing table knows
        # it (its registry, ZGW, legacy), else from ZGW.
        creates = op.function == _CREATES_ZAAK
        route = x.route
        zaaktype = subject.zaaktype if creates else None
        if zaaktype is None and route is not None and route.zaaktype_source not in (None, "message"):
            zaaktype = route.zaaktype
        if zaaktype is None and named and not creates:
            zaaktype = await self._zaaktype(x)
        is_read = op.berichtcode == "Lv01"
        if is_read and not named and zaaktype is None:  # a search: answered, then filtered
            await call_next(x)
            if x.answer is not None:
                await self._filter(x, zaaktypen)
            return
        if zaaktype in zaaktypen:
            await call_next(x)
            return
        if is_read:  # as for a zaak that is not there
            log.info("authorisation_scoped", client=client.name, operation=op.name, zaaktype=zaaktype)
            x.answer = la01(x.context, self._entiteittype(x))
            return
        self._refuse(x, client, "zaaktype",
                     f"Client {client.name} mag {op.function} niet uitvoeren voor deze zaak of dit zaaktype.")

    @staticmethod
    def _refuse(x: Exchange, client: Client, what: str, details: str) -> None:
        log.info("authorisation_refused", client=client.name, what=what,
                 operation=x.operation.name if x.operation else None)
        raise NotAuthorised("Het zendende systeem is niet geautoriseerd voor dit bericht", details)

    @staticmethod
    def _entiteittype(x: Exchange) -> str:
        assert x.request is not None and x.operation is not None
        for element in x.request.body:
            if isinstance(element.tag, str) and element.get(_ENTITEITTYPE) and etree.QName(element).localname in (
                    "gelijk", "object"):
                return str(element.get(_ENTITEITTYPE))
        return x.operation.entiteittype or "ZAK"

    @staticmethod
    async def _zaaktype(x: Exchange) -> str | None:
        """The zaaktype of the zaak the message is about, from ZGW; None when it cannot be told (no such zaak)."""
        zgw = x.env.zgw
        subject = x.subject
        if zgw is None or subject is None:
            return None
        try:
            if subject.zaak:
                return await _zgw_zaaktype(zgw, subject.zaak)
            if subject.documenten:
                return await _zgw_zaaktype_of_document(zgw, subject.documenten[0])
            if subject.besluiten:
                return await _zaaktype_of_besluit(zgw, subject.besluiten[0])
        except (ZgwNotFound, CatalogueLookupError):
            return None
        return None

    @staticmethod
    async def _filter(x: Exchange, zaaktypen: set[str]) -> None:
        """Drop the answer's zaken of other zaaktypen (a search by initiator or another property)."""
        assert x.answer is not None
        zgw = x.env.zgw
        for antwoord in x.answer.iter(f"{{{ZKN}}}antwoord"):
            for obj in list(antwoord):
                if not isinstance(obj.tag, str) or obj.get(_ENTITEITTYPE) != "ZAK":
                    continue
                code = (obj.findtext(f"{{{ZKN}}}isVan/{{{ZKN}}}gerelateerde/{{{ZKN}}}code") or "").strip() or None
                identificatie = (obj.findtext(f"{{{ZKN}}}identificatie") or "").strip()
                if code is None and identificatie and zgw is not None:
                    code = await _zgw_zaaktype(zgw, identificatie)
                if code not in zaaktypen:
                    antwoord.remove(obj)
        for antwoord in list(x.answer.iter(f"{{{ZKN}}}antwoord")):
            if not any(isinstance(child.tag, str) for child in antwoord):
                parent = antwoord.getparent()
                if parent is not None:
                    parent.remove(antwoord)


async def _zaaktype_of_besluit(zgw: ZgwClients, besluit: str) -> str | None:
    found = await zgw.besluiten.list("besluiten", {"identificatie": besluit}, max_items=10)
    zaken = {str(item["zaak"]) for item in found if item.get("identificatie") == besluit and item.get("zaak")}
    if len(zaken) != 1:
        return None
    zaak: dict[str, Any] = await zgw.get(zaken.pop())
    return await _zaaktype_code(zgw, str(zaak["zaaktype"])) if zaak.get("zaaktype") else None
