"""What a subscriber is sent for besluiten, zaakobjecten, zaakeigenschappen and document changes, and the
per-subscriber choice of verwerkingssoort for a changed relation: each message checked for its content and valid
against the official StUF-ZKN 3.10 schemas (and the project's where it has the message)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from lxml import etree

from stuf_bridge.mapping import Mappings
from stuf_bridge.notifications.config import SubscriberSettings
from stuf_bridge.notifications.messages import Kennisgeving, Sender
from stuf_bridge.notifications.state import Planner, ZaakState
from stuf_bridge.stuf.namespaces import STUF, ZKN
from stuf_bridge.stuf.validation import Schemas
from tests.support.reference import require_shared

from .test_messages import EIO, ROLLEN, STATUSSEN, ZAAK, ZAAKTYPE, ZIO, iot, message, now

VS = f"{{{STUF}}}verwerkingssoort"
BESLUIT = {"url": "http://zgw.test/bsl/1", "identificatie": "0363BSL-00001", "datum": "2024-11-10",
           "ingangsdatum": "2024-11-11", "toelichting": "Vergunning verleend", "zaak": ZAAK["url"],
           "besluittype": "http://zgw.test/bt/1", "_expand": {"besluittype": {"omschrijving": "Vergunning"}}}
ZAAKOBJECT = {"url": "http://zgw.test/zo/1", "zaak": ZAAK["url"], "objectType": "adres",
              "relatieomschrijving": "Locatie",
              "objectIdentificatie": {"identificatie": "0363200000123456", "wplWoonplaatsNaam": "Amsterdam",
                                      "gorOpenbareRuimteNaam": "Dam", "huisnummer": 1, "postcode": "1012JS"}}
EIGENSCHAP = {"url": "http://zgw.test/ze/1", "naam": "kleur", "waarde": "rood"}


def subscriber(profile: str, **more: Any) -> SubscriberSettings:
    return SubscriberSettings(name="s", endpoint="http://s.test/zds", profile=profile,
                              stuf={"organisatie": "0363", "applicatie": "SUB"}, **more)


def zaak_state() -> ZaakState:
    return ZaakState(dict(ZAAK), ZAAKTYPE, list(STATUSSEN), [(ZIO, {**EIO, "versie": 1})], copy.deepcopy(ROLLEN))


class Feed:
    """A subscriber brought up to date, then told about what changed."""

    def __init__(self, profile: str, **settings: Any):
        self.planner = Planner(Mappings.load(), Sender("0363", "stuf-bridge"))
        self.subscriber = subscriber(profile, **settings)
        self.state = zaak_state()
        self.acked: dict[str, Any] | None = None
        self.drain()

    def drain(self) -> list[Kennisgeving]:
        sent = []
        while (found := await_(self.planner.next_message(self.subscriber, self.acked, self.state, now, iot))):
            sent.append(found)
            self.acked = found.after
            assert len(sent) < 20
        return sent


def await_(coroutine: Any) -> Any:
    import asyncio

    return asyncio.run(coroutine)


def valid(kennisgeving: Kennisgeving, schemas: Schemas | None = None) -> etree._Element:
    element = message(kennisgeving)
    if schemas is not None:
        assert schemas.validate(element) == [], kennisgeving.operation
    require_shared()
    from tests.support.official import official_errors

    assert official_errors(element) == [], (kennisgeving.operation, etree.tostring(element).decode())
    return element


def z(name: str) -> str:
    return f"{{{ZKN}}}{name}"


def test_a_besluit_reaches_a_stuf_zkn_subscriber_as_bsllk01_and_the_zaaks_leidttot(schemas: Schemas) -> None:
    feed = Feed("stuf-zkn")
    feed.state.besluiten = [dict(BESLUIT)]
    bsl, zaak = feed.drain()
    assert (bsl.operation, bsl.soap_action.rsplit("/", 1)[-1]) == ("besluit", "bslLk01")
    element = valid(bsl)
    assert element.findtext(f"{{{ZKN}}}parameters/{{{STUF}}}mutatiesoort") == "T"
    [obj] = element.findall(z("object"))
    assert (obj.get(VS), obj.findtext(z("identificatie")), obj.findtext(z("toelichting"))) == (
        "T", "0363BSL-00001", "Vergunning verleend")
    assert obj.findtext(z("datumBeslissing")) == "20241110"
    assert zaak.operation == "updateZaak"
    old, new = valid(zaak, schemas).findall(z("object"))
    assert old.find(z("leidtTot")) is None
    relation = new.find(z("leidtTot"))
    assert relation.get(VS) == "T" and relation.findtext(f"{z('gerelateerde')}/{z('identificatie')}") == "0363BSL-00001"

    # a change of the besluit's own attributes: bslLk01 W, old first; the zaak's relation is unchanged
    feed.state.besluiten = [{**BESLUIT, "toelichting": "Vergunning verleend onder voorwaarden"}]
    [change] = feed.drain()
    old, new = valid(change).findall(z("object"))
    assert (old.get(VS), new.get(VS)) == ("W", "W")
    assert (old.findtext(z("toelichting")), new.findtext(z("toelichting"))) == (
        "Vergunning verleend", "Vergunning verleend onder voorwaarden")

    # the besluit gone: the zaak loses its leidtTot (V), then the besluit itself (bslLk01 V)
    feed.state.besluiten = []
    zaak, gone = feed.drain()
    old, new = valid(zaak, schemas).findall(z("object"))
    assert old.find(z("leidtTot")).get(VS) == "V"
    assert new.find(z("leidtTot")).get(f"{{{STUF}}}noValue") == "geenWaarde"
    [obj] = valid(gone).findall(z("object"))
    assert obj.get(VS) == "V" and [etree.QName(c).localname for c in obj] == ["identificatie"]
    assert feed.drain() == []


def test_a_besluit_reaches_a_zds_client_as_update_zaak_with_leidt_tot(schemas: Schemas) -> None:
    feed = Feed("zds-client")
    feed.state.besluiten = [dict(BESLUIT)]
    [update] = feed.drain()
    assert update.soap_action.endswith("/updateZaak_Lk01")
    old, new = valid(update, schemas).findall(z("object"))
    relation = new.find(z("leidtTot"))
    assert relation.get(VS) == "T"
    assert relation.findtext(f"{z('gerelateerde')}/{z('bst.omschrijving')}") == "Vergunning"
    feed.state.besluiten = [{**BESLUIT, "toelichting": "Anders"}]  # not part of the relation's kerngegevens
    assert feed.drain() == []


@pytest.mark.parametrize("profile", ["zds-client", "stuf-zkn"])
def test_zaakobject_and_zaakeigenschap_changes_are_a_zaak_w_with_was_and_wordt(profile: str, schemas: Schemas) -> None:
    feed = Feed(profile)
    feed.state.zaakobjecten = [dict(ZAAKOBJECT)]
    feed.state.eigenschappen = [dict(EIGENSCHAP)]
    [update] = feed.drain()
    assert update.operation == "updateZaak"
    assert update.soap_action.rsplit("/", 1)[-1] == ("updateZaak_Lk01" if profile == "zds-client" else "zakLk01")
    old, new = valid(update, schemas).findall(z("object"))
    assert old.find(z("heeftBetrekkingOp")) is None
    relation = new.find(z("heeftBetrekkingOp"))
    assert relation.get(VS) == "T" and relation.findtext(z("omschrijving")) == "Locatie"
    assert relation.find(f".//{{{'http://www.egem.nl/StUF/sector/bg/0310'}}}huisnummer").text == "1"
    extra = new.find(f"{{{STUF}}}extraElementen/{{{STUF}}}extraElement")
    assert (extra.get("naam"), extra.text) == ("kleur", "rood")

    feed.state.eigenschappen = [{**EIGENSCHAP, "waarde": "blauw"}]
    feed.state.zaakobjecten = []
    [update] = feed.drain()
    old, new = valid(update, schemas).findall(z("object"))
    assert old.findtext(f"{{{STUF}}}extraElementen/{{{STUF}}}extraElement") == "rood"
    assert new.findtext(f"{{{STUF}}}extraElementen/{{{STUF}}}extraElement") == "blauw"
    assert old.find(z("heeftBetrekkingOp")).get(VS) == "V"
    assert new.find(z("heeftBetrekkingOp")).get(f"{{{STUF}}}noValue") == "geenWaarde"


def test_document_metadata_content_and_removal_reach_a_stuf_zkn_subscriber(schemas: Schemas) -> None:
    feed = Feed("stuf-zkn")
    feed.state.documenten = [(ZIO, {**EIO, "versie": 1, "titel": "Foto van de stoep"})]
    [meta] = feed.drain()
    assert (meta.operation, meta.soap_action.rsplit("/", 1)[-1], meta.document) == (
        "documentGewijzigd", "edcLk01", None)
    element = valid(meta, schemas)
    assert element.findtext(f"{{{ZKN}}}parameters/{{{STUF}}}mutatiesoort") == "W"
    old, new = element.findall(z("object"))
    assert (old.findtext(z("titel")), new.findtext(z("titel"))) == ("Foto", "Foto van de stoep")
    assert new.find(z("inhoud")) is None and old.find(z("isRelevantVoor")).get(VS) == "I"

    feed.state.documenten = [(ZIO, {**EIO, "versie": 2, "titel": "Foto van de stoep"})]
    [content] = feed.drain()
    assert content.document is not None and content.document["inhoud"] == EIO["inhoud"]
    old, new = valid(content, schemas).findall(z("object"))
    assert (old.findtext(z("versie")), new.findtext(z("versie"))) == ("1", "2")
    assert new.findtext(z("inhoud")) == "aGFsbG8="  # what message() puts where the content streams in

    feed.state.documenten = []
    [gone] = feed.drain()
    assert gone.operation == "documentVerwijderd"
    [obj] = valid(gone, schemas).findall(z("object"))
    assert obj.get(VS) == "V" and obj.findtext(z("identificatie")) == EIO["identificatie"]
    assert feed.drain() == []


def test_a_zds_client_is_sent_no_document_change_zds_has_none() -> None:
    feed = Feed("zds-client")
    feed.state.documenten = [(ZIO, {**EIO, "versie": 2, "titel": "Anders"})]
    assert feed.drain() == []
    feed.state.documenten = []
    assert feed.drain() == []


@pytest.mark.parametrize(("relations", "expected"), [({}, ("V", "T")), ({"heeftAlsInitiator": "W"}, ("W", "W")),
                                                     ({"*": "W"}, ("W", "W")),
                                                     ({"*": "W", "heeftAlsInitiator": "VT"}, ("V", "T"))])
def test_a_changed_rol_goes_as_the_subscriber_chose(relations: dict[str, str], expected: tuple[str, str],
                                                    schemas: Schemas) -> None:
    feed = Feed("zds-client", relations=relations)
    rol = copy.deepcopy(ROLLEN[0])
    rol["betrokkeneIdentificatie"]["geslachtsnaam"] = "Visser-de Boer"
    feed.state.rollen = [rol]
    [update] = feed.drain()
    old, new = valid(update, schemas).findall(z("object"))
    soorten = (old.find(z("heeftAlsInitiator")).get(VS), new.find(z("heeftAlsInitiator")).get(VS))
    assert soorten == expected
    names = [e.text for e in new.iter(f"{{{'http://www.egem.nl/StUF/sector/bg/0310'}}}geslachtsnaam")]
    assert names == ["Visser-de Boer"]


def test_another_betrokkene_is_never_a_w_of_the_old_one(schemas: Schemas) -> None:
    feed = Feed("zds-client", relations={"*": "W"})
    rol = copy.deepcopy(ROLLEN[0])
    rol["betrokkeneIdentificatie"] = {"inpBsn": "999990019", "geslachtsnaam": "Jansen"}
    feed.state.rollen = [rol]
    [update] = feed.drain()
    old, new = valid(update, schemas).findall(z("object"))
    assert (old.find(z("heeftAlsInitiator")).get(VS), new.find(z("heeftAlsInitiator")).get(VS)) == ("V", "T")


def test_relation_choices_are_checked() -> None:
    with pytest.raises(ValueError, match="relations"):
        subscriber("zds-client", relations={"heeftAlsInitiator": "X"})
    with pytest.raises(ValueError, match="'heeft' .* a new status is always a new ZAKSTT relation"):
        subscriber("zds-client", relations={"heeft": "W"})


@pytest.mark.parametrize("profile", ["zds-client", "stuf-zkn"])
def test_a_new_status_is_a_new_heeft_t_whatever_the_relation_choice(profile: str, schemas: Schemas) -> None:
    """Statussen are history (ZGW only adds them): the new status is a relation of its own, T, next to the earlier
    ones, with an old object whose heeft is nil — also for a subscriber that wants every changed relation as W."""
    feed = Feed(profile, relations={"*": "W"})
    feed.state.statussen = [*STATUSSEN, {"url": "http://zgw.test/s/3", "datumStatusGezet": "2024-11-09T10:00:00Z",
                                         "statustoelichting": "klaar",
                                         "_expand": {"statustype": {"omschrijving": "Afgerond", "volgnummer": 3}}}]
    feed.state.zaak = {**ZAAK, "status": "http://zgw.test/s/3"}
    [status, *rest] = feed.drain()
    element = valid(status, schemas)
    old, new = element.findall(z("object"))
    old_heeft, new_heeft = old.find(z("heeft")), new.find(z("heeft"))
    assert old_heeft.get(f"{{{STUF}}}noValue") == "geenWaarde" and len(old_heeft) == 0
    assert new_heeft.get(VS) == "T" and new_heeft.find(z("gerelateerde")).findtext(z("omschrijving")) == "Afgerond"


def test_a_zds_1_2_subscriber_gets_the_zds_1_2_frames_valid_against_the_zds_1_2_schemas(schemas: Schemas) -> None:
    feed = Feed("zds-client", zds="1.2")
    planner = feed.planner
    subscriber_12 = feed.subscriber
    state = zaak_state()
    state.besluiten, state.zaakobjecten, state.eigenschappen = [dict(BESLUIT)], [dict(ZAAKOBJECT)], [dict(EIGENSCHAP)]
    sent: list[Kennisgeving] = []
    acked = None
    while (found := await_(planner.for_(subscriber_12).next_message(subscriber_12, acked, state, now, iot))):
        sent.append(found)
        acked = found.after
    state.zaak = {**ZAAK, "omschrijving": "Tegel vastgezet"}
    update = await_(planner.for_(subscriber_12).next_message(subscriber_12, acked, state, now, iot))
    assert update is not None
    sent.append(update)
    actions = [k.soap_action for k in sent]
    assert actions == ["http://www.stufstandaarden.nl/koppelvlak/zds0120/" + name for name in (
        "creeerZaak_ZakLk01", "voegBesluitToe_Di01", "actualiseerZaakstatus_ZakLk01",
        "actualiseerZaakstatus_ZakLk01", "voegZaakdocumentToe_EdcLk01", "updateZaak_ZakLk01")]
    for kennisgeving in sent:
        element = valid(kennisgeving, schemas)
        assert etree.QName(element).namespace == "http://www.stufstandaarden.nl/koppelvlak/zds0120"
        assert etree.QName(element).localname == kennisgeving.soap_action.rsplit("/", 1)[-1]
        assert element[0].tag == z("stuurgegevens")
    creeer = message(sent[0]).find(z("object"))
    assert creeer.find(z("leidtTot")) is not None and creeer.find(z("heeftBetrekkingOp")) is not None
    assert planner.for_(subscriber_12).dialect == "1.2" and planner.dialect == "1.1"


def test_a_zds_1_2_subscriber_gets_a_new_besluit_as_voeg_besluit_toe(schemas: Schemas) -> None:
    """ZDS 1.2 has voegBesluitToe_Di01 and updateBesluit_BslLk01 (OntvangAsynchroon): a new besluit goes as the first,
    before the updateZaak that relates it (leidtTot), a changed one as the second; a ZDS 1.1 subscriber, whose
    standard has neither, gets the updateZaak only."""
    for zds, expected in (("1.2", ["voegBesluitToe_Di01", "updateZaak_ZakLk01"]), ("1.1", ["updateZaak_Lk01"])):
        feed = Feed("zds-client", zds=zds)
        planner = feed.planner.for_(feed.subscriber)
        feed.planner = planner
        feed.acked = None
        feed.drain()
        feed.state.besluiten = [dict(BESLUIT)]
        sent = feed.drain()
        assert [k.soap_action.rsplit("/", 1)[-1] for k in sent] == expected, zds
        if zds == "1.1":
            continue
        element = valid(sent[0], schemas)
        assert etree.QName(element).localname == "voegBesluitToe_Di01"
        assert element.findtext(f"{z('stuurgegevens')}/{{{STUF}}}berichtcode") == "Di01"
        assert element.findtext(f"{z('stuurgegevens')}/{{{STUF}}}functie") == "voegBesluitToe"
        besluit, zaak = element.find(z("object"))
        assert (besluit.tag, besluit.get(VS), besluit.get(f"{{{STUF}}}entiteittype")) == (z("besluit"), "T", "BSL")
        assert besluit.findtext(z("identificatie")) == "0363BSL-00001"
        assert besluit.findtext(z("datumBeslissing")) == "20241110"
        assert (zaak.tag, zaak.findtext(z("identificatie"))) == (z("zaak"), ZAAK["identificatie"])
        leidt_tot = message(sent[1]).findall(z("object"))[1].find(z("leidtTot"))
        assert leidt_tot is not None and leidt_tot.get(VS) == "T"
        feed.state.besluiten = [{**BESLUIT, "toelichting": "Anders"}]  # a change: updateBesluit W, old and new
        [change] = feed.drain()
        element = valid(change, schemas)
        assert change.soap_action.rsplit("/", 1)[-1] == etree.QName(element).localname == "updateBesluit_BslLk01"
        old, new = element.findall(z("object"))
        assert (old.get(VS), new.get(VS)) == ("W", "W")
        assert (old.findtext(z("toelichting")), new.findtext(z("toelichting"))) == ("Vergunning verleend", "Anders")
        feed.state.besluiten = []  # gone: the zaak's leidtTot V in updateZaak (ZDS has no removal of a besluit)
        assert [k.soap_action.rsplit("/", 1)[-1] for k in feed.drain()] == ["updateZaak_ZakLk01"]


def test_a_zds_1_2_creeer_zaak_without_initiator_says_it_is_unknown(schemas: Schemas) -> None:
    """ZDS 1.2 requires heeftAlsInitiator in creeerZaak (nillable): a zaak without one sends it nil, waardeOnbekend."""
    feed = Feed("zds-client", zds="1.2")
    planner = feed.planner.for_(feed.subscriber)
    state = zaak_state()
    state.rollen = []
    creeer = await_(planner.next_message(feed.subscriber, None, state, now, iot))
    initiator = valid(creeer, schemas).find(z("object")).find(z("heeftAlsInitiator"))
    assert initiator is not None and initiator.get(f"{{{STUF}}}noValue") == "waardeOnbekend"
    assert "heeftAlsInitiator" not in creeer.after["zaak"]  # not part of what is compared later


@pytest.mark.parametrize("zds", ["1.1", "1.2"])
def test_a_zds_client_with_vrije_berichten_gets_update_zaakdocument_after_a_checkout(zds: str,
                                                                                      schemas: Schemas) -> None:
    from stuf_bridge.notifications.messages import CHECKED_OUT, checkout

    feed = Feed("zds-client", zds=zds, vrije_berichten="http://s.test/zds/VrijeBerichten")
    feed.state.documenten = [(ZIO, {**EIO, "versie": 2, "titel": "Foto van de stoep"})]
    [update] = feed.drain()
    assert update.operation == "updateZaakdocument"
    assert update.soap_action.endswith("/updateZaakdocument_Di02")
    assert update.document is not None and update.document["inhoud"] == EIO["inhoud"]  # a new version: content
    body = (update.head.replace(CHECKED_OUT.encode(), b"co-1") + b"aGFsbG8=" + update.tail)
    element = etree.fromstring(body)[0][0]
    assert schemas.validate(element) == []
    require_shared()
    from tests.support.official import official_errors

    assert official_errors(element) == [], etree.tostring(element).decode()
    old, new = element.iter(z("object"))
    assert (old.findtext(z("titel")), new.findtext(z("titel"))) == ("Foto", "Foto van de stoep")
    assert element.findtext(".//{*}checkedOutId") == "co-1" and new.findtext(z("inhoud")) == "aGFsbG8="
    request, action = checkout(feed.subscriber, feed.planner.sender, dt.datetime.now(dt.UTC), EIO["identificatie"])
    di02 = etree.fromstring(request)[0][0]
    assert schemas.validate(di02) == [] and official_errors(di02) == [], request.decode()
    assert action.rsplit("/", 1)[-1] == ("geefZaakdocumentbewerken_Di02" if zds == "1.1"
                                         else "geefZaakdocumentBewerken_Di02")
    from stuf_bridge.notifications.messages import cancel_checkout

    request, action = cancel_checkout(feed.subscriber, feed.planner.sender, dt.datetime.now(dt.UTC),
                                      EIO["identificatie"], "co-1")  # when the update fails after the checkout
    cancel = etree.fromstring(request)[0][0]
    assert schemas.validate(cancel) == [] and official_errors(cancel) == [], request.decode()
    assert action.endswith("/cancelCheckout_Di02") and cancel.findtext(".//{*}checkedOutId") == "co-1"
    assert cancel.findtext(".//{*}document/{*}identificatie") == EIO["identificatie"]
    feed.state.documenten = []
    assert feed.drain() == []  # ZDS has no removal of a document
