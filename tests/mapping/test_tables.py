"""RSIN per gemeentecode, roltypen per relation and zaaktype, status/resultaat matching, fallback resultaat."""

from __future__ import annotations

from pathlib import Path

import pytest

from stuf_bridge.mapping import (
    Mappings,
    MissingFallbackResultaat,
    RoltypeKeys,
    UnknownOrganisation,
    UnknownRelation,
    pick_roltype,
    valid_rsin,
)

from .conftest import ctx, element

ROLTYPEN = [
    {"url": "rt/1", "omschrijving": "Aanvrager", "omschrijvingGeneriek": "initiator"},
    {"url": "rt/2", "omschrijving": "Belanghebbende", "omschrijvingGeneriek": "belanghebbende"},
    {"url": "rt/3", "omschrijving": "Zaakcoördinator", "omschrijvingGeneriek": "zaakcoordinator"},
    {"url": "rt/4", "omschrijving": "Beslisser", "omschrijvingGeneriek": "beslisser"},
    {"url": "rt/5", "omschrijving": "Mede-initiator", "omschrijvingGeneriek": "mede_initiator"},
]


class TestRsin:
    def test_valid_rsin(self) -> None:
        assert valid_rsin("002564440") and valid_rsin("823288444")
        assert not valid_rsin("002564441") and not valid_rsin("2564440") and not valid_rsin("00256444a")

    def test_mapped_gemeentecode(self, overlaid: Mappings) -> None:
        assert overlaid.rsin_for("1900") == "823288444"
        assert overlaid.rsin_for(" 0363 ", default_rsin="001005650") == "002564440"  # the mapping wins

    def test_unmapped_gemeentecode_uses_the_default(self, overlaid: Mappings) -> None:
        assert overlaid.rsin_for("0599", default_rsin="001005650") == "001005650"
        assert overlaid.rsin_for(None, default_rsin="001005650") == "001005650"

    def test_unmapped_without_default_is_stuf013(self, mappings: Mappings) -> None:
        with pytest.raises(UnknownOrganisation) as info:
            mappings.rsin_for("0599")
        assert info.value.code == "StUF013" and info.value.plek == "client"
        assert "0599" in info.value.omschrijving and "organisaties" in info.value.omschrijving

    def test_an_invalid_default_is_stuf013_too(self, mappings: Mappings) -> None:
        with pytest.raises(UnknownOrganisation, match="geen geldig RSIN"):
            mappings.rsin_for("0599", default_rsin="123456789")


class TestRoltypen:
    def test_defaults_per_relation(self, mappings: Mappings) -> None:
        assert mappings.roltype_for("heeftAlsInitiator") == RoltypeKeys("Initiator", ("initiator",))
        assert mappings.roltype_for("heeftAlsVerantwoordelijke") == RoltypeKeys(
            "Verantwoordelijke", ("zaakcoordinator", "beslisser")
        )
        omschrijving, generiek = mappings.roltype_for("heeftAlsGemachtigde")
        assert (omschrijving, generiek) == ("Gemachtigde", ("belanghebbende",))

    def test_per_zaaktype_with_generiek_fallback(self, overlaid: Mappings) -> None:
        keys = overlaid.roltype_for("heeftAlsInitiator", "B1026")
        assert keys == RoltypeKeys("Aanvrager", ("initiator",))
        assert overlaid.roltype_for("heeftAlsInitiator", "MOR") == RoltypeKeys("Initiator", ("initiator",))
        assert overlaid.roltype_for("heeftAlsUitvoerende", "B1026") == RoltypeKeys("Consulent", ("behandelaar",))

    def test_pick_roltype_by_omschrijving_then_generiek(self, mappings: Mappings) -> None:
        assert pick_roltype(RoltypeKeys("aanvrager", ("initiator",)), ROLTYPEN)["url"] == "rt/1"
        # "Initiator" is not an omschrijving of this zaaktype: the generiek finds "Aanvrager"
        assert mappings.pick_roltype(mappings.roltype_for("heeftAlsInitiator"), ROLTYPEN)["url"] == "rt/1"
        # zaakcoordinator before beslisser
        assert pick_roltype(mappings.roltype_for("heeftAlsVerantwoordelijke"), ROLTYPEN)["url"] == "rt/3"
        assert pick_roltype(mappings.roltype_for("heeftAlsUitvoerende"), ROLTYPEN) is None

    def test_the_zds_rol_omschrijving_can_pick_other_keys(self, mappings: Mappings) -> None:
        keys = mappings.roltype_for("heeftAlsOverigBetrokkene", rol_omschrijving="Mede_Initiator")
        assert keys == RoltypeKeys("Mede-initiator", ("mede_initiator",))
        assert pick_roltype(keys, ROLTYPEN)["url"] == "rt/5"

    def test_unknown_relation(self, mappings: Mappings) -> None:
        with pytest.raises(UnknownRelation):
            mappings.roltype_for("heeftAlsBuurman")

    def test_gemachtigde_sets_indicatie_machtiging(self, mappings: Mappings) -> None:
        rol = mappings.rol_to_zgw(
            element(
                "<ZKN:heeftAlsGemachtigde><ZKN:gerelateerde><ZKN:medewerker><ZKN:identificatie>m</ZKN:identificatie>"
                "</ZKN:medewerker></ZKN:gerelateerde></ZKN:heeftAlsGemachtigde>"
            ),
            context=ctx(),
        )
        assert rol.values["indicatieMachtiging"] == "gemachtigde"
        assert rol.values["roltoelichting"] == "Gemachtigde"  # ZRC requires one; the roltype omschrijving

    def test_rollen_take_the_zaaktype_from_the_object(self, overlaid: Mappings) -> None:
        obj = element(
            "<ZKN:object><ZKN:isVan><ZKN:gerelateerde><ZKN:code>B1026</ZKN:code></ZKN:gerelateerde></ZKN:isVan>"
            "<ZKN:heeftAlsInitiator StUF:verwerkingssoort='T'><ZKN:gerelateerde><ZKN:medewerker>"
            "<ZKN:identificatie>m</ZKN:identificatie></ZKN:medewerker></ZKN:gerelateerde></ZKN:heeftAlsInitiator>"
            "</ZKN:object>"
        )
        (rol,) = overlaid.rollen_to_zgw(obj, context=ctx())
        assert (rol.relation, rol.roltype.omschrijving, rol.verwerkingssoort) == ("heeftAlsInitiator", "Aanvrager", "T")


class TestRelationForAnswers:
    @pytest.mark.parametrize(
        ("rol", "relation"),
        [
            ({"omschrijving": "Initiator", "omschrijvingGeneriek": "initiator"}, "heeftAlsInitiator"),
            ({"omschrijving": "Aanvrager", "omschrijvingGeneriek": "initiator"}, "heeftAlsInitiator"),
            ({"omschrijving": "Belanghebbende", "omschrijvingGeneriek": "belanghebbende"}, "heeftAlsBelanghebbende"),
            (
                {
                    "omschrijving": "Partner",
                    "omschrijvingGeneriek": "belanghebbende",
                    "indicatieMachtiging": "gemachtigde",
                },
                "heeftAlsGemachtigde",
            ),
            (
                {
                    "omschrijving": "Partner",
                    "omschrijvingGeneriek": "belanghebbende",
                    "indicatieMachtiging": "machtiginggever",
                },
                "heeftAlsBelanghebbende",
            ),
            ({"omschrijving": "Behandelaar", "omschrijvingGeneriek": "behandelaar"}, "heeftAlsUitvoerende"),
            ({"omschrijving": "Beslisser", "omschrijvingGeneriek": "beslisser"}, "heeftAlsVerantwoordelijke"),
            ({"omschrijving": "Mede-initiator", "omschrijvingGeneriek": "mede_initiator"}, "heeftAlsOverigBetrokkene"),
            ({"omschrijving": "KCC", "omschrijvingGeneriek": "klantcontacter"}, "heeftAlsOverigBetrokkene"),
        ],
    )
    def test_relation_for(self, mappings: Mappings, rol: dict[str, str], relation: str) -> None:
        assert mappings.relation_for(rol) == relation

    def test_per_zaaktype_omschrijving_wins(self, overlaid: Mappings) -> None:
        # "Consulent" is B1026's Uitvoerende, even though its generiek says adviseur
        rol = {"omschrijving": "Consulent", "omschrijvingGeneriek": "adviseur"}
        assert overlaid.relation_for(rol, zaaktype="B1026") == "heeftAlsUitvoerende"
        assert overlaid.relation_for(rol) == "heeftAlsOverigBetrokkene"

    def test_no_relation(self, mappings: Mappings) -> None:
        assert mappings.relation_for({"omschrijving": "?", "omschrijvingGeneriek": "onbekend"}) is None


STATUSTYPEN = [
    {"url": "st/1", "omschrijving": "Ontvangen", "volgnummer": 1},
    {"url": "st/2", "omschrijving": "In behandeling genomen", "volgnummer": 2},
    {"url": "st/3", "omschrijving": "Afgehandeld", "volgnummer": 3},
]


class TestMatching:
    def test_statustype_exact_casefold_prefix(self, mappings: Mappings) -> None:
        assert mappings.match_statustype(STATUSTYPEN, omschrijving="Ontvangen").item["url"] == "st/1"
        match = mappings.match_statustype(STATUSTYPEN, omschrijving="ontvangen ")
        assert match.item["url"] == "st/1" and match.warnings == ("statustype 'ontvangen ' gevonden als 'Ontvangen'",)
        assert mappings.match_statustype(STATUSTYPEN, omschrijving="In behandeling").item["url"] == "st/2"

    def test_statustype_volgnummer(self, mappings: Mappings, overlaid: Mappings) -> None:
        match = mappings.match_statustype(STATUSTYPEN, omschrijving="Afgehandeld", volgnummer="0002")
        assert match.item["url"] == "st/3"
        assert match.warnings == ("statustype 'Afgehandeld' heeft volgnummer 3, het bericht noemt 2",)
        # B1026 requires exact omschrijving and volgnummer
        assert not overlaid.match_statustype(STATUSTYPEN, omschrijving="Afgehandeld", volgnummer=2, zaaktype="B1026")
        assert not overlaid.match_statustype(STATUSTYPEN, omschrijving="afgehandeld", volgnummer=3, zaaktype="B1026")
        assert overlaid.match_statustype(STATUSTYPEN, omschrijving="Afgehandeld", volgnummer=3, zaaktype="B1026")

    def test_no_statustype(self, mappings: Mappings) -> None:
        match = mappings.match_statustype(STATUSTYPEN, omschrijving="Vernietigd")
        assert match.item is None and not match
        assert match.warnings == (
            "geen statustype met omschrijving 'Vernietigd' "
            "(bekend: 'Ontvangen', 'In behandeling genomen', 'Afgehandeld')",
        )

    def test_resultaattype_prefix_finds_the_shorter_zgw_omschrijving(self, mappings: Mappings) -> None:
        resultaattypen = [{"omschrijving": "Verleend met voorsch"}, {"omschrijving": "Geweigerd"}]  # ZGW: ≤ 20
        match = mappings.match_resultaattype(resultaattypen, omschrijving="Verleend met voorschriften")
        assert match.item == {"omschrijving": "Verleend met voorsch"}

    def test_ambiguous_prefix_takes_the_first_and_says_so(self, mappings: Mappings) -> None:
        match = mappings.match_resultaattype(
            [{"omschrijving": "Toegekend deels"}, {"omschrijving": "Toegekend"}], omschrijving="Toegek"
        )
        assert match.item == {"omschrijving": "Toegekend deels"}
        assert "past op meerdere resultaattypen" in match.warnings[0]


class TestFallbackResultaat:
    def test_per_zaaktype_and_defaults(self, overlaid: Mappings) -> None:
        assert overlaid.fallback_resultaat("B1026") == "Toegekend"
        assert overlaid.fallback_resultaat("MOR") == "Onbekend"
        assert overlaid.fallback_resultaat("ONBEKEND-ZAAKTYPE") == "Onbekend"

    def test_without_fallback_the_fault_says_what_to_configure(self, mappings: Mappings) -> None:
        with pytest.raises(MissingFallbackResultaat) as info:
            mappings.fallback_resultaat("B1026")
        assert info.value.code == "StUF058"
        assert "profiles.zaaktypen.B1026.fallback_resultaat" in str(info.value.details)

    def test_ignore_eindstatus_profile_flag(self, overlaid: Mappings) -> None:
        assert overlaid.profile("MOR").ignore_eindstatus is True
        assert overlaid.profile("B1026").ignore_eindstatus is False


def test_any_organisatie_string_is_a_key_of_the_rsin_mapping(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "organisaties.yaml").write_text("organisaties: {'AMS': '002564440', 'Gemeente X': '823288444'}\n")
    mappings = Mappings.load(overlay_dir=overlay)
    assert mappings.rsin_for("AMS") == "002564440"
    assert mappings.rsin_for("Gemeente X") == "823288444"
