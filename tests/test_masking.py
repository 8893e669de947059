"""Logs carry no BSNs: masked by pattern (a number that could be one, however it is grouped) and by meaning (the
values of the message's BSN elements, whatever their form). Issue 18 item 6 found "999 99 3653" and "1999993653"
unmasked in log lines."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree

from stuf_bridge.pipeline.record import mask, masked_warnings


@pytest.mark.parametrize(("text", "logged"), [
    ("bsn 999993653", "bsn *******53"),
    ("999 99 3653", "*** ** **53"),
    ("999.99.3653", "***.**.**53"),
    ("1999993653 (te lang)", "********53 (te lang)"),
    ("RSIN 002220647", "RSIN *******47"),
    ("datum 20241105", "datum ******05"),  # 8 digits may be a BSN; a date loses little
    ("datum 2024-11-05, versie 1.2.3, 1234567", "datum 2024-11-05, versie 1.2.3, 1234567"),
    ("identificatie 036320240000001", "identificatie 036320240000001"),  # 15 digits: an identificatie, no BSN
])
def test_a_number_that_could_be_a_bsn_is_masked(text: str, logged: str) -> None:
    assert mask(text) == logged


def test_the_values_of_bsn_elements_are_masked_whatever_their_form() -> None:
    body = etree.fromstring(
        '<ZKN:zakLk01 xmlns:ZKN="http://www.egem.nl/StUF/sector/zkn/0310" '
        'xmlns:BG="http://www.egem.nl/StUF/sector/bg/0310"><BG:inp.bsn>99-99-93653</BG:inp.bsn></ZKN:zakLk01>')
    exchange: Any = SimpleNamespace(request=SimpleNamespace(body=body),
                                    warnings=["inp.bsn 99-99-93653 is geen geldig BSN", "niets geheims"])
    assert masked_warnings(exchange) == ["inp.bsn **-**-***53 is geen geldig BSN", "niets geheims"]
