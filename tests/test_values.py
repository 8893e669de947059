"""StUF value conversions: dates and tijdstippen (Europe/Amsterdam, DST), noValue/nil, J/N, code lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from stuf_bridge.stuf import values as v


@pytest.mark.parametrize(
    "text, iso",
    [
        ("20240115", "2024-01-15T00:00:00+01:00"),  # 8 digits: midnight local time, winter
        ("2024071512", "2024-07-15T12:00:00+02:00"),  # summer: +02:00
        ("20240715123456", "2024-07-15T12:34:56+02:00"),  # Open Forms' 14 digits
        ("2024071512345612", "2024-07-15T12:34:56.120+02:00"),  # WebformulierenVerwerker's 16 digits
        ("20240715123456789", "2024-07-15T12:34:56.789+02:00"),
        ("20240331023000000", "2024-03-31T03:30:00+02:00"),  # in the spring gap: moved forward an hour
        ("20241027023000000", "2024-10-27T02:30:00+02:00"),  # the autumn hour that occurs twice: first one
        ("20241027033000000", "2024-10-27T03:30:00+01:00"),
    ],
)
def test_tijdstip_is_amsterdam_local_time(text: str, iso: str) -> None:
    assert v.iso(v.parse_tijdstip(text)) == iso


def test_tijdstip_back_to_stuf_in_amsterdam_time() -> None:
    assert v.format_tijdstip("2024-07-15T10:34:56.789Z") == "20240715123456789"
    assert v.format_tijdstip(datetime(2024, 1, 15, 23, 30, tzinfo=UTC)) == "20240116003000000"
    with pytest.raises(v.ConversionError, match="tijdzone"):
        v.format_tijdstip(datetime(2024, 1, 15))


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_tijdstip_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert v.parse_tijdstip(v.format_tijdstip(moment)) == moment


@pytest.mark.parametrize("text", ["2024011", "202401151234567890", "2024-01-15", "20241301", "20240230120000"])
def test_bad_tijdstip_names_the_value(text: str) -> None:
    with pytest.raises(v.ConversionError, match=text):
        v.parse_tijdstip(text)


@pytest.mark.parametrize(
    "text, ind, expected, lossy",
    [
        ("20240115", None, date(2024, 1, 15), False),
        ("20240115", "V", date(2024, 1, 15), False),
        ("20240100", "D", date(2024, 1, 1), True),
        ("20240000", "M", date(2024, 1, 1), True),
        ("00000000", "J", None, True),
        # a partially known date written short, as StUF's Datum (a decimal of up to 8 digits) allows
        ("199007", "D", date(1990, 7, 1), True),
        ("1990", "M", date(1990, 1, 1), True),
        ("199007", None, date(1990, 7, 1), True),
        ("0", "J", None, True),
    ],
)
def test_datum_and_ind_onvolledige_datum(text: str, ind: str | None, expected: date | None, lossy: bool) -> None:
    value, note = v.parse_datum(text, ind)
    assert value == expected
    assert (note is not None) == lossy


@pytest.mark.parametrize("text", ["19900", "1990071", "199", "1990-07"])
def test_a_datum_of_another_length_names_the_value(text: str) -> None:
    with pytest.raises(v.ConversionError, match=text):
        v.parse_datum(text, "D")


def test_datum_out() -> None:
    assert v.format_datum(date(2024, 2, 29)) == "20240229"
    assert v.format_datum("2024-02-29") == "20240229"
    with pytest.raises(v.ConversionError, match="20240230"):
        v.parse_datum("20240230")


def test_future_values_within_tolerance_are_clamped_beyond_it_refused() -> None:
    now = datetime(2024, 7, 15, 10, 0, tzinfo=UTC)
    assert v.not_in_future(now - timedelta(seconds=1), now=now, tolerance=timedelta(minutes=5), name="x") == (
        now - timedelta(seconds=1), None)
    clamped, note = v.not_in_future(now + timedelta(seconds=30), now=now, tolerance=timedelta(minutes=5), name="x")
    assert clamped == now and note is not None and "30 s" in note.what
    # Amsterdam wall-clock time sent as if it were UTC lands two hours in the future: refused, value named.
    wall_clock_as_utc = datetime(2024, 7, 15, 12, 0, tzinfo=UTC)
    with pytest.raises(v.ConversionError, match="20240715140000000"):
        v.not_in_future(wall_clock_as_utc, now=now, tolerance=timedelta(minutes=5), name="datumStatusGezet")


def test_nil_and_no_value() -> None:
    el = etree.fromstring(
        f'<r xmlns:StUF="{v.STUF}" xmlns:xsi="{v.XSI}"><a StUF:noValue="geenWaarde" xsi:nil="true"/>'
        f'<b StUF:noValue="waardeOnbekend" xsi:nil="true"/><c> x </c><d/></r>'
    )
    a, b, c, d = el
    assert v.element_value(a) == v.Nil("geenWaarde") and v.element_value(a).clears
    assert not v.element_value(b).clears
    assert v.element_value(c) == "x"
    assert v.element_value(d) == ""
    assert v.element_value(None) is None


def test_code_lists() -> None:
    assert v.VERTROUWELIJKHEID.to_zgw("BEPERKT OPENBAAR") == "beperkt_openbaar"
    assert v.VERTROUWELIJKHEID.to_zgw("zeer geheim") == "zeer_geheim"
    assert v.VERTROUWELIJKHEID.to_stuf("zaakvertrouwelijk") == "ZAAKVERTROUWELIJK"
    assert v.BETALINGSINDICATIE.to_zgw("(Nog) niet") == "nog_niet"
    assert v.ARCHIEFNOMINATIE.to_zgw("J") == "vernietigen"
    assert v.GESLACHTSAANDUIDING.to_stuf("v") == "V"
    assert v.DOCUMENTSTATUS.to_zgw("Definitief") == "definitief"
    with pytest.raises(v.ConversionError, match="GEHEIMPJE"):
        v.VERTROUWELIJKHEID.to_zgw("GEHEIMPJE")
    assert v.jn_to_bool("J") and not v.jn_to_bool("n")
    assert v.bool_to_jn(True) == "J"
    with pytest.raises(v.ConversionError):
        v.jn_to_bool("misschien")


def test_durations_and_texts() -> None:
    assert v.duur_to_iso("30") == "P30D"
    assert v.iso_to_duur("P30D") == 30 and v.iso_to_duur("P6W") == 42
    with pytest.raises(v.ConversionError):
        v.iso_to_duur("PT5H")
    assert v.clip_text("abc", 5, "x") == ("abc", None)
    text, note = v.clip_text("a" * 90, 80, "omschrijving")
    assert len(text) == 80 and "90" in note.what


def test_a_no_value_with_a_value_anyway_gives_the_value() -> None:
    stray = etree.fromstring(f'<d xmlns:StUF="{v.STUF}" StUF:noValue="geenWaarde">20200214</d>')
    assert v.element_value(stray) == "20200214" and v.has_stray_no_value(stray)
    empty = etree.fromstring(f'<d xmlns:StUF="{v.STUF}" StUF:noValue="geenWaarde"/>')
    assert isinstance(v.element_value(empty), v.Nil) and not v.has_stray_no_value(empty)
