"""ZGW JSON → StUF answers: the La01 objects the flows build with the mapping engine validate against our schemas
(``xsd/``) in both dialects, and read back (StUF → ZGW) to what they came from."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from stuf_bridge.mapping import MappingContext, Mappings
from stuf_bridge.stuf.namespaces import BG, STUF, XSI, ZDS, ZKN
from stuf_bridge.stuf.validation import Schemas

from .conftest import NOW

FIXTURE = json.loads((Path(__file__).resolve().parent / "answers" / "zaak-volledig.json").read_text("utf-8"))
ROOTS = {"1.1": (ZKN, "zakLa01"), "1.2": (ZDS, "geefZaakdetails_ZakLa01")}


def la01(dialect: str, root_name: str | None = None) -> tuple[etree._Element, etree._Element]:
    """A La01 skeleton (stuurgegevens, parameters, antwoord/object); returns (root, object)."""
    ns, name = ROOTS[dialect]
    nsmap = {"ZKN": ZKN, "StUF": STUF, "BG": BG, "xsi": XSI} | ({"ZDS": ZDS} if ns == ZDS else {})
    root = etree.Element(f"{{{ns}}}{root_name or name}", nsmap=nsmap)
    stuurgegevens = etree.SubElement(root, f"{{{ZKN}}}stuurgegevens")
    etree.SubElement(stuurgegevens, f"{{{STUF}}}berichtcode").text = "La01"
    etree.SubElement(stuurgegevens, f"{{{STUF}}}entiteittype").text = "ZAK"
    parameters = etree.SubElement(root, f"{{{ZKN}}}parameters")
    etree.SubElement(parameters, f"{{{STUF}}}indicatorVervolgvraag").text = "false"
    antwoord = etree.SubElement(root, f"{{{ZKN}}}antwoord")
    return root, etree.SubElement(antwoord, f"{{{ZKN}}}object")


def geef_zaakdetails(mappings: Mappings, dialect: str) -> tuple[etree._Element, etree._Element, list[str]]:
    root, obj = la01(dialect)
    context = MappingContext(dialect=dialect, now=NOW)
    warnings = mappings.to_stuf("ZAK", FIXTURE["zaak"], obj, dialect=dialect, context=context)
    for rol in FIXTURE["rollen"]:
        assert mappings.rol_to_stuf(rol, obj, dialect=dialect, context=context) is not None
    for zaakobject in FIXTURE["zaakobjecten"]:
        element = etree.Element(f"{{{ZKN}}}heeftBetrekkingOp")
        warnings += mappings.to_stuf("ZAKOBJ", zaakobject, element, dialect=dialect, context=context)
        if len(element):  # a pand has no StUF form here: the flow leaves the relation out
            mappings.insert_ordered("ZAK", obj, element)
    for status in FIXTURE["statussen"]:
        element = etree.Element(f"{{{ZKN}}}heeft")
        mappings.insert_ordered("ZAK", obj, element)
        warnings += mappings.to_stuf("ZAKSTT", status, element, dialect=dialect, context=context)
    return root, obj, warnings


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
def test_geef_zaakdetails_answer_validates(mappings: Mappings, schemas: Schemas, dialect: str) -> None:
    root, obj, warnings = geef_zaakdetails(mappings, dialect)
    assert schemas.validate(root) == []
    assert warnings == []
    names = [etree.QName(child).localname for child in obj]
    assert names == [
        "identificatie",
        "omschrijving",
        "toelichting",
        "kenmerk",
        "resultaat",
        "startdatum",
        "registratiedatum",
        "einddatumGepland",
        "uiterlijkeEinddatum",
        "einddatum",
        "verlenging",
        "betalingsIndicatie",
        "laatsteBetaaldatum",
        "archiefnominatie",
        "zaakniveau",
        "deelzakenIndicatie",
        "extraElementen",
        "isVan",
        "heeftBetrekkingOp",
        "heeftAlsBelanghebbende",
        "heeftAlsGemachtigde",
        "heeftAlsInitiator",
        "heeftAlsUitvoerende",
        "heeftAlsVerantwoordelijke",
        "heeftAlsOverigBetrokkene",
        "heeft",
        "heeft",
    ]


def text(obj: etree._Element, path: str) -> str | None:
    return obj.findtext(path, namespaces={"Z": ZKN, "B": BG, "S": STUF})


def test_the_values_in_the_answer(mappings: Mappings) -> None:
    _, obj, _ = geef_zaakdetails(mappings, "1.1")
    assert text(obj, "Z:verlenging/Z:duur") == "21"
    assert text(obj, "Z:laatsteBetaaldatum") == "20241027023000000"  # the second 02:30 of the autumn night
    assert text(obj, "Z:archiefnominatie") == "N"
    assert text(obj, "Z:deelzakenIndicatie") == "J"
    assert text(obj, "Z:resultaat/Z:omschrijving") == "Verleend"
    assert [k.findtext(f"{{{ZKN}}}kenmerk") for k in obj.iterfind(f"{{{ZKN}}}kenmerk")] == ["OLO-8812345"]
    assert obj.find(f"{{{ZKN}}}opschorting") is None  # ZRC's empty opschorting
    gemachtigde = obj.find(f"{{{ZKN}}}heeftAlsGemachtigde")
    assert gemachtigde is not None and gemachtigde.get(f"{{{STUF}}}entiteittype") == "ZAKBTRGMC"
    assert text(gemachtigde, "Z:gerelateerde/Z:nietNatuurlijkPersoon/B:inn.rechtsvorm") == "Besloten vennootschap"
    belanghebbende = obj.find(f"{{{ZKN}}}heeftAlsBelanghebbende/{{{ZKN}}}gerelateerde/{{{ZKN}}}natuurlijkPersoon")
    assert belanghebbende is not None
    assert text(belanghebbende, "B:sub.verblijfBuitenland/B:lnd.landnaam") == "België"
    assert text(belanghebbende, "B:geboortedatum") == "19870612"
    initiator = obj.find(f"{{{ZKN}}}heeftAlsInitiator/{{{ZKN}}}gerelateerde/{{{ZKN}}}vestiging")
    assert initiator is not None and text(initiator, "B:verblijfsadres/B:aoa.postcode") == "3011AD"
    eind = list(obj.iterfind(f"{{{ZKN}}}heeft"))[1]
    assert text(eind, "Z:datumStatusGezet") == "20241028144512250"
    assert text(eind, "Z:indicatieLaatsteStatus") == "J"
    first = next(obj.iterfind(f"{{{ZKN}}}heeft"))
    assert text(first, "Z:datumStatusGezet") == "20240701100000000"  # 08:00Z is 10:00 in summer
    toelichting = first.find(f"{{{ZKN}}}toelichting")
    assert toelichting is not None and toelichting.get(f"{{{XSI}}}nil") == "true"


def test_geef_zaakstatus_answer_zds12_validates(mappings: Mappings, schemas: Schemas) -> None:
    root, obj = la01("1.2", "geefZaakstatus_ZakLa01")
    zaak = {"identificatie": FIXTURE["zaak"]["identificatie"]}
    # geefZaakstatus answers only identificatie (+ omschrijving, isVan) and heeft: a mapping per answer shape is
    # not needed, the flow writes identificatie and the statussen.
    etree.SubElement(obj, f"{{{ZKN}}}identificatie").text = zaak["identificatie"]
    obj.set(f"{{{STUF}}}entiteittype", "ZAK")
    # ZDS 1.2 geefZaakstatus asks for the last status only: its indicatieLaatsteStatus may only be J.
    last = [s for s in FIXTURE["statussen"] if s["indicatieLaatstGezetteStatus"]]
    for status in last:
        heeft = etree.SubElement(obj, f"{{{ZKN}}}heeft")
        mappings.to_stuf("ZAKSTT", status, heeft, dialect="1.2")
    assert schemas.validate(root) == []
    root, obj = la01("1.2", "geefZaakstatus_ZakLa01")
    etree.SubElement(obj, f"{{{ZKN}}}identificatie").text = zaak["identificatie"]
    mappings.to_stuf("ZAKSTT", FIXTURE["statussen"][0], etree.SubElement(obj, f"{{{ZKN}}}heeft"), dialect="1.2")
    assert "not an element of the set {'J'}" in str(schemas.validate(root))


def test_a_status_without_values_still_validates(mappings: Mappings, schemas: Schemas) -> None:
    root, obj = la01("1.2", "geefZaakstatus_ZakLa01")
    etree.SubElement(obj, f"{{{ZKN}}}identificatie").text = "Z0001"
    obj.set(f"{{{STUF}}}entiteittype", "ZAK")
    mappings.to_stuf("ZAKSTT", {"_expand": {}}, etree.SubElement(obj, f"{{{ZKN}}}heeft"), dialect="1.2")
    assert schemas.validate(root) == []


@pytest.mark.parametrize("dialect", ["1.1", "1.2"])
def test_round_trip_zgw_stuf_zgw(mappings: Mappings, dialect: str) -> None:
    _, obj, _ = geef_zaakdetails(mappings, dialect)
    context = MappingContext(dialect=dialect, mode="update", now=NOW)
    zaak = mappings.to_zgw("ZAK", obj, context=context)
    original = FIXTURE["zaak"]
    for field in (
        "identificatie",
        "omschrijving",
        "toelichting",
        "startdatum",
        "registratiedatum",
        "einddatum",
        "einddatumGepland",
        "uiterlijkeEinddatumAfdoening",
        "betalingsindicatie",
        "archiefnominatie",
    ):
        assert zaak.values[field] == original[field], field
    assert zaak.values["kenmerken"] == original["kenmerken"][:1]
    assert zaak.values["verlenging"] == {"reden": "Advies welstandscommissie", "duur": "P21D"}  # P3W in days
    assert _same_moment(zaak.values["laatsteBetaaldatum"], original["laatsteBetaaldatum"])  # the autumn fold
    assert zaak.expand["zaaktype"] == original["_expand"]["zaaktype"]
    assert zaak.expand["resultaat"] == original["_expand"]["resultaat"]
    assert [e["waarde"] for e in zaak.expand["eigenschappen"]] == ["12500", "nee"]
    rollen = mappings.rollen_to_zgw(obj, context=context)
    by_type = {r.values["betrokkeneType"] + ":" + r.relation: r.values for r in rollen}
    originals = {rol["betrokkeneType"] + ":" + (mappings.relation_for(rol) or ""): rol for rol in FIXTURE["rollen"]}
    assert by_type.keys() == originals.keys()
    for key, values in by_type.items():
        ident = dict(originals[key]["betrokkeneIdentificatie"])
        ident.pop("isGehuisvestIn", None)
        ident.pop("bezoekadres", None)  # one line of text in ZGW: read from StUF, not written back
        ident.pop("subVerblijfBuitenland", None)  # StUF-ZKN keeps no landcode, which ZGW requires: answers only
        if "verblijfsadres" in ident:
            ident["verblijfsadres"] = dict(ident["verblijfsadres"], aoaPostcode="3011AD")
        assert values["betrokkeneIdentificatie"] == ident, key
    statussen = [mappings.to_zgw("ZAKSTT", h, context=context) for h in obj.iterfind(f"{{{ZKN}}}heeft")]
    assert [s.values["_expand"]["statustype"] for s in statussen] == [
        {"volgnummer": 1, "omschrijving": "Ontvangen"},
        {"volgnummer": 5, "omschrijving": "Afgehandeld"},
    ]
    assert _same_moment(statussen[1].values["datumStatusGezet"], "2024-10-28T14:45:12.250+01:00")


def _same_moment(a: str, b: str) -> bool:
    from datetime import datetime, timedelta

    first, second = datetime.fromisoformat(a), datetime.fromisoformat(b)
    # 2024-10-27T00:30Z is the second 02:30 local; StUF has no offset, so it reads back as the first 02:30.
    return first == second or second - first == timedelta(hours=1)


def test_every_betrokkene_kind_as_an_answer(mappings: Mappings, schemas: Schemas) -> None:
    kinds: list[dict[str, Any]] = [
        {"betrokkeneType": "natuurlijk_persoon", "betrokkeneIdentificatie": {"inpBsn": "999993653"}},
        {
            "betrokkeneType": "niet_natuurlijk_persoon",
            "betrokkeneIdentificatie": {"annIdentificatie": "12345678901234567"},
        },
        {"betrokkeneType": "vestiging", "betrokkeneIdentificatie": {"vestigingsNummer": "000012345678"}},
        {"betrokkeneType": "medewerker", "betrokkeneIdentificatie": {"identificatie": "m1"}},
        {"betrokkeneType": "organisatorische_eenheid", "betrokkeneIdentificatie": {"identificatie": "oe1"}},
    ]
    for dialect in ("1.1", "1.2"):
        root, obj = la01(dialect)
        etree.SubElement(obj, f"{{{ZKN}}}identificatie").text = "Z0001"
        obj.set(f"{{{STUF}}}entiteittype", "ZAK")
        for rol in kinds:
            mappings.rol_to_stuf({"omschrijvingGeneriek": "belanghebbende", **rol}, obj, dialect=dialect)
        assert schemas.validate(root) == []
        assert len(obj.findall(f"{{{ZKN}}}heeftAlsBelanghebbende")) == 5


_TEXT = (
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=80)
    .map(str.strip)
    .filter(bool)
)
_DATE = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)).map(date.isoformat)


@settings(max_examples=60, deadline=None)
@given(
    omschrijving=_TEXT,
    startdatum=_DATE,
    einddatum_gepland=st.none() | _DATE,
    betaling=st.sampled_from(["nvt", "nog_niet", "gedeeltelijk", "geheel"]),
    archief=st.none() | st.sampled_from(["vernietigen", "blijvend_bewaren"]),
    duur=st.none() | st.integers(min_value=1, max_value=999),
    kenmerken=st.lists(st.tuples(_TEXT.map(lambda t: t[:40]), _TEXT.map(lambda t: t[:40])), max_size=3),
)
def test_zaak_round_trip_property(
    mappings: Mappings,
    omschrijving: str,
    startdatum: str,
    einddatum_gepland: str | None,
    betaling: str,
    archief: str | None,
    duur: int | None,
    kenmerken: list[tuple[str, str]],
) -> None:
    """Any zaak the mapping covers survives ZGW → StUF → ZGW, in both dialects."""
    zaak: dict[str, Any] = {
        "identificatie": "ZAAK-1",
        "omschrijving": omschrijving,
        "startdatum": startdatum,
        "einddatumGepland": einddatum_gepland,
        "betalingsindicatie": betaling,
        "archiefnominatie": archief,
        "verlenging": {"duur": f"P{duur}D", "reden": "r"} if duur else None,
        "kenmerken": [{"kenmerk": k.strip(), "bron": b.strip()} for k, b in kenmerken if k.strip() and b.strip()],
    }
    for dialect in ("1.1", "1.2"):
        _, obj = la01(dialect)
        mappings.to_stuf("ZAK", zaak, obj, dialect=dialect)
        back = mappings.to_zgw("ZAK", obj, context=MappingContext(dialect=dialect, mode="update", now=NOW)).values
        expected = {k: v for k, v in zaak.items() if v not in (None, [])}
        assert {k: back.get(k) for k in expected} == expected
