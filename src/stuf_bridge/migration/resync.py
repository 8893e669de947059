"""``reconcile --repair`` for a zaak whose primary is ZGW: the legacy side is re-synced from ZGW.

Whose side is right follows the routing: a cut-over zaaktype (``routing_overrides``), a zaak pinned to a route with
primary zgw, or (for a zaak not pinned) the routing table's rule for the zaaktype with primary zgw. For such a zaak,
``--repair`` changes legacy, never ZGW:

* **only in ZGW**: ZGW's geefZaakdetails answer (scope alles, through the gateway's translate flow) becomes a
  ``creeerZaak`` sent to legacy (with the gateway's own zender and a fresh referentienummer), as the outbox would
  have sent it;
* **different kerngegevens** (``omschrijving``, ``toelichting``, ``startdatum``, ``einddatumGepland``,
  ``einddatum``): an ``updateZaak`` with legacy's current values as the old object and ZGW's as the new one;
* **statussen ZGW has and legacy lacks** (by volgnummer and datumStatusGezet): an ``actualiseerZaakstatus`` each,
  oldest first;
* **documents ZGW has and legacy lacks**: each read from ZGW (geefZaakdocumentLezen through the translate flow)
  and sent to legacy as a ``voegZaakdocumentToe``. Such a document is held in memory whole while it is passed on
  (a repair is rare and deliberate; the copy into ZGW streams).

Other differences (rollen, resultaat, besluiten, a status or a document legacy has and ZGW lacks) are reported as
not repaired, with their field names: re-creating them in legacy through updateZaak is not built.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree

from ..gateway import parse_answer
from ..legacy.client import LegacyClient
from ..soap.envelope import SoapVersion, envelope
from ..stuf.namespaces import STUF, XSI, ZKN
from ..stuf.registry import Service
from .copy import CONTENT_TYPE, NOT_IN_HEEFT, NOT_IN_VOEG, CopyFailed, ZaakCopier
from .source import ACTIONS, LegacyZaak, question, z

#: The kerngegevens an updateZaak re-syncs, in the order of the ZAK object.
KERN_IN_ORDER = ("omschrijving", "toelichting", "startdatum", "einddatumGepland", "einddatum")


class LegacyResync:
    def __init__(self, copier: ZaakCopier, legacy: LegacyClient):
        self.copier = copier
        self.legacy = legacy

    async def resync(self, identificatie: str, zgw_object: etree._Element, legacy: LegacyZaak | None,
                     fields: list[str], zgw_documents: list[str], legacy_documents: list[str]) -> list[str]:
        """Bring legacy in line with ZGW's ``zgw_object``; what was done, one phrase each."""
        done: list[str] = []
        if legacy is None:
            obj, _ = await self.copier._creeer_object(LegacyZaak(zgw_object, None))  # noqa: SLF001
            for name in ("heeftAlsHoofdzaak", "heeftAlsDeelzaak", "heeftBetrekkingOpAndere"):
                for el in obj.findall(z(name)):
                    obj.remove(el)
            message = self.copier._creeer(obj, LegacyZaak(zgw_object, None))  # noqa: SLF001
            await self._send(message, "creeerZaak_Lk01", f"creeerZaak {identificatie} naar legacy")
            done.append("creeerZaak")
        else:
            changed = [name for name in KERN_IN_ORDER if name in fields]
            if changed:
                await self._send(self._update(identificatie, legacy.object, zgw_object, changed), "updateZaak_Lk01",
                                 f"updateZaak {identificatie} naar legacy")
                done.append(f"updateZaak ({', '.join(changed)})")
            if "statussen.count" in fields or "statussen.last" in fields:
                known = {_status_key(heeft) for heeft in legacy.object.iterfind(z("heeft"))}
                missing = sorted((heeft for heeft in zgw_object.iterfind(z("heeft"))
                                  if _status_key(heeft) not in known), key=lambda heeft: _status_key(heeft)[1])
                for heeft in missing:  # oldest first, as they were set
                    await self._send(self._status(identificatie, heeft), "actualiseerZaakstatus_Lk01",
                                     f"actualiseerZaakstatus {identificatie} naar legacy")
                    done.append(f"actualiseerZaakstatus {_status_key(heeft)[0]}")
        for name in zgw_documents:
            if name not in legacy_documents:
                await self._document(name, identificatie)
                done.append(f"voegZaakdocumentToe {name}")
        return done

    def _update(self, identificatie: str, old_source: etree._Element, new_source: etree._Element,
                changed: list[str]) -> etree._Element:
        message = etree.Element(z("zakLk01"), nsmap={"ZKN": ZKN, "StUF": STUF, "xsi": XSI})
        message.append(self.copier._stuurgegevens("Lk01", "ZAK", None))  # noqa: SLF001
        parameters = etree.SubElement(message, z("parameters"))
        etree.SubElement(parameters, f"{{{STUF}}}mutatiesoort").text = "W"
        etree.SubElement(parameters, f"{{{STUF}}}indicatorOvername").text = "V"
        for source in (old_source, new_source):
            obj = etree.SubElement(message, z("object"), {f"{{{STUF}}}entiteittype": "ZAK",
                                                         f"{{{STUF}}}verwerkingssoort": "W"})
            etree.SubElement(obj, z("identificatie")).text = identificatie
            for name in changed:
                value = source.find(z(name))
                if value is not None and (value.text or "").strip():
                    obj.append(deepcopy(value))
                else:
                    etree.SubElement(obj, z(name), {f"{{{XSI}}}nil": "true", f"{{{STUF}}}noValue": "geenWaarde"})
        return message

    def _status(self, identificatie: str, source: etree._Element) -> etree._Element:
        """An actualiseerZaakstatus: the old object with a nil heeft, the new one with ZGW's status."""
        message = etree.Element(z("zakLk01"), nsmap={"ZKN": ZKN, "StUF": STUF, "xsi": XSI})
        message.append(self.copier._stuurgegevens("Lk01", "ZAK", None))  # noqa: SLF001
        parameters = etree.SubElement(message, z("parameters"))
        etree.SubElement(parameters, f"{{{STUF}}}mutatiesoort").text = "W"
        etree.SubElement(parameters, f"{{{STUF}}}indicatorOvername").text = "V"
        for new in (False, True):
            obj = etree.SubElement(message, z("object"), {f"{{{STUF}}}entiteittype": "ZAK",
                                                         f"{{{STUF}}}verwerkingssoort": "W"})
            etree.SubElement(obj, z("identificatie")).text = identificatie
            if not new:
                etree.SubElement(obj, z("heeft"), {f"{{{STUF}}}entiteittype": "ZAKSTT",
                                                  f"{{{STUF}}}verwerkingssoort": "W", f"{{{XSI}}}nil": "true",
                                                  f"{{{STUF}}}noValue": "geenWaarde"})
                continue
            heeft = deepcopy(source)
            for name in NOT_IN_HEEFT:
                for el in heeft.findall(z(name)):
                    heeft.remove(el)
            heeft.attrib.update({f"{{{STUF}}}entiteittype": "ZAKSTT", f"{{{STUF}}}verwerkingssoort": "T"})
            gerelateerde = heeft.find(z("gerelateerde"))
            if gerelateerde is not None:
                gerelateerde.set(f"{{{STUF}}}verwerkingssoort", "I")
            obj.append(heeft)
        return message

    async def _document(self, name: str, zaak: str) -> None:
        ask = question(self.copier.identity, "edcLv01", "EDC", name,
                       '<ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/>')
        reply = await self.copier.replica.handle(Service.BEANTWOORD_VRAAG, ask, content_type=CONTENT_TYPE,
                                                 soap_action=f'"{ACTIONS}geefZaakdocumentLezen_Lv01"')
        if reply.status != 200:
            raise CopyFailed(f"document {name}: ZGW geeft het niet (HTTP {reply.status})")
        found = parse_answer(reply.body).find(f"{z('antwoord')}/{z('object')}")
        if found is None:
            raise CopyFailed(f"document {name}: ZGW geeft het niet")
        obj = deepcopy(found)
        for extra in NOT_IN_VOEG:
            for el in obj.findall(z(extra)):
                obj.remove(el)
        for old in obj.findall(z("isRelevantVoor")):
            obj.remove(old)
        obj.set(f"{{{STUF}}}verwerkingssoort", "T")
        relevant = etree.SubElement(obj, z("isRelevantVoor"), {f"{{{STUF}}}entiteittype": "EDCZAK",
                                                               f"{{{STUF}}}verwerkingssoort": "T"})
        gerelateerde = etree.SubElement(relevant, z("gerelateerde"), {f"{{{STUF}}}entiteittype": "ZAK",
                                                                      f"{{{STUF}}}verwerkingssoort": "I"})
        etree.SubElement(gerelateerde, z("identificatie")).text = zaak
        message = etree.Element(z("edcLk01"), nsmap={"ZKN": ZKN, "StUF": STUF})
        message.append(self.copier._stuurgegevens("Lk01", "EDC", None))  # noqa: SLF001
        parameters = etree.SubElement(message, z("parameters"))
        etree.SubElement(parameters, f"{{{STUF}}}mutatiesoort").text = "T"
        etree.SubElement(parameters, f"{{{STUF}}}indicatorOvername").text = "V"
        message.append(obj)
        await self._send(message, "voegZaakdocumentToe_Lk01", f"voegZaakdocumentToe {name} naar legacy")

    async def _send(self, message: etree._Element, action: str, what: str) -> None:
        body = envelope(SoapVersion.SOAP11, message)
        answer = await self.legacy.call(Service.ONTVANG_ASYNCHROON, body, soap_action=f'"{ACTIONS}{action}"',
                                        content_type=CONTENT_TYPE)
        try:
            if answer.fault is not None or not 200 <= answer.status < 300:
                detail = f"{answer.fault.code} {answer.fault.omschrijving}" if answer.fault else f"HTTP {answer.status}"
                raise CopyFailed(f"{what}: {detail}")
        finally:
            answer.close()


def _status_key(heeft: etree._Element) -> tuple[str, str]:
    """(volgnummer, datumStatusGezet to the second, digits only): a status the same on both sides."""
    volgnummer = (heeft.findtext(f"{z('gerelateerde')}/{z('volgnummer')}") or "").strip()
    gezet = "".join(ch for ch in (heeft.findtext(z("datumStatusGezet")) or "") if ch.isdigit())[:14]
    return volgnummer, gezet
