"""Document messages for the streaming tests, with the base64 produced piece by piece (never whole in memory)."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from stuf_bridge.stuf.namespaces import SOAP11, SOAP12, STUF, XMIME, ZKN

ACTION = "http://www.egem.nl/StUF/sector/zkn/0310/"
XOP = "http://www.w3.org/2004/08/xop/include"


def _stuurgegevens(berichtcode: str, referentienummer: str, entiteittype: str = "EDC") -> str:
    return f"""   <ZKN:stuurgegevens>
    <StUF:berichtcode>{berichtcode}</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>Streamer</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
    <StUF:tijdstipBericht>20241105143012</StUF:tijdstipBericht>
    <StUF:entiteittype>{entiteittype}</StUF:entiteittype>
   </ZKN:stuurgegevens>"""


def _envelope(soap: str, inner: str) -> str:
    ns = SOAP11 if soap == "1.1" else SOAP12
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{ns}" xmlns:StUF="{STUF}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <ZKN:edcLk01 xmlns:ZKN="{ZKN}" xmlns:xmime="{XMIME}">
{inner}
  </ZKN:edcLk01>
 </soapenv:Body>
</soapenv:Envelope>"""


def voeg_toe_parts(*, inhoud: str = "@INHOUD@", referentienummer: str = "stream-1", soap: str = "1.1",
                   bestandsnaam: str = "groot.pdf") -> tuple[bytes, bytes]:
    """voegZaakdocumentToe_Lk01 split around the text of ``inhoud`` (the part before and the part after)."""
    inner = f"""{_stuurgegevens("Lk01", referentienummer)}
   <ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername></ZKN:parameters>
   <ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="T">
    <ZKN:identificatie>0363D20240000001</ZKN:identificatie>
    <ZKN:dct.omschrijving>Melding</ZKN:dct.omschrijving>
    <ZKN:creatiedatum>20241105</ZKN:creatiedatum>
    <ZKN:titel>Groot document</ZKN:titel>
    <ZKN:formaat>pdf</ZKN:formaat>
    <ZKN:taal>nl</ZKN:taal>
    <ZKN:vertrouwelijkAanduiding>OPENBAAR</ZKN:vertrouwelijkAanduiding>
    <ZKN:auteur>Streamer</ZKN:auteur>
    <ZKN:inhoud xmime:contentType="application/pdf" StUF:bestandsnaam="{bestandsnaam}">{inhoud}</ZKN:inhoud>
    <ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="T">
     <ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">
      <ZKN:identificatie>0363ZK1</ZKN:identificatie></ZKN:gerelateerde>
    </ZKN:isRelevantVoor>
   </ZKN:object>"""
    before, _, after = _envelope(soap, inner).partition("@INHOUD@")
    return before.encode(), after.encode()


def voeg_toe(content: bytes, **kw: str) -> bytes:
    before, after = voeg_toe_parts(**kw)
    return before + base64.b64encode(content) + after


def lezen(referentienummer: str = "stream-lezen") -> bytes:
    inner = f"""{_stuurgegevens("Lv01", referentienummer)}
   <ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag></ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="EDC"><ZKN:identificatie>0363D20240000001</ZKN:identificatie></ZKN:gelijk>
   <ZKN:scope><ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/></ZKN:scope>"""
    return _envelope("1.1", inner).replace("ZKN:edcLk01", "ZKN:edcLv01").encode()


def headers(action: str = "voegZaakdocumentToe_Lk01", soap: str = "1.1") -> dict[str, str]:
    if soap == "1.2":
        return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{ACTION}{action}"'}
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}{action}"'}


@dataclass
class Generated:
    """Pseudo-random document bytes of a given size, produced in pieces; the sha256 of what was produced."""

    size: int
    seed: int = 1
    chunk: int = 1 << 20
    hash: hashlib._Hash = field(default_factory=hashlib.sha256)  # type: ignore[name-defined]

    def chunks(self) -> Iterator[bytes]:
        rng = random.Random(self.seed)
        left = self.size
        while left:
            piece = rng.randbytes(min(self.chunk, left))
            left -= len(piece)
            self.hash.update(piece)
            yield piece


def base64_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """MIME-style base64 (line breaks every 76 characters), piece by piece."""
    pending = b""
    for chunk in chunks:
        data = pending + chunk
        usable = len(data) - len(data) % 57
        pending = data[usable:]
        if usable:
            yield base64.encodebytes(data[:usable])
    if pending:
        yield base64.encodebytes(pending)


def mtom(before: bytes, after: bytes, parts: dict[str, bytes], *, soap: str = "1.1", boundary: str = "MIMEBoundary_1",
         start: str = "root.message@cxf.apache.org", inhoud_cid: str = "doc1@example.org") -> tuple[bytes, str]:
    """An MTOM request: ``before`` + xop:Include + ``after`` as root part, ``parts`` by Content-ID."""
    root_type = "text/xml" if soap == "1.1" else "application/soap+xml"
    root = before + f'<xop:Include xmlns:xop="{XOP}" href="cid:{inhoud_cid.replace("@", "%40")}"/>'.encode() + after
    body = [f"--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"{root_type}\"\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{start}>\r\n\r\n".encode(), root]
    for cid, data in parts.items():
        body.append(f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary"
                    f"\r\nContent-ID: <{cid}>\r\n\r\n".encode())
        body.append(data)
    body.append(f"\r\n--{boundary}--\r\n".encode())
    action = f'; start-info="{root_type}; action=\\"{ACTION}voegZaakdocumentToe_Lk01\\""' if soap == "1.2" else ""
    content_type = (f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="<{start}>"'
                    f"{action}")
    return b"".join(body), content_type
