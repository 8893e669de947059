"""Every converter of the registry, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from stuf_bridge.mapping import CONVERTERS
from stuf_bridge.mapping import converters as conv
from stuf_bridge.stuf.values import AMSTERDAM, ConversionError

from .conftest import NOW, element


def build(name: str, table: str | None = None, **args: Any) -> conv.Converter:
    return conv.build(name, args, conv.BUILTIN_TABLES[table] if table else None)


def cx() -> conv.Ctx:
    return conv.Ctx(NOW, [], "object/x")


def in_(name: str, text: str, el: etree._Element | None = None, **args: Any) -> tuple[Any, list[str]]:
    c = cx()
    value = build(name, **args).to_zgw(text, el, c)
    return value, c.notes


def out(name: str, value: Any, **args: Any) -> Any:
    return build(name, **args).to_stuf(value, cx())


def test_the_registry_holds_the_documented_converters() -> None:
    assert set(CONVERTERS) | {"code"} == {
        "text",
        "integer",
        "datum",
        "datum-tijdstip",
        "tijdstip",
        "tijdstip-not-in-future",
        "jn",
        "duur",
        "code",
        "postcode",
        "bsn",
        "lijst",
        "rechtsvorm",
        "adresregel",
        "zaakniveau",
        "jn-present",
    }


def test_unknown_converter_and_bad_args_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown converter 'nope'"):
        conv.build("nope", {})
    with pytest.raises(ValueError, match="bad args"):
        conv.build("text", {"max": 3})
    with pytest.raises(ValueError, match="needs a 'table'"):
        conv.build("code", {})


def test_text_and_integer() -> None:
    assert in_("text", "abc") == ("abc", [])
    assert out("text", "abc") == "abc"
    assert out("text", 12) == "12"
    assert in_("integer", "0012") == (12, [])
    assert out("integer", 12) == "12"
    with pytest.raises(ConversionError):
        in_("integer", "12a")
    with pytest.raises(ConversionError):
        out("integer", True)


class TestDatum:
    def test_plain_both_ways(self) -> None:
        assert in_("datum", "20240229") == ("2024-02-29", [])
        assert out("datum", "2024-02-29") == "20240229"
        assert out("datum", "2024-02-29T23:30:00+01:00") == "20240229"

    @pytest.mark.parametrize(
        ("text", "ind", "expected", "note"),
        [
            ("19620314", "V", "1962-03-14", None),
            ("19620300", "D", "1962-03-01", "dag onbekend"),
            ("19620000", "M", "1962-01-01", "maand onbekend"),
            ("00000000", "J", conv.SKIP, "jaar onbekend"),
            ("19620000", None, "1962-01-01", "maand onbekend"),  # zeros say it too
        ],
    )
    def test_ind_onvolledige_datum(self, text: str, ind: str | None, expected: Any, note: str | None) -> None:
        attr = f' StUF:indOnvolledigeDatum="{ind}"' if ind else ""
        el = element(f"<BG:geboortedatum{attr}>{text}</BG:geboortedatum>")
        value, notes = in_("datum", text, el)
        assert value == expected
        assert (note is None and notes == []) or (note is not None and note in notes[0])

    def test_bad_dates_are_errors(self) -> None:
        for text in ("2024-02-29", "20240230", "2024022"):
            with pytest.raises(ConversionError):
                in_("datum", text)

    def test_datum_as_date_time_and_back(self) -> None:
        assert in_("datum-tijdstip", "20240701")[0] == "2024-07-01T00:00:00+02:00"
        assert in_("datum-tijdstip", "20240101")[0] == "2024-01-01T00:00:00+01:00"
        assert out("datum-tijdstip", "2024-06-30T22:30:00Z") == "20240701"


class TestTijdstip:
    @pytest.mark.parametrize(
        ("text", "iso"),
        [
            ("20240115", "2024-01-15T00:00:00+01:00"),  # 8 digits: midnight, local
            ("202401151230", "2024-01-15T12:30:00+01:00"),
            ("20240715123045", "2024-07-15T12:30:45+02:00"),  # summer time
            ("20240715123045123", "2024-07-15T12:30:45.123+02:00"),
            ("2024021209154400", "2024-02-12T09:15:44+01:00"),  # 16 digits (GWS4all)
            ("20240331023000000", "2024-03-31T03:30:00+02:00"),  # in the spring gap: moved forward
            ("20241027023000000", "2024-10-27T02:30:00+02:00"),  # the autumn hour twice: the first one
            ("20241027033000000", "2024-10-27T03:30:00+01:00"),
        ],
    )
    def test_stuf_to_iso_in_europe_amsterdam(self, text: str, iso: str) -> None:
        assert in_("tijdstip", text) == (iso, [])

    @pytest.mark.parametrize(
        ("iso", "text"),
        [
            ("2024-01-15T11:30:00Z", "20240115123000000"),
            ("2024-07-15T10:30:45.123+00:00", "20240715123045123"),
            ("2024-03-31T01:30:00+00:00", "20240331033000000"),  # just after the change to summer time
            ("2024-03-31T00:59:59+00:00", "20240331015959000"),  # just before it
            ("2024-10-27T00:30:00+00:00", "20241027023000000"),  # the first 02:30
            ("2024-10-27T01:30:00+00:00", "20241027023000000"),  # the second 02:30 (same wall clock)
            ("2024-07-15T12:00:00+02:00", "20240715120000000"),
        ],
    )
    def test_iso_to_stuf_in_europe_amsterdam(self, iso: str, text: str) -> None:
        assert out("tijdstip", iso) == text

    @given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
    def test_round_trip_from_zgw(self, moment: datetime) -> None:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        back = datetime.fromisoformat(in_("tijdstip", out("tijdstip", moment.isoformat()))[0])
        local = moment.astimezone(AMSTERDAM)
        if local.fold == 1:  # the repeated autumn hour: StUF has no offset, the first occurrence is read back
            assert back - moment == timedelta(hours=-1)
        else:
            assert back == moment

    def test_bad_tijdstippen(self) -> None:
        for text in ("2024011", "202401151230451234", "20241315"):
            with pytest.raises(ConversionError):
                in_("tijdstip", text)
        with pytest.raises(ConversionError):
            out("tijdstip", "gisteren")

    def test_not_in_future_clamps_within_tolerance_and_reports(self) -> None:
        # NOW is 2024-11-24T12:00Z = 13:00 local; 13:03 local is 3 minutes ahead.
        value, notes = in_("tijdstip-not-in-future", "20241124130300000")
        assert value == "2024-11-24T13:00:00+01:00"
        assert len(notes) == 1 and "180 s in de toekomst; nu gebruikt" in notes[0]
        assert in_("tijdstip-not-in-future", "20241124125900000") == ("2024-11-24T12:59:00+01:00", [])

    def test_not_in_future_refuses_beyond_tolerance(self) -> None:
        with pytest.raises(ConversionError, match="in de toekomst"):
            in_("tijdstip-not-in-future", "20241124131000000")
        assert in_("tijdstip-not-in-future", "20241124131000000", tolerance="PT10M")[0] == "2024-11-24T13:00:00+01:00"
        with pytest.raises(ConversionError):
            in_("tijdstip-not-in-future", "20241124130100000", tolerance=30)


def test_jn() -> None:
    assert in_("jn", "J") == (True, [])
    assert in_("jn", "n") == (False, [])
    assert out("jn", True) == "J" and out("jn", False) == "N"
    with pytest.raises(ConversionError):
        in_("jn", "ja")
    with pytest.raises(ConversionError):
        out("jn", "true")


def test_duur() -> None:
    assert in_("duur", "30") == ("P30D", [])
    assert in_("duur", "0") == ("P0D", [])
    value, notes = in_("duur", "0", skip_zero=True)
    assert value is conv.SKIP and "duur 0" in notes[0]
    assert out("duur", "P30D") == "30"
    assert out("duur", "P6W") == "42"
    with pytest.raises(ConversionError):
        in_("duur", "dertig")
    with pytest.raises(ConversionError):
        out("duur", "PT5H")


class TestCodeTables:
    @pytest.mark.parametrize(
        ("stuf", "zgw"),
        [
            ("ZEER GEHEIM", "zeer_geheim"),
            ("BEPERKT OPENBAAR", "beperkt_openbaar"),
            ("ZAAKVERTROUWELIJK", "zaakvertrouwelijk"),
            ("OPENBAAR", "openbaar"),
        ],
    )
    def test_vertrouwelijkheid_both_ways_including_two_word_values(self, stuf: str, zgw: str) -> None:
        assert in_("code", stuf, table="vertrouwelijkheid")[0] == zgw
        assert out("code", zgw, table="vertrouwelijkheid") == stuf

    @pytest.mark.parametrize(
        "variant", ["beperkt openbaar", "Beperkt  Openbaar", "BEPERKT_OPENBAAR", " beperkt_openbaar "]
    )
    def test_vertrouwelijkheid_variants_clients_send(self, variant: str) -> None:
        assert in_("code", variant, table="vertrouwelijkheid")[0] == "beperkt_openbaar"

    def test_betalingsindicatie(self) -> None:
        pairs = {"N.v.t.": "nvt", "(Nog) niet": "nog_niet", "Gedeeltelijk": "gedeeltelijk", "Geheel": "geheel"}
        for stuf, zgw in pairs.items():
            assert in_("code", stuf, table="betalingsindicatie")[0] == zgw
            assert out("code", zgw, table="betalingsindicatie") == stuf

    def test_archiefnominatie_and_geslachtsaanduiding(self) -> None:
        assert in_("code", "J", table="archiefnominatie")[0] == "vernietigen"
        assert in_("code", "N", table="archiefnominatie")[0] == "blijvend_bewaren"
        assert out("code", "vernietigen", table="archiefnominatie") == "J"
        assert [in_("code", g, table="geslachtsaanduiding")[0] for g in "MVO"] == ["m", "v", "o"]
        assert out("code", "v", table="geslachtsaanduiding") == "V"

    def test_unknown_values(self) -> None:
        with pytest.raises(ConversionError, match="onbekend"):
            in_("code", "GEHEIMPJE", table="vertrouwelijkheid")
        value, notes = in_("code", "Concept", table="documentstatus")  # documentstatus: unknown is omitted
        assert value is conv.SKIP and "weggelaten" in notes[0]
        keep = conv.Code(conv.CodeTableSpec(conv.v.CodeTable("taal", {"nl": "dut"}), unknown="keep"))
        assert keep.to_zgw("nl", None, cx()) == "dut"
        assert keep.to_zgw("nld", None, cx()) == "nld"
        assert keep.to_stuf("eng", cx()) == "eng"


def test_postcode_and_lijst() -> None:
    assert in_("postcode", "1016 gv") == ("1016GV", [])
    assert out("postcode", "1016 GV") == "1016GV"
    assert in_("lijst", "Dakkapellen Zuid") == (["Dakkapellen Zuid"], [])
    assert out("lijst", ["A"]) == "A"
    c = cx()
    assert build("lijst").to_stuf(["A", "B"], c) == "A" and "alleen de eerste van 2" in c.notes[0]
    assert out("lijst", []) is conv.SKIP


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Besloten Vennootschap", "besloten_vennootschap"),
        ("B.V.", "besloten_vennootschap"),
        ("Naamloze vennootschap", "naamloze_vennootschap"),
        ("Stichting", "stichting"),
        ("Vereniging van Eigenaars", "vereniging_van_eigenaars"),
        ("Vereniging met volledige rechtsbevoegdheid", "vereniging"),
        ("Coöperatie", "cooperatie_europees_economische_samenwerking"),
        ("Kerkgenootschap", "kerkelijke_organisatie"),
        ("VOF", "vennootschap_onder_firma"),
        ("publiekrechtelijke_rechtspersoon", "publiekrechtelijke_rechtspersoon"),
    ],
)
def test_rechtsvorm_in(text: str, value: str) -> None:
    assert in_("rechtsvorm", text) == (value, [])


def test_rechtsvorm_unknown_and_out() -> None:
    value, notes = in_("rechtsvorm", "Eenmanszaak")
    assert value == "overig_privaatrechtelijke_rechtspersoon" and "onbekend" in notes[0]
    assert out("rechtsvorm", "besloten_vennootschap") == "Besloten vennootschap"


def test_adresregel() -> None:
    el = element(
        "<BG:bezoekadres><BG:wpl.woonplaatsNaam>Delft</BG:wpl.woonplaatsNaam>"
        "<BG:gor.openbareRuimteNaam xsi:nil='true' StUF:noValue='geenWaarde'/>"
        "<BG:gor.straatnaam>Oude Delft</BG:gor.straatnaam>"
        "<BG:aoa.postcode>2611BD</BG:aoa.postcode><BG:aoa.huisnummer>7</BG:aoa.huisnummer>"
        "<BG:aoa.huisletter>a</BG:aoa.huisletter><BG:aoa.huisnummertoevoeging>2</BG:aoa.huisnummertoevoeging></BG:bezoekadres>"
    )
    assert in_("adresregel", "", el) == ("Oude Delft 7a-2, 2611BD Delft", [])
    assert in_("adresregel", "", element("<BG:bezoekadres/>"))[0] is conv.SKIP
    assert build("adresregel").directions == frozenset({"in"})


def test_derived_answer_values() -> None:
    assert out("zaakniveau", "http://zrc/zaken/1") == "2"
    assert out("jn-present", ["http://zrc/zaken/2"]) == "J"
    assert build("zaakniveau").directions == build("jn-present").directions == frozenset({"out"})
