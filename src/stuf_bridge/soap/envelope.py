"""SOAP 1.1 and 1.2 envelopes: reading a request, writing an answer or a fault in the request's SOAP version."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from lxml import etree

from ..content import Content
from ..errors import MessageError
from ..stuf.namespaces import SOAP11, SOAP12
from .xmlparse import parse_xml


class SoapVersion(str, enum.Enum):
    SOAP11 = "1.1"
    SOAP12 = "1.2"

    @property
    def namespace(self) -> str:
        return SOAP11 if self is SoapVersion.SOAP11 else SOAP12

    @property
    def content_type(self) -> str:
        if self is SoapVersion.SOAP11:
            return "text/xml; charset=utf-8"
        return "application/soap+xml; charset=utf-8"

    @classmethod
    def guess(cls, content_type: str | None) -> SoapVersion:
        """The version a client probably speaks, for faults about messages that could not be read."""
        if content_type and "application/soap+xml" in content_type.lower():
            return cls.SOAP12
        return cls.SOAP11


@dataclass(frozen=True)
class ContentType:
    media_type: str
    charset: str | None
    action: str | None

    @classmethod
    def parse(cls, header: str | None) -> ContentType:
        if not header:
            return cls("", None, None)
        media_type, *params = header.split(";")
        values: dict[str, str] = {}
        for param in params:
            key, sep, value = param.partition("=")
            if sep:
                values[key.strip().lower()] = value.strip().strip('"').strip("'")
        return cls(media_type.strip().lower(), values.get("charset") or None, values.get("action") or None)


@dataclass
class SoapRequest:
    version: SoapVersion
    action: str | None  # SOAPAction without quotes; None when absent or empty
    envelope: etree._Element
    body: etree._Element  # the first element inside soap:Body: the StUF message
    contents: list[Content] = field(default_factory=list)  # documents taken out of the tree while parsing


def clean_action(raw: str | None) -> str | None:
    if raw is None:
        return None
    action = raw.strip().strip('"').strip("'").strip()
    return action or None


def read_request(
    data: bytes,
    *,
    content_type: str | None,
    soap_action: str | None,
    max_bytes: int,
    max_depth: int,
) -> SoapRequest:
    """Parse and check a SOAP request. Raises ``MessageError`` for anything that is not a usable SOAP message."""
    ctype = ContentType.parse(content_type)
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth, charset=ctype.charset)
    if root.tag == f"{{{SOAP11}}}Envelope":
        version = SoapVersion.SOAP11
    elif root.tag == f"{{{SOAP12}}}Envelope":
        version = SoapVersion.SOAP12
    else:
        raise MessageError(
            "Het bericht is geen SOAP-envelope",
            f"Het root-element is {root.tag}; verwacht wordt een SOAP 1.1 of 1.2 Envelope.",
        )
    ns = version.namespace
    body_el = None
    for child in root:
        if child.tag == f"{{{ns}}}Body":
            body_el = child
            break
    if body_el is None:
        raise MessageError("De SOAP-envelope heeft geen Body", "Het element soap:Body ontbreekt.")
    message = next((el for el in body_el if isinstance(el.tag, str)), None)
    if message is None:
        raise MessageError("De SOAP Body is leeg", "De soap:Body bevat geen StUF-bericht.")
    # SOAP 1.2 carries the action in the Content-Type; clients such as Open Formulieren send the SOAP 1.1
    # header with 1.2 as well. Either is accepted.
    action = clean_action(ctype.action) or clean_action(soap_action)
    return SoapRequest(version=version, action=action, envelope=root, body=message)


def envelope(version: SoapVersion, payload: etree._Element) -> bytes:
    """Wrap a StUF message in an envelope of the given version."""
    ns = version.namespace
    env = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    etree.SubElement(env, f"{{{ns}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def fault_envelope(version: SoapVersion, *, plek: str, omschrijving: str, detail: etree._Element) -> bytes:
    """A SOAP Fault: Client/Sender or Server/Receiver by ``plek``, the StUF fault message as detail."""
    ns = version.namespace
    env = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    fault = etree.SubElement(etree.SubElement(env, f"{{{ns}}}Body"), f"{{{ns}}}Fault")
    client = plek == "client"
    if version is SoapVersion.SOAP11:
        etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
        etree.SubElement(fault, "faultstring").text = omschrijving
        etree.SubElement(fault, "detail").append(detail)
    else:
        code = etree.SubElement(fault, f"{{{ns}}}Code")
        etree.SubElement(code, f"{{{ns}}}Value").text = "soap:Sender" if client else "soap:Receiver"
        reason = etree.SubElement(fault, f"{{{ns}}}Reason")
        text = etree.SubElement(reason, f"{{{ns}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "nl")
        text.text = omschrijving
        etree.SubElement(fault, f"{{{ns}}}Detail").append(detail)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
