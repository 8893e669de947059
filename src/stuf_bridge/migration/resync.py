"""``reconcile --repair`` for a zaak whose primary is ZGW: the legacy side is re-synced from ZGW.

Whose side is right follows the routing: a cut-over zaaktype (``routing_overrides``), a zaak pinned to a route with
primary zgw, or (for a zaak not pinned) the routing table's rule for the zaaktype with primary zgw. For such a zaak,
``--repair`` changes legacy, never ZGW, with the messages a ZDS client would send (each with the gateway's own
zender and a fresh referentienummer):

* **only in ZGW**: ZGW's geefZaakdetails answer (scope alles, through the gateway's translate flow) becomes a
  ``creeerZaak`` sent to legacy (with its rollen, resultaat and statussen), as the outbox would have sent it; its
  zaaktype code is legacy's own where ``migration.zaaktypen`` maps exactly one legacy code to that zaaktype;
* **different kerngegevens** (``omschrijving``, ``toelichting``, ``startdatum``, ``einddatumGepland``,
  ``einddatum``): an ``updateZaak`` with legacy's current values as the old object and ZGW's as the new one;
* **different resultaat or rollen** (``resultaat``, ``rollen.heeftAlsX``): one ``updateZaak`` (STUF §5.2 was/wordt):
  the resultaat legacy has (or ``geenWaarde``) as old and ZGW's as new; per rol relation, each betrokkene legacy has
  and ZGW lacks as verwerkingssoort ``V`` (its kerngegevens in the old object, an empty relation with
  ``geenWaarde`` in the new), each one ZGW has and legacy lacks as ``T`` (the reverse). It goes first, before the
  kerngegevens and the statussen: an einddatum or an eindstatus closes the zaak, which needs the resultaat;
* **statussen ZGW has and legacy lacks** (by volgnummer and datumStatusGezet): an ``actualiseerZaakstatus`` each,
  oldest first; a zaak ZGW closed is closed in legacy by its eindstatus (the einddatum is then left out of the
  kerngegevens' updateZaak, which would close it a second time);
* **documents ZGW has and legacy lacks**: each read from ZGW (geefZaakdocumentLezen through the translate flow,
  its answer **streamed** into the gateway's reader, which spools the ``inhoud`` to disk) and sent to legacy as a
  ``voegZaakdocumentToe`` whose body is **streamed** from that spool, base64 piece by piece (``answer_reply``, as
  the copy into ZGW does): a document is never whole in memory;
* **besluiten ZGW has and legacy lacks** (by identificatie): after the documents they are recorded in, each read
  from ZGW (geefBesluitdetails, ZDS 1.2, through the translate flow; else the ``leidtTot`` relation's own fields)
  and sent to legacy as a ``voegBesluitToe_Di01`` (ZDS 1.2) with its ``isVastgelegdIn`` documents.

Not repaired (reported, with their field names): a resultaat ZGW lacks while legacy has one (ZDS has no message
that removes a resultaat that every legacy system honours), a besluit legacy has and ZGW lacks or one whose
datumBeslissing differs (ZDS has no message that removes a besluit), and a status or a document legacy has and ZGW
lacks.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree

from ..gateway import parse_answer
from ..legacy.client import Body, LegacyClient
from ..pipeline.answer import answer_reply
from ..soap.envelope import SoapVersion, envelope
from ..stuf.namespaces import STUF, XSI, ZDS, ZKN
from ..stuf.registry import Service
from .copy import CONTENT_TYPE, NOT_IN_HEEFT, CopyFailed, ZaakCopier, _pieces
from .digest import ROLLEN, _betrokkene
from .source import ACTIONS, ACTIONS_12, LegacyZaak, question, read_document, z
from .zaaktypen import CODE_MAX

#: The kerngegevens an updateZaak re-syncs, in the order of the ZAK object.
KERN_IN_ORDER = ("omschrijving", "toelichting", "startdatum", "einddatumGepland", "einddatum")
#: The rol relations in the order of the ZAK object (ZAK-basis in zkn0310_ent_basis.xsd).
ROLLEN_IN_ORDER = ("heeftAlsBelanghebbende", "heeftAlsGemachtigde", "heeftAlsInitiator", "heeftAlsUitvoerende",
                   "heeftAlsVerantwoordelijke", "heeftAlsOverigBetrokkene")
assert set(ROLLEN_IN_ORDER) == set(ROLLEN)
NIL = {f"{{{XSI}}}nil": "true", f"{{{STUF}}}noValue": "geenWaarde"}


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
            code = obj.find(f"{z('isVan')}/{z('gerelateerde')}/{z('code')}")
            if code is not None:  # ZGW's identificatie as ZDS carries it (cut to 10): legacy's own code, if mapped
                code.text = self._legacy_code((code.text or "").strip())
            message = self.copier._creeer(obj, LegacyZaak(zgw_object, None))  # noqa: SLF001
            await self._send(message, "creeerZaak_Lk01", f"creeerZaak {identificatie} naar legacy")
            done.append("creeerZaak")
        else:
            # the resultaat first: an einddatum (kerngegevens) or an eindstatus closes the zaak, which needs it
            update = self._betrokkenen(identificatie, legacy.object, zgw_object, fields)
            if update is not None:
                message, what = update
                await self._send(message, "updateZaak_Lk01", f"updateZaak {identificatie} naar legacy")
                done.append(f"updateZaak ({', '.join(what)})")
            missing: list[etree._Element] = []
            if "statussen.count" in fields or "statussen.last" in fields:
                known = {_status_key(heeft) for heeft in legacy.object.iterfind(z("heeft"))}
                missing = sorted((heeft for heeft in zgw_object.iterfind(z("heeft"))
                                  if _status_key(heeft) not in known), key=lambda heeft: _status_key(heeft)[1])
            # a zaak ZGW closed: its eindstatus (among the missing statussen) closes it in legacy too, on its own
            # date; an einddatum sent as well would close it a second time with an eindstatus of legacy's making
            changed = [name for name in KERN_IN_ORDER if name in fields and not (name == "einddatum" and missing)]
            if changed:
                await self._send(self._update(identificatie, legacy.object, zgw_object, changed), "updateZaak_Lk01",
                                 f"updateZaak {identificatie} naar legacy")
                done.append(f"updateZaak ({', '.join(changed)})")
            if missing:
                for heeft in missing:  # oldest first, as they were set
                    await self._send(self._status(identificatie, heeft), "actualiseerZaakstatus_Lk01",
                                     f"actualiseerZaakstatus {identificatie} naar legacy")
                    done.append(f"actualiseerZaakstatus {_status_key(heeft)[0]}")
        for name in zgw_documents:
            if name not in legacy_documents:
                await self._document(name, identificatie)
                done.append(f"voegZaakdocumentToe {name}")
        known_besluiten = {_besluit_name(el) for el in legacy.object.iterfind(z("leidtTot"))} if legacy else set()
        for relation in zgw_object.iterfind(z("leidtTot")):
            name = _besluit_name(relation)
            if name and name not in known_besluiten:
                await self._besluit(name, relation, identificatie)
                known_besluiten.add(name)
                done.append(f"voegBesluitToe {name}")
        return done

    def _legacy_code(self, code: str) -> str:
        """Legacy's own zaaktype code for the (cut) code of ZGW's answer: the one ``migration.zaaktypen`` code whose
        ZGW identificatie that is; else the code as ZGW's answer gives it."""
        mapped = {legacy for legacy, target in self.copier.zaaktypen.explicit.items() if target[:CODE_MAX] == code}
        return mapped.pop() if len(mapped) == 1 else code

    # --- resultaat and rollen ---------------------------------------------------------------------------------

    def _betrokkenen(self, identificatie: str, old_source: etree._Element, new_source: etree._Element,
                     fields: list[str]) -> tuple[etree._Element, list[str]] | None:
        """One updateZaak for a differing resultaat (ZGW has one) and differing rollen; None when neither."""
        old_obj = _zaak_object(identificatie)
        new_obj = _zaak_object(identificatie)
        what: list[str] = []
        resultaat = new_source.find(z("resultaat"))
        if "resultaat" in fields and resultaat is not None and (resultaat.findtext(z("omschrijving")) or "").strip():
            before = old_source.find(z("resultaat"))
            old_obj.append(deepcopy(before) if before is not None else etree.Element(z("resultaat"), NIL))
            new_obj.append(deepcopy(resultaat))
            what.append("resultaat")
        for relation in ROLLEN_IN_ORDER:
            if f"rollen.{relation}" not in fields:
                continue
            legacy_rollen = {_betrokkene(el): el for el in old_source.iterfind(z(relation)) if _betrokkene(el)}
            zgw_rollen = {_betrokkene(el): el for el in new_source.iterfind(z(relation)) if _betrokkene(el)}
            gone = [el for key, el in legacy_rollen.items() if key not in zgw_rollen]
            added = [el for key, el in zgw_rollen.items() if key not in legacy_rollen]
            for el in gone:  # the rol legacy has and ZGW not: V, its betrokkene in the old object
                old_obj.append(_rol(el, "V"))
                new_obj.append(_empty_rol(el, "V"))
            for el in added:  # the rol ZGW has and legacy not: T, its betrokkene in the new object
                old_obj.append(_empty_rol(el, "T"))
                new_obj.append(_rol(el, "T"))
            if gone or added:
                what.append(f"rollen.{relation}")
        if not what:
            return None
        return _lk01("W", self.copier._stuurgegevens("Lk01", "ZAK", None), old_obj, new_obj), what  # noqa: SLF001

    def _update(self, identificatie: str, old_source: etree._Element, new_source: etree._Element,
                changed: list[str]) -> etree._Element:
        objects = []
        for source in (old_source, new_source):
            obj = _zaak_object(identificatie)
            for name in changed:
                value = source.find(z(name))
                if value is not None and (value.text or "").strip():
                    obj.append(deepcopy(value))
                else:
                    etree.SubElement(obj, z(name), {f"{{{XSI}}}nil": "true", f"{{{STUF}}}noValue": "geenWaarde"})
            objects.append(obj)
        return _lk01("W", self.copier._stuurgegevens("Lk01", "ZAK", None), *objects)  # noqa: SLF001

    def _status(self, identificatie: str, source: etree._Element) -> etree._Element:
        """An actualiseerZaakstatus: the old object with a nil heeft, the new one with ZGW's status."""
        old, new = _zaak_object(identificatie), _zaak_object(identificatie)
        etree.SubElement(old, z("heeft"), {f"{{{STUF}}}entiteittype": "ZAKSTT", f"{{{STUF}}}verwerkingssoort": "W",
                                           f"{{{XSI}}}nil": "true", f"{{{STUF}}}noValue": "geenWaarde"})
        heeft = deepcopy(source)
        for name in NOT_IN_HEEFT:
            for el in heeft.findall(z(name)):
                heeft.remove(el)
        heeft.attrib.update({f"{{{STUF}}}entiteittype": "ZAKSTT", f"{{{STUF}}}verwerkingssoort": "T"})
        gerelateerde = heeft.find(z("gerelateerde"))
        if gerelateerde is not None:
            gerelateerde.set(f"{{{STUF}}}verwerkingssoort", "I")
        new.append(heeft)
        return _lk01("W", self.copier._stuurgegevens("Lk01", "ZAK", None), old, new)  # noqa: SLF001

    # --- documents and besluiten ------------------------------------------------------------------------------

    async def _document(self, name: str, zaak: str) -> None:
        """The document from ZGW to legacy, streamed both ways: ZGW's answer into a spool, the spool into the
        voegZaakdocumentToe's body (base64 piece by piece) — never a whole document in memory."""
        ask = question(self.copier.identity, "edcLv01", "EDC", name,
                       '<ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/>')
        reply = await self.copier.replica.handle_stream(Service.BEANTWOORD_VRAAG, _pieces(ask),
                                                        content_type=CONTENT_TYPE,
                                                        soap_action=f'"{ACTIONS}geefZaakdocumentLezen_Lv01"')
        chunks = reply.stream if reply.stream is not None else _pieces(reply.body)
        if reply.status != 200:
            if reply.stream is not None:
                await _drain(reply.stream)
            raise CopyFailed(f"document {name}: ZGW geeft het niet (HTTP {reply.status})")
        try:
            document = await read_document(chunks, reply.content_type, name, self.legacy.limits,
                                           "ZGW (geefZaakdocumentLezen)", reply.status)
        finally:
            await _drain(chunks)
        if document is None:
            raise CopyFailed(f"document {name}: ZGW geeft het niet")
        with document:
            message, outbound = self.copier._voeg(document, zaak)  # noqa: SLF001
            body = await answer_reply(SoapVersion.SOAP11, message, outbound)
            streamed: Body = body.stream if body.stream is not None else body.body
            await self._send_body(streamed, body.length if body.stream is not None else None,
                                  "voegZaakdocumentToe_Lk01", f"voegZaakdocumentToe {name} naar legacy")

    async def _besluit(self, name: str, relation: etree._Element, zaak: str) -> None:
        """A besluit ZGW has and legacy lacks, as ZGW's geefBesluitdetails gives it (else the relation's own
        fields), sent to legacy as a voegBesluitToe_Di01."""
        ask = question(self.copier.identity, "geefBesluitdetails_BslLv01", "BSL", name,
                       '<ZKN:object StUF:entiteittype="BSL" StUF:scope="alles"/>', namespace=ZDS)
        reply = await self.copier.replica.handle(Service.BEANTWOORD_VRAAG, ask, content_type=CONTENT_TYPE,
                                                 soap_action=f'"{ACTIONS_12}geefBesluitdetails_BslLv01"')
        besluit = None
        if reply.status == 200:
            besluit = next((obj for obj in parse_answer(reply.body).iterfind(f"{z('antwoord')}/{z('object')}")
                            if (obj.findtext(z("identificatie")) or "").strip() == name), None)
        if besluit is None:
            besluit = relation.find(z("gerelateerde"))
        if besluit is None:
            raise CopyFailed(f"besluit {name}: ZGW geeft het niet")
        message = self.copier._voeg_besluit(besluit, zaak)  # noqa: SLF001
        await self._send(message, "voegBesluitToe_Di01", f"voegBesluitToe {name} naar legacy", actions=ACTIONS_12)

    # --- sending ----------------------------------------------------------------------------------------------

    async def _send(self, message: etree._Element, action: str, what: str, *, actions: str = ACTIONS) -> None:
        await self._send_body(envelope(SoapVersion.SOAP11, message), None, action, what, actions=actions)

    async def _send_body(self, body: Body, length: int | None, action: str, what: str, *,
                         actions: str = ACTIONS) -> None:
        answer = await self.legacy.call(Service.ONTVANG_ASYNCHROON, body, soap_action=f'"{actions}{action}"',
                                        content_type=CONTENT_TYPE, length=length)
        try:
            if answer.fault is not None or not 200 <= answer.status < 300:
                detail = f"{answer.fault.code} {answer.fault.omschrijving}" if answer.fault else f"HTTP {answer.status}"
                raise CopyFailed(f"{what}: {detail}")
        finally:
            answer.close()


def _zaak_object(identificatie: str) -> etree._Element:
    obj = etree.Element(z("object"), {f"{{{STUF}}}entiteittype": "ZAK", f"{{{STUF}}}verwerkingssoort": "W"})
    etree.SubElement(obj, z("identificatie")).text = identificatie
    return obj


def _lk01(mutatiesoort: str, stuurgegevens: etree._Element, *objects: etree._Element) -> etree._Element:
    message = etree.Element(z("zakLk01"), nsmap={"ZKN": ZKN, "StUF": STUF, "xsi": XSI})
    message.append(stuurgegevens)
    parameters = etree.SubElement(message, z("parameters"))
    etree.SubElement(parameters, f"{{{STUF}}}mutatiesoort").text = mutatiesoort
    etree.SubElement(parameters, f"{{{STUF}}}indicatorOvername").text = "V"
    message.extend(objects)
    return message


def _rol(source: etree._Element, soort: str) -> etree._Element:
    """A rol relation as an answer gave it, with verwerkingssoort ``soort``; its betrokkene is identified (I)."""
    rol = deepcopy(source)
    rol.set(f"{{{STUF}}}verwerkingssoort", soort)
    for gerelateerde in rol.iterfind(z("gerelateerde")):
        for entity in gerelateerde:
            if isinstance(entity.tag, str) and entity.get(f"{{{STUF}}}entiteittype"):
                entity.set(f"{{{STUF}}}verwerkingssoort", "I")
    return rol


def _empty_rol(source: etree._Element, soort: str) -> etree._Element:
    """The empty counterpart of a rol relation in the other object (STUF §5.2): nil, geenWaarde."""
    attrib = {f"{{{STUF}}}entiteittype": source.get(f"{{{STUF}}}entiteittype") or "",
              f"{{{STUF}}}verwerkingssoort": soort, **NIL}
    return etree.Element(source.tag, {k: v for k, v in attrib.items() if v})


def _besluit_name(relation: etree._Element) -> str:
    return (relation.findtext(f"{z('gerelateerde')}/{z('identificatie')}") or "").strip()


async def _drain(stream: object) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def _status_key(heeft: etree._Element) -> tuple[str, str]:
    """(volgnummer, datumStatusGezet to the second, digits only): a status the same on both sides."""
    volgnummer = (heeft.findtext(f"{z('gerelateerde')}/{z('volgnummer')}") or "").strip()
    gezet = "".join(ch for ch in (heeft.findtext(z("datumStatusGezet")) or "") if ch.isdigit())[:14]
    return volgnummer, gezet
