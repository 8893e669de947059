"""The streaming parser on its own: the tree without document text, the text in a spool, the same rules as
parse_xml."""

from __future__ import annotations

import base64
import os

import pytest
from lxml import etree

from stuf_bridge.content import ContentTooLarge
from stuf_bridge.errors import MessageError
from stuf_bridge.soap.envelope import RequestReader
from stuf_bridge.soap.streaming import INHOUD, XmlFeed
from stuf_bridge.soap.xmlparse import parse_xml

from .messages import voeg_toe, voeg_toe_parts

LIMITS = {"max_bytes": 1 << 20, "max_depth": 50, "max_document_bytes": 1 << 20}


def streamed(doc: bytes, *pieces: int, charset: str | None = None, **limits: int) -> tuple[etree._Element, list]:
    feed = XmlFeed(**{**LIMITS, **limits}, charset=charset, stream_above=0)
    at = 0
    for cut in [*pieces, len(doc)]:
        feed.feed(doc[at:cut])
        at = cut
    return feed.close()


def without_content(doc: bytes, charset: str | None = None) -> bytes:
    """The c14n of ``doc`` parsed whole, with the text of every inhoud removed: what the streamed tree must be."""
    root = parse_xml(doc, max_bytes=1 << 30, max_depth=50, charset=charset)
    for element in root.iter(INHOUD):
        element.text = None
    return etree.tostring(root, method="c14n")


@pytest.mark.parametrize("style", ["plain", "lines", "crlf-refs", "cdata"])
def test_base64_split_at_every_offset(style: str) -> None:
    data = os.urandom(200)
    text = {
        "plain": base64.b64encode(data),
        "lines": base64.encodebytes(data),
        "crlf-refs": base64.encodebytes(data).replace(b"\n", b"&#13;\n"),  # as .NET clients write line breaks
        "cdata": b"<![CDATA[" + base64.b64encode(data) + b"]]>",
    }[style]
    before, after = voeg_toe_parts()
    doc = before + text + after
    expected = without_content(before + base64.b64encode(data) + after)
    start = len(before) - 40
    for cut in range(start, len(before) + len(text) + 20):
        root, contents = streamed(doc, cut)
        assert etree.tostring(root, method="c14n") == expected, cut
        assert len(contents) == 1
        assert contents[0].read_all() == data, cut
        assert contents[0].element.tag == INHOUD and contents[0].element.text is None
        assert (contents[0].bestandsnaam, contents[0].content_type) == ("groot.pdf", "application/pdf")


def test_every_split_of_a_whole_message_in_three() -> None:
    data = os.urandom(31)
    doc = voeg_toe(data)
    expected = without_content(doc)
    for first in range(0, len(doc), 17):
        for second in range(first, len(doc), 97):
            root, contents = streamed(doc, first, second)
            assert etree.tostring(root, method="c14n") == expected
            with contents[0] as content:
                assert content.read_all() == data


def test_line_numbers_of_the_streamed_tree_match_the_whole_parse() -> None:
    doc = voeg_toe(os.urandom(3000)).replace(b"<ZKN:inhoud", b"<!-- a\ncomment -->\n<ZKN:inhoud")
    whole = parse_xml(doc, max_bytes=1 << 30, max_depth=50)
    streamed_root, _ = streamed(doc)
    lines = [(el.tag, el.sourceline) for el in whole.iter() if isinstance(el.tag, str)]
    assert [(el.tag, el.sourceline) for el in streamed_root.iter() if isinstance(el.tag, str)] == lines


def test_empty_inhoud_gives_no_content() -> None:
    root, contents = streamed(voeg_toe(b""))
    assert contents == [] and root.find(f".//{INHOUD}") is not None


@pytest.mark.parametrize(
    "text, reason",
    [
        (b"QUJD!RA==", "hoort niet in base64"),
        (b"QUJDRA=", "geen viervoud"),
        (b"QUI=QUJD", "'='"),
        (b"QUJD&#60;RA==", "hoort niet in base64"),
    ],
)
def test_malformed_base64_is_a_message_error_naming_inhoud(text: bytes, reason: str) -> None:
    before, after = voeg_toe_parts()
    with pytest.raises(MessageError) as caught:
        streamed(before + text + after, len(before) + 2)
    assert (caught.value.code, caught.value.reason) == ("StUF055", "base64-invalid")
    assert "inhoud" in (caught.value.details or "") and reason in (caught.value.details or "")


def test_content_above_max_document_bytes_is_refused_while_reading() -> None:
    before, _ = voeg_toe_parts()
    feed = XmlFeed(**{**LIMITS, "max_document_bytes": 1000}, stream_above=0)
    feed.feed(before)
    with pytest.raises(ContentTooLarge):
        for _ in range(100):
            feed.feed(base64.b64encode(os.urandom(300)))
    feed.abort()


def test_max_message_bytes_counts_the_xml_without_content() -> None:
    data = os.urandom(100_000)
    doc = voeg_toe(data)
    _, contents = streamed(doc, 5000, 50_000, max_bytes=4000)  # the message is ~137 kB, its XML ~2 kB
    assert contents[0].read_all() == data
    with pytest.raises(MessageError, match="te groot"):
        streamed(doc.replace(b"<ZKN:titel>", b"<ZKN:titel>" + b"x" * 5000), 3000, max_bytes=4000)


def test_a_child_element_inside_inhoud_is_refused() -> None:
    before, after = voeg_toe_parts()
    with pytest.raises(MessageError, match="bevat elementen"):
        streamed(before + b"QUJD<x/>RA==" + after)


@pytest.mark.parametrize(
    "doc, message",
    [
        (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "DTD"),
        (b"<r>&lol;</r>", "goedgevormde"),
        (b"<r>" + b"<a>" * 60 + b"</a>" * 60 + b"</r>", "diep"),
        (b"not xml", "goedgevormde"),
        (b"<r><a></r>", "goedgevormde"),
        (b"<r/><r/>", "goedgevormde"),
        (b"   ", "leeg"),
    ],
)
def test_hardening_holds_while_streaming(doc: bytes, message: str) -> None:
    reader = RequestReader(content_type="text/xml", soap_action=None, stream_above=0, **LIMITS)
    with pytest.raises(MessageError) as caught:
        for i in range(0, len(doc), 5):
            reader.feed(doc[i:i + 5])
        reader.finish()
    assert message in caught.value.omschrijving


def test_a_dtd_after_a_long_comment_is_still_refused() -> None:
    doc = b"<!--" + b"x" * 10_000 + b'-->\n<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
    with pytest.raises(MessageError, match="DTD"):
        streamed(doc, 100, 5000)


@pytest.mark.parametrize(
    "encoding, header, bom",
    [("iso-8859-1", "iso-8859-1", b""), ("utf-8", None, b"\xef\xbb\xbf"), ("utf-16", None, b"")],
)
def test_charsets_while_streaming(encoding: str, header: str | None, bom: bytes) -> None:
    data = os.urandom(5000)
    text = voeg_toe(data).decode().replace("Groot document", "Één café").replace(' encoding="UTF-8"', "")
    doc = bom + text.encode(encoding)
    root, contents = streamed(doc, 7, 1001, charset=header)
    assert root.findtext(".//{http://www.egem.nl/StUF/sector/zkn/0310}titel") == "Één café"
    assert contents[0].read_all() == data


def test_unknown_charset_is_a_message_error() -> None:
    with pytest.raises(MessageError, match="kan niet worden gelezen"):
        streamed(voeg_toe(b"abc").replace(b' encoding="UTF-8"', b""), charset="x-klingon")


@pytest.fixture(params=["binascii", "pybase64"])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both base64 back-ends: the standard library and, where installed, pybase64 (the "fast" extra)."""
    import stuf_bridge.content as content_module

    if request.param == "pybase64":
        module = pytest.importorskip("pybase64")
        monkeypatch.setattr(content_module, "_simd", module)
    else:
        monkeypatch.setattr(content_module, "_simd", None)
    return request.param


@pytest.mark.parametrize(
    "text, valid",
    [(b"QUJD", True), (b"QUI=", True), (b"QQ==", True), (b"QUJDRA==", True), (b"QQ==QQ==", False),
     (b"QUI=QUJD", False), (b"=QUJ", False), (b"QU=I", False), (b"QUJ!", False), (b"QUJ", False), (b"", True)],
)
def test_both_base64_codecs_agree(codec: str, text: bytes, valid: bool) -> None:
    from stuf_bridge.content import Base64Spool, encode_chunks

    spool = Base64Spool()
    if valid:
        for i in range(len(text)):
            spool.feed(text[i:i + 1])
        assert spool.finish().read_all() == base64.b64decode(text)
    else:
        with pytest.raises(MessageError, match="geen geldige base64"):
            spool.feed(text[:3])
            spool.feed(text[3:])
            spool.finish()
    data = os.urandom(10_000)
    assert b"".join(encode_chunks([data[:7], data[7:5000], data[5000:]])) == base64.b64encode(data)
