"""The real client messages of the shared corpus (``../shared/reference/samples``; skipped without it): every ZAK
object maps, and the named creeerZaak/updateZaak bodies of Open Formulieren, GWS4all (ZDS 1.1) and the
StUF-testplatform (ZDS 1.2, rendered from its templates) give the expected ZGW fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from stuf_bridge.mapping import MappedValueError, MappingContext, Mappings
from stuf_bridge.stuf.namespaces import STUF, ZKN
from tests.support.reference import Sample, iter_samples, load_sample, require_shared, samples_dir

pytestmark = pytest.mark.reference

NOW = datetime(2030, 1, 1, tzinfo=UTC)
VERWERKINGSSOORT = f"{{{STUF}}}verwerkingssoort"


def zak_objects(sample: Sample) -> list[etree._Element]:
    objects = sample.body.findall(f"{{{ZKN}}}object")
    return [o for o in objects if o.get(f"{{{STUF}}}entiteittype") == "ZAK"]


def context_for(sample: Sample, obj: etree._Element) -> MappingContext:
    mode = "create" if obj.get(VERWERKINGSSOORT) == "T" else "update"
    return MappingContext(dialect="1.2" if sample.dialect == "zds12" else "1.1", mode=mode, now=NOW, rsin="002564440")


def map_all(mappings: Mappings, sample: Sample, index: int = 0) -> dict[str, Any]:
    obj = zak_objects(sample)[index]
    context = context_for(sample, obj)
    return {
        "zaak": mappings.to_zgw("ZAK", obj, context=context),
        "rollen": mappings.rollen_to_zgw(obj, context=context),
        "statussen": [mappings.to_zgw("ZAKSTT", h, context=context) for h in obj.iterfind(f"{{{ZKN}}}heeft")],
        "zaakobjecten": [
            mappings.to_zgw("ZAKOBJ", h, context=context) for h in obj.iterfind(f"{{{ZKN}}}heeftBetrekkingOp")
        ],
    }


def sample(name: str) -> Sample:
    require_shared()
    base = samples_dir()
    assert base is not None
    loaded = load_sample(base / name)
    if loaded is None:
        pytest.skip(f"sample {name} not usable")
    return loaded


def test_every_zak_object_in_the_corpus_maps_or_names_what_is_wrong(mappings: Mappings) -> None:
    require_shared()
    mapped, refused, made_up = 0, [], set()
    for s in iter_samples():
        if s.role != "request":
            continue
        for i, _ in enumerate(zak_objects(s)):
            try:
                map_all(mappings, s, i)
                mapped += 1
            except MappedValueError as exc:  # a typed error naming the element path; anything else fails the test
                if exc.path.endswith("inp.bsn") and "elfproef" in exc.problem:
                    made_up.add(str(exc.value))  # the StUF Testplatform's made-up BSNs: refused, never cut
                    continue
                refused.append((s.name, exc.path))
    assert mapped >= 290
    assert made_up <= {"123456789", "012345678", "036356789"}, made_up
    # The few refusals are messages without the fields a create needs, or with a 6-digit date.
    assert len(refused) <= 6, refused
    assert all(path.startswith("object/") for _, path in refused)


def test_gws4all_creeer_zaak(mappings: Mappings) -> None:
    result = map_all(
        mappings, sample("openzaakbrug-examples/Swf Suites4SociaalDomein/dump/02-request-zakLk01 Generen Zaak.xml")
    )
    zaak = result["zaak"]
    assert zaak.body == {
        "identificatie": "1900208938",
        "bronorganisatie": "002564440",
        "verantwoordelijkeOrganisatie": "002564440",
        "omschrijving": "Aanvraag minimaregelingen (Z)",
        "kenmerken": [{"kenmerk": "273846", "bron": "GWS4all"}],
        "startdatum": "2020-03-09",
        "registratiedatum": "2020-03-09",
        "einddatumGepland": "2020-04-20",
        "archiefnominatie": "vernietigen",
    }
    assert zaak.expand == {"zaaktype": {"omschrijving": "Aanvraag minima", "identificatie": "B1026"}}
    # the person in heeftBetrekkingOp is a rol too (issue 13); creeerZaak leaves it out as a repeat of the
    # belanghebbende (operations/common.py without_repeated_betrekking)
    assert [r.relation for r in result["rollen"]] == [
        "heeftBetrekkingOp",
        "heeftAlsBelanghebbende",
        "heeftAlsInitiator",
        "heeftAlsUitvoerende",
        "heeftAlsVerantwoordelijke",
    ]
    initiator = result["rollen"][2].values
    assert initiator["betrokkeneType"] == "natuurlijk_persoon"
    assert initiator["betrokkeneIdentificatie"]["inpBsn"] == "111111110"
    assert "verblijfsadres" not in initiator["betrokkeneIdentificatie"]  # aoa.identificatie is nil
    uitvoerende = result["rollen"][3].values
    assert uitvoerende["betrokkeneIdentificatie"] == {
        "identificatie": "012345678901234567890123",
        "achternaam": "G. Bruiker",
    }
    assert uitvoerende["contactpersoonRol"]["emailadres"] == "info@sudwestfryslan.nl"
    (status,) = result["statussen"]
    assert status.values == {
        "_expand": {"statustype": {"volgnummer": 1, "omschrijving": "Ontvangen", "code": "ontv"}},
        "datumStatusGezet": "2020-03-09T08:01:04+01:00",
    }
    assert result["zaakobjecten"][0].skipped  # a person, not an address: the ZAKOBJ mapping skips it (a rol instead)


def test_gws4all_update_zaak_sets_opschorting(mappings: Mappings) -> None:
    s = sample("openzaakbrug-examples/Swf Suites4SociaalDomein/dump/06-request-zakLk01 609 Wijzigen Zaakgegevens.xml")
    new = map_all(mappings, s, 1)["zaak"]
    assert new.values["opschorting"] == {"indicatie": True, "reden": "niet tijdig verstrekken inform"}
    assert new.values["einddatumGepland"] == "2020-05-30"
    assert "bronorganisatie" not in new.values


def test_open_forms_partners_as_betrokkenen(mappings: Mappings) -> None:
    s = sample(
        "open-forms-vcr/files/vcr_cassettes/StufZDSPluginPartnersComponentVCRTests/"
        "test_create_zaak_with_partners_as_betrokkene/02-creeerZaak_Lk01.request.xml"
    )
    result = map_all(mappings, s)
    assert result["zaak"].values["betalingsindicatie"] == "nvt"
    assert result["zaak"].expand["zaaktype"] == {"identificatie": "foo"}
    relations = [(r.relation, r.values["betrokkeneIdentificatie"].get("inpBsn")) for r in result["rollen"]]
    assert relations == [
        ("heeftAlsInitiator", "000009921"),
        ("heeftAlsOverigBetrokkene", "999995182"),
        ("heeftAlsOverigBetrokkene", "123456782"),
    ]
    partner = result["rollen"][1].values
    assert partner["betrokkeneIdentificatie"] == {
        "inpBsn": "999995182",
        "geslachtsnaam": "Jansma",
        "voorletters": "A.M.P.",
        "voornamen": "Anna Maria Petra",
        "geboortedatum": "1945-04-18",
    }
    assert partner["roltoelichting"] == "A description"


def test_open_forms_initiator_address_without_identificatie_is_dropped(mappings: Mappings) -> None:
    s = sample(
        "open-forms-vcr/files/vcr_cassettes/StufZDSPluginVCRTests/"
        "test_addressnl_registration_attribute_initiator_address/00-creeerZaak_Lk01.request.xml"
    )
    (initiator,) = map_all(mappings, s)["rollen"]
    assert "verblijfsadres" not in initiator.values["betrokkeneIdentificatie"]
    assert initiator.warnings == [
        "heeftAlsInitiator/gerelateerde/natuurlijkPersoon/verblijfsadres: overgeslagen, want aoaIdentificatie ontbreekt"
    ]


def test_open_forms_payment_update(mappings: Mappings) -> None:
    s = sample(
        "open-forms-vcr/files/vcr_cassettes/StufZDSPluginPaymentVCRTests/test_set_zaak_payment/"
        "00-updateZaak_Lk01.request.xml"
    )
    zaak = map_all(mappings, s)["zaak"]
    assert zaak.values["betalingsindicatie"] == "geheel"
    assert zaak.values["laatsteBetaaldatum"] == "2026-04-30T00:00:00+02:00"  # a bare date: midnight, local


def test_stp_creeer_zaak_every_attribute(mappings: Mappings) -> None:
    result = map_all(mappings, sample("zaakmagazijn/stp_creeerZaak/creeerZaak_ZakLk01_03.xml"))
    values = result["zaak"].values
    assert values["kenmerken"] == [{"kenmerk": "kenmerk", "bron": "bron"}] * 2
    assert values["opschorting"] == {"indicatie": False, "reden": "reden"}
    assert values["verlenging"] == {"duur": "P123D", "reden": "reden"}
    assert values["betalingsindicatie"] == "nog_niet"
    assert values["archiefnominatie"] == "blijvend_bewaren"
    assert result["zaak"].expand["resultaat"] == {
        "_expand": {"resultaattype": {"omschrijving": "omschrijving"}},
        "toelichting": "toelichting",
    }
    adres = result["zaakobjecten"][0].values
    assert adres["objectType"] == "adres"
    assert adres["objectIdentificatie"]["identificatie"] == "0123456789101112"
    assert adres["objectIdentificatie"]["huisnummer"] == 99999


@pytest.mark.parametrize(
    ("name", "relation", "betrokkene_type"),
    [
        ("creeerZaak_ZakLk01_01.xml", "heeftAlsInitiator", "medewerker"),
        ("creeerZaak_ZakLk01_07.xml", "heeftAlsInitiator", "niet_natuurlijk_persoon"),
        ("creeerZaak_ZakLk01_09.xml", "heeftAlsInitiator", "vestiging"),
        ("creeerZaak_ZakLk01_13.xml", "heeftAlsGemachtigde", "medewerker"),
    ],
)
def test_stp_rollen(mappings: Mappings, name: str, relation: str, betrokkene_type: str) -> None:
    rollen = map_all(mappings, sample(f"zaakmagazijn/stp_creeerZaak/{name}"))["rollen"]
    match = [r for r in rollen if r.relation == relation]
    assert match and match[0].values["betrokkeneType"] == betrokkene_type


def test_stp_uses_the_zgw_name_for_uiterlijke_einddatum(mappings: Mappings) -> None:
    zaak = map_all(mappings, sample("zaakmagazijn/stp_creeerZaak/creeerZaak_ZakLk01_13.xml"))["zaak"]
    assert zaak.values["uiterlijkeEinddatumAfdoening"] == "2017-04-01"
