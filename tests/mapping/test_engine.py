"""The engine's semantics: the three update states, cuts, required values, defaults, conditions, groups, switches,
and writing answers in schema order."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.mapping import MappedValueError, MappingContext, Mappings, RequiredMissing
from stuf_bridge.mapping.loader import load_layers
from stuf_bridge.stuf.namespaces import STUF, XSI, ZKN

from .conftest import NSMAP, ctx, element, write_mappings


def custom(tmp_path: Path, text: str) -> Mappings:
    return Mappings(load_layers(write_mappings(tmp_path / "m", x=text), None))


def obj(inner: str, verwerkingssoort: str = "W") -> etree._Element:
    return element(
        f'<ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="{verwerkingssoort}">{inner}</ZKN:object>'
    )


def answer_object() -> etree._Element:
    return etree.Element(f"{{{ZKN}}}object", nsmap=NSMAP)


class TestUpdateStates:
    """set / clear / unchanged, kept apart because an update PATCHes only what changed."""

    def test_set_clear_and_unchanged(self, mappings: Mappings) -> None:
        zaak = mappings.to_zgw(
            "ZAK",
            obj(
                "<ZKN:identificatie>Z1</ZKN:identificatie>"
                "<ZKN:omschrijving>Nieuw</ZKN:omschrijving>"  # set
                "<ZKN:toelichting xsi:nil='true' StUF:noValue='geenWaarde'/>"  # clear → ""
                "<ZKN:publicatiedatum xsi:nil='true' StUF:noValue='waardeOnbekend'/>"  # unchanged
                "<ZKN:einddatumGepland xsi:nil='true' StUF:noValue='geenWaarde'/>"  # clear → null
                "<ZKN:uiterlijkeEinddatum xsi:nil='true' StUF:noValue='vastgesteldOnbekend'/>"  # unchanged
                "<ZKN:betalingsIndicatie xsi:nil='true' StUF:noValue='nietGeautoriseerd'/>"  # unchanged
                "<ZKN:archiefnominatie/>"  # empty: unchanged
            ),
            context=ctx(mode="update"),
        )
        assert zaak.values == {"identificatie": "Z1", "omschrijving": "Nieuw"}
        assert zaak.cleared == {"toelichting": "", "einddatumGepland": None}
        assert zaak.patch_body() == {
            "identificatie": "Z1",
            "omschrijving": "Nieuw",
            "toelichting": "",
            "einddatumGepland": None,
        }
        assert zaak.body == {"identificatie": "Z1", "omschrijving": "Nieuw"}
        assert zaak.warnings == []

    def test_groups_clear_whole_and_lists_clear_to_empty(self, mappings: Mappings) -> None:
        zaak = mappings.to_zgw(
            "ZAK",
            obj(
                "<ZKN:kenmerk xsi:nil='true'/><ZKN:opschorting xsi:nil='true'/>"
                "<ZKN:verlenging xsi:nil='true' StUF:noValue='geenWaarde'/>"
            ),
            context=ctx(mode="update"),
        )
        assert zaak.cleared == {"kenmerken": [], "opschorting": None, "verlenging": None}

    def test_a_value_wins_over_a_clear_of_the_same_field(self, mappings: Mappings) -> None:
        # rol: omschrijving → roltoelichting; a nil toelichting does not take that away
        rol = mappings.to_zgw(
            "ZAKBTR",
            element(
                "<ZKN:heeftAlsBelanghebbende><ZKN:gerelateerde><ZKN:medewerker><ZKN:identificatie>m</ZKN:identificatie>"
                "</ZKN:medewerker></ZKN:gerelateerde><ZKN:omschrijving>Buur</ZKN:omschrijving>"
                "<ZKN:toelichting xsi:nil='true' StUF:noValue='geenWaarde'/></ZKN:heeftAlsBelanghebbende>"
            ),
            context=ctx(mode="update"),
        )
        assert rol.values["roltoelichting"] == "Buur" and rol.cleared == {}

    def test_a_nil_inside_a_group_zgw_receives_whole_is_left_out(self, mappings: Mappings) -> None:
        rol = mappings.to_zgw(
            "ZAKBTR",
            element(
                "<ZKN:heeftAlsInitiator><ZKN:gerelateerde><ZKN:natuurlijkPersoon><BG:inp.bsn>999993653</BG:inp.bsn>"
                "<BG:voorvoegselGeslachtsnaam xsi:nil='true' StUF:noValue='geenWaarde'/></ZKN:natuurlijkPersoon>"
                "</ZKN:gerelateerde></ZKN:heeftAlsInitiator>"
            ),
            context=ctx(mode="update"),
        )
        assert rol.values == {
            "betrokkeneType": "natuurlijk_persoon",
            "betrokkeneIdentificatie": {"inpBsn": "999993653"},
        }
        assert rol.cleared == {}
        # mapped on its own, the person is the top object: there the nil clears
        nps = mappings.to_zgw(
            "NPS",
            element(
                "<ZKN:natuurlijkPersoon><BG:voorvoegselGeslachtsnaam xsi:nil='true' StUF:noValue='geenWaarde'/>"
                "</ZKN:natuurlijkPersoon>"
            ),
            context=ctx(mode="update"),
        )
        assert nps.cleared == {"voorvoegselGeslachtsnaam": None}

    def test_a_set_after_a_clear_takes_the_clear_back(self, tmp_path: Path) -> None:
        m = custom(
            tmp_path, "mappings:\n  - entity: X\n    rules:\n      - {stuf: a, zgw: v}\n      - {stuf: b, zgw: v}\n"
        )
        mapped = m.to_zgw(
            "X", element("<ZKN:x><ZKN:a xsi:nil='true'/><ZKN:b>2</ZKN:b></ZKN:x>"), context=ctx(mode="update")
        )
        assert mapped.values == {"v": "2"} and mapped.cleared == {}


class TestLimitsAndErrors:
    def test_a_cut_is_reported(self, mappings: Mappings) -> None:
        long = "x" * 95
        zaak = mappings.to_zgw("ZAK", obj(f"<ZKN:omschrijving>{long}</ZKN:omschrijving>"), context=ctx(mode="update"))
        assert zaak.values["omschrijving"] == "x" * 80
        assert zaak.warnings == ["object/omschrijving is ingekort van 95 tot 80 tekens"]

    def test_a_cut_in_an_answer_is_reported(self, mappings: Mappings) -> None:
        parent = answer_object()
        warnings = mappings.to_stuf("ZAK", {"_expand": {"zaaktype": {"identificatie": "ZAAKTYPE-LANG"}}}, parent)
        assert parent.findtext(f"{{{ZKN}}}isVan/{{{ZKN}}}gerelateerde/{{{ZKN}}}code") == "ZAAKTYPE-L"
        assert warnings == ["code is ingekort van 13 tot 10 tekens"]

    def test_a_value_that_cannot_be_converted_names_its_path(self, mappings: Mappings) -> None:
        with pytest.raises(MappedValueError) as info:
            mappings.to_zgw("ZAK", obj("<ZKN:startdatum>2024-01-01</ZKN:startdatum>"), context=ctx(mode="update"))
        assert info.value.path == "object/startdatum"
        assert info.value.value == "2024-01-01"
        assert info.value.code == "StUF058" and info.value.plek == "client"

    def test_required_values_on_create_only(self, mappings: Mappings) -> None:
        with pytest.raises(RequiredMissing) as info:
            mappings.to_zgw("ZAK", obj("<ZKN:omschrijving>o</ZKN:omschrijving>", "T"), context=ctx())
        assert info.value.paths == ["object/identificatie", "object/startdatum", "object/isVan"]
        assert mappings.to_zgw(
            "ZAK", obj("<ZKN:omschrijving>o</ZKN:omschrijving>"), context=ctx(mode="update")
        ).values == {"omschrijving": "o"}

    def test_defaults_apply_to_creates(self, tmp_path: Path) -> None:
        m = custom(
            tmp_path, "mappings:\n  - entity: X\n    rules:\n      - {stuf: a, zgw: a, convert: jn, default: N}\n"
        )
        assert m.to_zgw("X", element("<ZKN:x/>"), context=ctx()).values == {"a": False}
        assert m.to_zgw("X", element("<ZKN:x/>"), context=ctx(mode="update")).values == {}
        parent = answer_object()
        m.to_stuf("X", {}, parent)
        assert parent.findtext(f"{{{ZKN}}}a") == "N"


class TestContextAndConditions:
    def test_rsin_goes_into_the_zaak_on_create_only(self, mappings: Mappings) -> None:
        base = (
            "<ZKN:identificatie>Z</ZKN:identificatie><ZKN:startdatum>20240101</ZKN:startdatum>"
            "<ZKN:isVan><ZKN:gerelateerde><ZKN:code>C</ZKN:code></ZKN:gerelateerde></ZKN:isVan>"
        )
        created = mappings.to_zgw("ZAK", obj(base, "T"), context=ctx(rsin="823288444"))
        assert created.values["bronorganisatie"] == created.values["verantwoordelijkeOrganisatie"] == "823288444"
        updated = mappings.to_zgw("ZAK", obj(base), context=ctx(mode="update", rsin="823288444"))
        assert "bronorganisatie" not in updated.values

    def test_laatste_betaaldatum_is_left_out_with_nvt(self, mappings: Mappings) -> None:
        inner = ("<ZKN:betalingsIndicatie>{}</ZKN:betalingsIndicatie>"
                 "<ZKN:laatsteBetaaldatum>20241101</ZKN:laatsteBetaaldatum>")
        nvt = mappings.to_zgw("ZAK", obj(inner.format("N.v.t.")), context=ctx(mode="update"))
        assert nvt.values == {"betalingsindicatie": "nvt"}
        paid = mappings.to_zgw("ZAK", obj(inner.format("Geheel")), context=ctx(mode="update"))
        assert paid.values == {"betalingsindicatie": "geheel", "laatsteBetaaldatum": "2024-11-01T00:00:00+01:00"}

    def test_condition_vocabulary(self, tmp_path: Path) -> None:
        m = custom(
            tmp_path,
            """
mappings:
  - entity: X
    rules:
      - {stuf: a, zgw: a}
      - {zgw: only12, value: true, when: {dialect: 1.2}}
      - {zgw: hasA, value: true, when: {present: a}}
      - {zgw: noB, value: true, when: {absent: b}}
      - {zgw: aIsX, value: true, when: {equals: {a: [x, y]}}}
      - {zgw: zgwA, value: true, when: {all: [{zgw_present: a}, {zgw_equals: {a: x}}, {not: {zgw_absent: a}}]}}
      - {zgw: any, value: true, when: {any: [{mode: update}, {equals: {b: "1"}}]}}
""",
        )
        el = element("<ZKN:x><ZKN:a>x</ZKN:a><ZKN:b xsi:nil='true' StUF:noValue='geenWaarde'/></ZKN:x>")
        assert m.to_zgw("X", el, context=ctx(dialect="1.1")).values == {
            "a": "x",
            "hasA": True,
            "noB": True,
            "aIsX": True,
            "zgwA": True,
        }
        assert m.to_zgw("X", el, context=ctx(dialect="1.2", mode="update")).values["only12"] is True
        assert m.to_zgw("X", el, context=ctx(dialect="1.2", mode="update")).values["any"] is True


class TestGroups:
    def test_incomplete_items_are_skipped_and_reported(self, mappings: Mappings) -> None:
        zaak = mappings.to_zgw(
            "ZAK",
            obj(
                "<ZKN:kenmerk><ZKN:kenmerk>k1</ZKN:kenmerk><ZKN:bron>b1</ZKN:bron></ZKN:kenmerk>"
                "<ZKN:kenmerk><ZKN:kenmerk>k2</ZKN:kenmerk></ZKN:kenmerk>"
                "<ZKN:opschorting><ZKN:indicatie>J</ZKN:indicatie></ZKN:opschorting>"
            ),
            context=ctx(mode="update"),
        )
        assert zaak.values == {"kenmerken": [{"kenmerk": "k1", "bron": "b1"}]}
        assert zaak.warnings == [
            "object/kenmerk: overgeslagen, want bron ontbreekt",
            "object/opschorting: overgeslagen, want reden ontbreekt",
        ]

    def test_extra_elementen_become_zaakeigenschappen(self, mappings: Mappings) -> None:
        zaak = mappings.to_zgw(
            "ZAK",
            obj(
                "<StUF:extraElementen><StUF:extraElement naam='kleur'>rood</StUF:extraElement>"
                "<StUF:extraElement naam='leeg' xsi:nil='true' StUF:noValue='geenWaarde'/></StUF:extraElementen>"
            ),
            context=ctx(mode="update"),
        )
        assert zaak.expand["eigenschappen"] == [{"_expand": {"eigenschap": {"naam": "kleur"}}, "waarde": "rood"}]
        assert Mappings.extra_elementen(
            obj("<StUF:extraElementen><StUF:extraElement naam='a'>1</StUF:extraElement></StUF:extraElementen>")
        ) == {"a": "1"}

    def test_a_switch_without_a_known_case(self, mappings: Mappings) -> None:
        with pytest.raises(MappedValueError, match="heeftAlsInitiator/gerelateerde: adres wordt niet vertaald"):
            mappings.to_zgw(
                "ZAKBTR",
                element(
                    "<ZKN:heeftAlsInitiator><ZKN:gerelateerde><ZKN:adres/></ZKN:gerelateerde></ZKN:heeftAlsInitiator>"
                ),
            )
        skipped = mappings.to_zgw(
            "ZAKOBJ",
            element("<ZKN:heeftBetrekkingOp><ZKN:gerelateerde><ZKN:pand/></ZKN:gerelateerde></ZKN:heeftBetrekkingOp>"),
        )
        assert skipped.skipped == "heeftBetrekkingOp/gerelateerde: pand wordt niet vertaald"


class TestAnswers:
    def test_schema_order_and_entiteittype(self, mappings: Mappings) -> None:
        parent = answer_object()
        mappings.to_stuf(
            "ZAK",
            {
                "identificatie": "Z",
                "startdatum": "2024-01-02",
                "omschrijving": "O",
                "_expand": {"zaaktype": {"identificatie": "C", "omschrijving": "Type"}},
                "kenmerken": [{"kenmerk": "k", "bron": "b"}],
                "hoofdzaak": "http://zrc/zaken/1",
                "deelzaken": [],
            },
            parent,
            dialect="1.2",
        )
        assert parent.get(f"{{{STUF}}}entiteittype") == "ZAK"
        assert [etree.QName(c).localname for c in parent] == [
            "identificatie",
            "omschrijving",
            "kenmerk",
            "startdatum",
            "zaakniveau",
            "deelzakenIndicatie",
            "isVan",
        ]
        assert parent.findtext(f"{{{ZKN}}}zaakniveau") == "2"
        assert parent.findtext(f"{{{ZKN}}}deelzakenIndicatie") == "N"
        is_van = parent.find(f"{{{ZKN}}}isVan")
        assert is_van is not None and is_van.get(f"{{{STUF}}}entiteittype") == "ZAKZKT"

    def test_empty_zgw_objects_are_left_out(self, mappings: Mappings) -> None:
        parent = answer_object()
        mappings.to_stuf(
            "ZAK",
            {"opschorting": {"indicatie": False, "reden": ""}, "verlenging": None, "kenmerken": [], "_expand": {}},
            parent,
        )
        assert [etree.QName(c).localname for c in parent] == ["zaakniveau", "deelzakenIndicatie"]

    def test_required_elements_without_value_are_nil_geen_waarde(self, mappings: Mappings) -> None:
        heeft = etree.Element(f"{{{ZKN}}}heeft", nsmap=NSMAP)
        mappings.to_stuf("ZAKSTT", {"_expand": {"statustype": {"omschrijving": "Ontvangen"}}}, heeft)
        toelichting = heeft.find(f"{{{ZKN}}}toelichting")
        assert toelichting is not None
        assert toelichting.get(f"{{{XSI}}}nil") == "true" and toelichting.get(f"{{{STUF}}}noValue") == "geenWaarde"
        volgnummer = heeft.find(f"{{{ZKN}}}gerelateerde/{{{ZKN}}}volgnummer")
        assert volgnummer is not None and volgnummer.get(f"{{{XSI}}}nil") == "true"

    def test_relations_are_placed_in_schema_order(self, mappings: Mappings) -> None:
        parent = answer_object()
        mappings.to_stuf("ZAK", {"identificatie": "Z", "_expand": {"zaaktype": {"identificatie": "C"}}}, parent)
        heeft = etree.Element(f"{{{ZKN}}}heeft")
        mappings.insert_ordered("ZAK", parent, heeft)
        mappings.rol_to_stuf(
            {
                "omschrijvingGeneriek": "initiator",
                "betrokkeneType": "medewerker",
                "betrokkeneIdentificatie": {"identificatie": "m"},
            },
            parent,
        )
        identificatie = etree.Element(f"{{{ZKN}}}omschrijving")
        mappings.insert_ordered("ZAK", parent, identificatie)
        assert [etree.QName(c).localname for c in parent] == [
            "identificatie",
            "omschrijving",
            "zaakniveau",
            "deelzakenIndicatie",
            "isVan",
            "heeftAlsInitiator",
            "heeft",
        ]

    def test_a_value_zgw_cannot_give_back_is_reported(self, mappings: Mappings) -> None:
        parent = answer_object()
        warnings = mappings.to_stuf("ZAK", {"betalingsindicatie": "misschien", "startdatum": "gisteren"}, parent)
        assert parent.find(f"{{{ZKN}}}betalingsIndicatie") is None
        assert any("betalingsindicatie" in w for w in warnings) and any("startdatum" in w for w in warnings)


def test_mapping_context_and_unknown_entity(mappings: Mappings) -> None:
    assert MappingContext().dialect_text == "1.1"
    with pytest.raises(KeyError, match="no mapping for entity 'XYZ'"):
        mappings.to_zgw("XYZ", element("<ZKN:object/>"))
