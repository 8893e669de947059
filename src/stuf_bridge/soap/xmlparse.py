"""The one XML parse function for everything a client sends.

No DTDs, no entity resolution, no network access, no recover mode; a size limit and a depth limit. A message
that breaks any rule raises ``MessageError`` (StUF055), never a bare exception.
"""

from __future__ import annotations

import functools

from lxml import etree

from ..errors import MessageError

_DOCTYPE = b"<!DOCTYPE"


@functools.lru_cache(maxsize=8)
def _parser(encoding: str | None) -> etree.XMLParser:
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        recover=False,
        huge_tree=True,  # base64 document content is one large text node; depth is checked below
        remove_blank_text=False,
        collect_ids=False,
    )


def _declares_encoding(body: bytes) -> bool:
    head = body[:200]
    return head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or (
        head.startswith(b"<?xml") and b"encoding" in head.split(b"?>", 1)[0]
    )


def parse_xml(body: bytes, *, max_bytes: int, max_depth: int, charset: str | None = None) -> etree._Element:
    """Parse a message safely and return its root element.

    ``charset`` is the HTTP Content-Type charset; it is used only when the document itself declares no encoding
    (no BOM, no encoding in the XML declaration), as with ISO-8859-1 senders that leave the declaration out.
    """
    if not body or not body.strip():
        raise MessageError("Het bericht is leeg", "De HTTP-body bevat geen XML.")
    if len(body) > max_bytes:
        raise MessageError(
            "Het bericht is te groot",
            f"Het bericht is {len(body)} bytes; de grens is {max_bytes} bytes (instelling max_message_bytes).",
        )
    if body[:1].isspace():
        # An XML declaration after leading blank lines is a common client bug; tolerate it.
        body = body.lstrip()
    if _DOCTYPE in body[:4096]:  # a DTD stands before the root element; the parse result is checked too
        raise MessageError("Het bericht bevat een DTD", "DTD's (<!DOCTYPE ...>) zijn in SOAP-berichten niet toegestaan.")
    encoding = None
    if charset and not _declares_encoding(body):
        encoding = _normalise_charset(charset)
    try:
        root = etree.fromstring(body, _parser(encoding))
    except etree.XMLSyntaxError as exc:
        line = f" (regel {exc.lineno}, kolom {exc.offset})" if getattr(exc, "lineno", None) else ""
        raise MessageError("Het bericht is geen goedgevormde XML", f"{exc.msg}{line}") from exc
    except (ValueError, LookupError) as exc:  # unknown encoding names and the like
        raise MessageError("Het bericht kan niet worden gelezen", str(exc)) from exc
    if root.getroottree().docinfo.doctype:
        raise MessageError("Het bericht bevat een DTD", "DTD's (<!DOCTYPE ...>) zijn in SOAP-berichten niet toegestaan.")
    _check_depth(root, max_depth)
    return root


def _check_depth(root: etree._Element, max_depth: int) -> None:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth > max_depth:
                raise MessageError(
                    "Het bericht is te diep genest",
                    f"Elementen zijn dieper dan {max_depth} niveaus genest (instelling max_xml_depth).",
                )
        else:
            depth -= 1


def _normalise_charset(charset: str) -> str:
    name = charset.strip().strip('"').lower()
    return {"latin-1": "iso-8859-1", "latin1": "iso-8859-1"}.get(name, name)
