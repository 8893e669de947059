"""The kennisgevingen as built: each operation of each profile valid against the project's schemas and against the
official StUF-ZKN 3.10 schemas (skipped without ``../shared``), with was/wordt as STUF §5 wants it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from stuf_bridge.mapping import Mappings
from stuf_bridge.notifications.config import SubscriberSettings
from stuf_bridge.notifications.messages import Kennisgeving, Sender, base64_stream, tijdstip
from stuf_bridge.notifications.state import Planner, ZaakState
from stuf_bridge.stuf.namespaces import STUF, ZKN
from stuf_bridge.stuf.validation import Schemas
from tests.support.reference import require_shared, shared_dir

ZAAK = {"url": "http://zgw.test/zaken/api/v1/zaken/1", "identificatie": "0363ZK-00001", "bronorganisatie": "002564440",
        "omschrijving": "Losse stoeptegel", "toelichting": "Bij de bushalte", "zaaktype": "http://zgw.test/zt/1",
        "registratiedatum": "2024-11-05", "startdatum": "2024-11-05", "einddatumGepland": "2024-12-05",
        "einddatum": None, "status": "http://zgw.test/s/2", "resultaat": None, "kenmerken": [], "_resultaat": {}}
ZAAKTYPE = {"identificatie": "MELDING-OR", "omschrijving": "Melding openbare ruimte"}
STATUSSEN = [{"url": f"http://zgw.test/s/{n}", "datumStatusGezet": f"2024-11-0{n + 5}T10:00:00Z",
              "statustoelichting": f"stap {n}", "_expand": {"statustype": {"omschrijving": name, "volgnummer": n}}}
             for n, name in ((1, "Ontvangen"), (2, "In behandeling"))]
EIO = {"url": "http://zgw.test/eio/1", "identificatie": "0363DOC-00001", "titel": "Foto", "creatiedatum": "2024-11-05",
       "formaat": "image/jpeg", "bestandsnaam": "foto.jpg", "taal": "nld", "vertrouwelijkheidaanduiding": "openbaar",
       "auteur": "Melder", "informatieobjecttype": "http://zgw.test/iot/1", "inhoud": "http://zgw.test/eio/1/download",
       "bestandsomvang": 4}
ROLLEN = [{"url": "http://zgw.test/rol/1", "zaak": ZAAK["url"], "betrokkeneType": "natuurlijk_persoon",
           "roltype": "http://zgw.test/rt/1", "omschrijving": "Initiator", "omschrijvingGeneriek": "initiator",
           "roltoelichting": "Melder", "registratiedatum": "2024-11-05T10:00:00Z",
           "betrokkeneIdentificatie": {"inpBsn": "999993653", "geslachtsnaam": "Visser", "voorletters": "M.A."}}]
BELANGHEBBENDE = {**ROLLEN[0], "url": "http://zgw.test/rol/2", "omschrijving": "Belanghebbende",
                  "omschrijvingGeneriek": "belanghebbende", "registratiedatum": "2024-11-06T10:00:00Z",
                  "betrokkeneIdentificatie": {"inpBsn": "999990019", "geslachtsnaam": "Jansen"}}
ZIO = {"url": "http://zgw.test/zio/1", "zaak": ZAAK["url"], "informatieobject": EIO["url"],
       "registratiedatum": "2024-11-05T10:00:00Z"}


async def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def iot(url: str) -> dict[str, Any]:
    return {"omschrijving": "Melding", "informatieobjectcategorie": "foto"}


def subscriber(profile: str) -> SubscriberSettings:
    return SubscriberSettings(name="dms", endpoint="http://dms.test/zds", profile=profile,
                              stuf={"organisatie": "0363", "applicatie": "DMS"})


async def everything(profile: str, zaak: dict[str, Any] | None = None) -> list[Kennisgeving]:
    """The kennisgevingen that bring a subscriber that knows nothing up to date, then a change of the zaak."""
    planner = Planner(Mappings.load(), Sender("0363", "stuf-bridge"))
    state = ZaakState(dict(ZAAK), ZAAKTYPE, STATUSSEN, [(ZIO, EIO)], list(ROLLEN))
    sent: list[Kennisgeving] = []
    acked = None
    while (message := await planner.next_message(subscriber(profile), acked, state, now, iot)):
        sent.append(message)
        acked = message.after
    state.zaak = zaak or {**ZAAK, "omschrijving": "Tegel vastgezet", "einddatum": "2024-11-20",
                          "einddatumGepland": None}
    update = await planner.next_message(subscriber(profile), acked, state, now, iot)
    assert update is not None
    sent.append(update)
    assert await planner.next_message(subscriber(profile), update.after, state, now, iot) is None
    return sent


def message(kennisgeving: Kennisgeving) -> etree._Element:
    body = kennisgeving.head + (b"aGFsbG8=" if kennisgeving.document else b"") + kennisgeving.tail
    return etree.fromstring(body)[0][0]


@pytest.mark.parametrize("profile", ["zds-client", "stuf-zkn"])
async def test_the_difference_comes_in_order_and_every_message_is_valid(profile: str, schemas: Schemas) -> None:
    sent = await everything(profile)
    assert [k.operation for k in sent] == ["creeerZaak", "actualiseerZaakstatus", "actualiseerZaakstatus",
                                           "voegZaakdocumentToe", "updateZaak"]
    actions = [k.soap_action.rsplit("/", 1)[-1] for k in sent]
    if profile == "zds-client":
        assert actions == ["creeerZaak_Lk01", "actualiseerZaakstatus_Lk01", "actualiseerZaakstatus_Lk01",
                           "voegZaakdocumentToe_Lk01", "updateZaak_Lk01"]
    else:
        assert actions == ["zakLk01", "zakLk01", "zakLk01", "edcLk01", "zakLk01"]
    for kennisgeving in sent:
        assert schemas.validate(message(kennisgeving)) == [], kennisgeving.operation
    assert len({k.referentienummer for k in sent}) == len(sent)


@pytest.mark.parametrize("profile", ["zds-client", "stuf-zkn"])
async def test_every_message_is_valid_against_the_official_schemas(profile: str) -> None:
    require_shared()
    from tests.support.official import official_errors

    for kennisgeving in await everything(profile):
        assert official_errors(message(kennisgeving)) == [], kennisgeving.operation


async def test_a_change_carries_the_old_state_first_and_what_is_gone_as_geen_waarde() -> None:
    update = message((await everything("zds-client"))[-1])
    assert update.findtext(f"{{{ZKN}}}parameters/{{{STUF}}}mutatiesoort") == "W"
    old, new = update.findall(f"{{{ZKN}}}object")
    assert (old.findtext(f"{{{ZKN}}}omschrijving"), new.findtext(f"{{{ZKN}}}omschrijving")) == (
        "Losse stoeptegel", "Tegel vastgezet")
    assert new.findtext(f"{{{ZKN}}}einddatum") == "20241120" and old.find(f"{{{ZKN}}}einddatum") is None
    gone = new.find(f"{{{ZKN}}}einddatumGepland")
    assert gone is not None and gone.get(f"{{{STUF}}}noValue") == "geenWaarde"
    assert old.findtext(f"{{{ZKN}}}einddatumGepland") == "20241205"
    assert {o.get(f"{{{STUF}}}verwerkingssoort") for o in (old, new)} == {"W"}


async def test_a_status_message_says_which_status_and_that_the_old_object_had_none_new() -> None:
    status = message((await everything("zds-client"))[2])
    old, new = status.findall(f"{{{ZKN}}}object")
    assert old.find(f"{{{ZKN}}}heeft").get(f"{{{STUF}}}noValue") == "geenWaarde"
    heeft = new.find(f"{{{ZKN}}}heeft")
    assert heeft.get(f"{{{STUF}}}verwerkingssoort") == "T"
    assert heeft.findtext(f"{{{ZKN}}}gerelateerde/{{{ZKN}}}omschrijving") == "In behandeling"
    assert heeft.findtext(f"{{{ZKN}}}datumStatusGezet").startswith("20241107")


async def test_the_document_content_goes_between_head_and_tail_as_base64() -> None:
    document = (await everything("zds-client"))[3]
    assert document.document is not None and document.document["inhoud"] == EIO["inhoud"]

    async def content() -> Any:
        for piece in (b"ab", b"cde", b"f", b"", b"ghij"):
            yield piece

    body = b"".join([chunk async for chunk in document.body(content)])
    inhoud = etree.fromstring(body).find(f".//{{{ZKN}}}inhoud")
    assert inhoud is not None and inhoud.text == "YWJjZGVmZ2hpag=="
    assert inhoud.get(f"{{{STUF}}}bestandsnaam") == "foto.jpg"


async def test_base64_in_pieces_is_the_base64_of_the_whole() -> None:
    import base64
    import os

    data = os.urandom(100_001)

    async def pieces() -> Any:
        for start in range(0, len(data), 7777):
            yield data[start:start + 7777]

    assert b"".join([p async for p in base64_stream(pieces(), chunk=3 * 1000)]) == base64.b64encode(data)


def test_tijdstip_has_milliseconds_in_dutch_time() -> None:
    moment = dt.datetime(2024, 7, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert tijdstip(moment) == "20240701120000123"


async def test_a_zaak_gone_from_zgw_is_a_v_with_its_kerngegevens_for_stuf_zkn_and_nothing_for_zds(
        schemas: Schemas) -> None:
    planner = Planner(Mappings.load(), Sender("0363", "stuf-bridge"))
    acked = {"identificatie": "0363ZK-00001", "statussen": [], "documenten": []}
    assert await planner.removal(subscriber("zds-client"), acked, now) is None
    removal = await planner.removal(subscriber("stuf-zkn"), acked, now)
    assert removal is not None and removal.soap_action.endswith("/zakLk01")
    element = message(removal)
    assert schemas.validate(element) == []
    assert element.findtext(f"{{{ZKN}}}parameters/{{{STUF}}}mutatiesoort") == "V"
    [obj] = element.findall(f"{{{ZKN}}}object")
    assert obj.get(f"{{{STUF}}}verwerkingssoort") == "V" and obj.findtext(f"{{{ZKN}}}identificatie") == "0363ZK-00001"
    if shared_dir() is not None:
        from tests.support.official import official_errors

        assert official_errors(element) == []



async def test_a_rol_added_and_one_removed_are_t_and_v_relations_in_the_change(schemas: Schemas) -> None:
    planner = Planner(Mappings.load(), Sender("0363", "stuf-bridge"))
    state = ZaakState(dict(ZAAK), ZAAKTYPE, [], [], list(ROLLEN))
    creeer = await planner.next_message(subscriber("zds-client"), None, state, now, iot)
    assert creeer is not None
    initiator = message(creeer).find(f"{{{ZKN}}}object/{{{ZKN}}}heeftAlsInitiator")
    assert initiator is not None and initiator.get(f"{{{STUF}}}verwerkingssoort") == "T"
    state.rollen = [BELANGHEBBENDE]  # the initiator gone, a belanghebbende new
    update = await planner.next_message(subscriber("zds-client"), creeer.after, state, now, iot)
    assert update is not None and update.operation == "updateZaak"
    element = message(update)
    assert schemas.validate(element) == []
    old, new = element.findall(f"{{{ZKN}}}object")
    assert old.find(f"{{{ZKN}}}heeftAlsInitiator").get(f"{{{STUF}}}verwerkingssoort") == "V"
    empty = new.find(f"{{{ZKN}}}heeftAlsInitiator")
    assert empty.get(f"{{{STUF}}}noValue") == "geenWaarde" and empty.get(f"{{{STUF}}}verwerkingssoort") == "V"
    added = new.find(f"{{{ZKN}}}heeftAlsBelanghebbende")
    assert added.get(f"{{{STUF}}}verwerkingssoort") == "T"
    assert old.find(f"{{{ZKN}}}isVan").get(f"{{{STUF}}}verwerkingssoort") == "I"
    if shared_dir() is not None:
        from tests.support.official import official_errors

        assert official_errors(element) == []
