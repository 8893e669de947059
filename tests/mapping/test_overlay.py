"""A deployment's mapping directory laid over the defaults, and per-zaaktype value overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from stuf_bridge.mapping import MappedValueError, MappingError, Mappings
from stuf_bridge.stuf.namespaces import STUF, ZKN

from .conftest import EXAMPLE_OVERLAY, NSMAP, ctx, element, write_mappings

DEFAULTS = Path(__file__).resolve().parents[2] / "mappings"


def zaak_object(code: str, inner: str = "", extras: dict[str, str] | None = None) -> etree._Element:
    extra = "".join(f"<StUF:extraElement naam='{k}'>{v}</StUF:extraElement>" for k, v in (extras or {}).items())
    return element(
        "<ZKN:object StUF:verwerkingssoort='T'><ZKN:identificatie>Z1</ZKN:identificatie>"
        f"{inner}<ZKN:startdatum>20240101</ZKN:startdatum>"
        + (f"<StUF:extraElementen>{extra}</StUF:extraElementen>" if extra else "")
        + f"<ZKN:isVan><ZKN:gerelateerde><ZKN:code>{code}</ZKN:code></ZKN:gerelateerde></ZKN:isVan>"
        "<ZKN:heeftAlsInitiator><ZKN:gerelateerde><ZKN:nietNatuurlijkPersoon><BG:statutaireNaam>Maas BV"
        "</BG:statutaireNaam></ZKN:nietNatuurlijkPersoon></ZKN:gerelateerde></ZKN:heeftAlsInitiator>"
        "<ZKN:heeftAlsBelanghebbende><ZKN:gerelateerde><ZKN:medewerker><ZKN:identificatie>m</ZKN:identificatie>"
        "</ZKN:medewerker></ZKN:gerelateerde></ZKN:heeftAlsBelanghebbende></ZKN:object>"
    )


class TestExampleOverlay:
    def test_it_loads_over_the_defaults(self, overlaid: Mappings) -> None:
        assert "gemeente/profiles.yaml" in overlaid.files and "zaak.yaml" in overlaid.files
        assert overlaid.organisaties == {"1900": "823288444", "0363": "002564440"}
        assert "taal" in overlaid.tables

    def test_an_overlay_rule_replaces_the_default_rule(self, mappings: Mappings, overlaid: Mappings) -> None:
        inner = f"<ZKN:omschrijving>{'o' * 70}</ZKN:omschrijving>"
        assert len(mappings.to_zgw("ZAK", zaak_object("X", inner), context=ctx()).values["omschrijving"]) == 70
        zaak = overlaid.to_zgw("ZAK", zaak_object("X", inner), context=ctx())
        assert len(zaak.values["omschrijving"]) == 60
        assert zaak.warnings == ["object/omschrijving is ingekort van 70 tot 60 tekens"]

    def test_an_overlay_rule_is_appended(self, overlaid: Mappings) -> None:
        zaak = overlaid.to_zgw("ZAK", zaak_object("X", extras={"vertrouwelijkheid": "BEPERKT OPENBAAR"}), context=ctx())
        assert zaak.values["vertrouwelijkheidaanduiding"] == "beperkt_openbaar"


class TestValueOverrides:
    def test_a_constant(self, overlaid: Mappings) -> None:
        zaak = overlaid.to_zgw("ZAK", zaak_object("B1026"), context=ctx())
        assert zaak.values["betalingsindicatie"] == "nvt"
        assert zaak.overrides == ["betalingsindicatie ← waarde (profiles.zaaktypen.B1026.overrides[0])"]
        assert "betalingsindicatie" not in overlaid.to_zgw("ZAK", zaak_object("MOR"), context=ctx()).values

    def test_if_unset_leaves_a_mapped_value_alone(self, overlaid: Mappings) -> None:
        inner = "<ZKN:betalingsIndicatie>Geheel</ZKN:betalingsIndicatie>"
        assert (
            overlaid.to_zgw("ZAK", zaak_object("B1026", inner), context=ctx()).values["betalingsindicatie"] == "geheel"
        )

    def test_from_a_named_extra_element_through_a_table(self, overlaid: Mappings) -> None:
        zaak = overlaid.to_zgw("ZAK", zaak_object("B1026", extras={"bewaren": "J"}), context=ctx())
        assert zaak.values["archiefnominatie"] == "vernietigen"
        with pytest.raises(MappedValueError, match=r"extraElement\[bewaren\]"):
            overlaid.to_zgw("ZAK", zaak_object("B1026", extras={"bewaren": "misschien"}), context=ctx())

    def test_on_rollen_with_a_condition_on_the_body(self, overlaid: Mappings) -> None:
        obj = zaak_object("B1026", extras={"kvkNummer": "69599084"})
        initiator, belanghebbende = overlaid.rollen_to_zgw(obj, context=ctx())
        assert initiator.values["betrokkeneIdentificatie"] == {
            "statutaireNaam": "Maas BV",
            "annIdentificatie": "69599084",
        }
        assert "annIdentificatie" not in belanghebbende.values["betrokkeneIdentificatie"]  # a medewerker
        other = overlaid.rollen_to_zgw(zaak_object("MOR", extras={"kvkNummer": "69599084"}), context=ctx())
        assert "annIdentificatie" not in other[0].values["betrokkeneIdentificatie"]

    def test_an_extra_element_override_comes_back_in_answers(self, overlaid: Mappings) -> None:
        parent = etree.Element(f"{{{ZKN}}}object", nsmap=NSMAP)
        overlaid.to_stuf(
            "ZAK",
            {
                "identificatie": "Z",
                "archiefnominatie": "vernietigen",
                "_expand": {
                    "zaaktype": {"identificatie": "B1026"},
                    "eigenschappen": [{"naam": "kleur", "waarde": "rood"}],
                },
            },
            parent,
        )
        extras = {e.get("naam"): e.text for e in parent.iter(f"{{{STUF}}}extraElement")}
        assert extras == {"kleur": "rood", "bewaren": "J"}
        assert parent.findtext(f"{{{ZKN}}}archiefnominatie") == "J"
        names = [etree.QName(c).localname for c in parent]
        assert names.index("extraElementen") < names.index("isVan")


class TestMergeRules:
    def overlay(self, tmp_path: Path, **files: str) -> Mappings:
        return Mappings.load(DEFAULTS, write_mappings(tmp_path / "overlay", **files))

    def test_remove_a_default_rule(self, tmp_path: Path) -> None:
        m = self.overlay(
            tmp_path,
            zaak="mappings:\n  - entity: ZAK\n    rules:\n"
            "      - {stuf: toelichting, zgw: toelichting, remove: true}\n",
        )
        zaak = m.to_zgw("ZAK", zaak_object("X", "<ZKN:toelichting>t</ZKN:toelichting>"), context=ctx())
        assert "toelichting" not in zaak.values

    def test_remove_of_nothing_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(MappingError, match="nothing to remove: no such rule") as info:
            self.overlay(
                tmp_path,
                zaak="mappings:\n  - entity: ZAK\n    rules:\n"
                "      - {stuf: toelichting, zgw: opmerking, remove: true}\n",
            )
        assert info.value.file == "overlay/zaak.yaml"

    def test_replace_a_whole_mapping(self, tmp_path: Path) -> None:
        m = self.overlay(
            tmp_path,
            res="mappings:\n  - entity: resultaat\n    resource: resultaat\n    replace: true\n"
            "    rules:\n      - {stuf: omschrijving, zgw: _expand.resultaattype.omschrijving}\n",
        )
        res = m.to_zgw(
            "resultaat",
            element(
                "<ZKN:resultaat><ZKN:omschrijving>A</ZKN:omschrijving>"
                "<ZKN:toelichting>t</ZKN:toelichting></ZKN:resultaat>"
            ),
        )
        assert res.values == {"_expand": {"resultaattype": {"omschrijving": "A"}}}

    def test_roles_merge_field_by_field_and_tables_code_by_code(self, tmp_path: Path) -> None:
        m = self.overlay(
            tmp_path,
            x="roles:\n  heeftAlsInitiator: {omschrijving: Aanvrager}\n"
            "tables:\n  archiefnominatie: {codes: {J: vernietigen, N: blijvend_bewaren, "
            "B: blijvend_bewaren}}\n",
        )
        assert m.roltype_for("heeftAlsInitiator") == ("Aanvrager", ("initiator",))
        assert m.roles.roles["heeftAlsInitiator"].entiteittype == "ZAKBTRINI"
        zaak = m.to_zgw("ZAK", zaak_object("X", "<ZKN:archiefnominatie>B</ZKN:archiefnominatie>"), context=ctx())
        assert zaak.values["archiefnominatie"] == "blijvend_bewaren"

    def test_an_overlay_table_with_one_code_merges_into_the_default_table(self, tmp_path: Path) -> None:
        m = self.overlay(tmp_path, x="tables:\n  taal: {codes: {nl: dut}}\n")  # document.yaml's taal table
        taal = m.tables["taal"]
        assert taal.codes.to_zgw("nl") == "dut"  # the overlay's code wins
        assert taal.codes.to_zgw("fr") == "fre" and taal.codes.to_zgw("es") == "spa"  # the others stay
        assert taal.unknown == "keep"  # not given in the overlay: the default's

    def test_an_overlay_table_with_one_code_merges_into_a_built_in_table(self, tmp_path: Path) -> None:
        m = self.overlay(tmp_path, x="tables:\n  archiefnominatie: {codes: {B: blijvend_bewaren}}\n")
        codes = m.tables["archiefnominatie"].codes
        assert codes.to_zgw("B") == codes.to_zgw("N") == "blijvend_bewaren" and codes.to_zgw("J") == "vernietigen"
        assert codes.to_stuf("blijvend_bewaren") == "N"  # the way out keeps the default's code

    def test_an_overlay_table_with_replace_replaces_the_whole_table(self, tmp_path: Path) -> None:
        m = self.overlay(tmp_path, x="tables:\n  taal: {codes: {nl: dut}, replace: true}\n")
        assert m.tables["taal"].codes.stuf_to_zgw == {"nl": "dut"}
        assert m.tables["taal"].unknown == "error"

    def test_an_overlay_entry_of_a_roles_table_merges_into_it(self, tmp_path: Path) -> None:
        extra = "roles:\n  heeftAlsOverigBetrokkene:\n    by_rol_omschrijving: {adviseur: {omschrijving: Adviseur}}\n"
        m = self.overlay(tmp_path, x=extra)
        keys = m.roles.roles["heeftAlsOverigBetrokkene"].by_rol_omschrijving
        assert set(keys) == {"mede_initiator", "adviseur"}  # the default's entry is still there
        whole = extra.replace("    by_rol", "    replace: true\n    entiteittype: ZAKBTROVR\n    by_rol")
        replaced = self.overlay(tmp_path / "r", x=whole)
        assert set(replaced.roles.roles["heeftAlsOverigBetrokkene"].by_rol_omschrijving) == {"adviseur"}

    def test_the_overlay_may_redefine_what_the_defaults_define(self, tmp_path: Path) -> None:
        m = self.overlay(
            tmp_path,
            a="organisaties: {'0363': '002564440'}\n",
            b="matching: {statustype: {compare: exact, volgnummer: ignore}}\n",
        )
        assert m.rsin_for("0363") == "002564440"
        assert not m.match_statustype([{"omschrijving": "Ontvangen"}], omschrijving="ontvangen")

    def test_but_not_twice_within_itself(self, tmp_path: Path) -> None:
        with pytest.raises(MappingError, match="gemeentecode '0363' is already defined in overlay/a.yaml"):
            self.overlay(tmp_path, a="organisaties: {'0363': '002564440'}\n", b="organisaties: {'0363': '823288444'}\n")

    def test_the_example_overlay_directory_is_documented(self) -> None:
        readme = (EXAMPLE_OVERLAY / "README.md").read_text("utf-8")
        for path in EXAMPLE_OVERLAY.glob("*.yaml"):
            assert f"`{path.name}`" in readme
