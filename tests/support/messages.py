"""Small builders for the identifier messages, shared by the integration tests and the benches."""

from __future__ import annotations

from stuf_bridge.stuf.namespaces import SOAP11, SOAP12, STUF, ZDS, ZKN

ACTION_11 = "http://www.egem.nl/StUF/sector/zkn/0310/"
ACTION_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"

_FUNCTIE = {
    "genereerZaakIdentificatie": "genereerZaakidentificatie",
    "genereerDocumentIdentificatie": "genereerDocumentidentificatie",
    "genereerBesluitIdentificatie": "genereerBesluitidentificatie",
}


def di02(
    operation: str = "genereerZaakIdentificatie",
    *,
    dialect: str = "1.1",
    soap: str = "1.1",
    organisatie: str = "1900",
    applicatie: str = "Tests",
    referentienummer: str = "ref-1",
) -> tuple[bytes, dict]:
    """A genereer*Identificatie_Di02 request: (body, headers) ready to POST to /zds/VrijeBerichten."""
    wrapper, root_ns, action = ("ZKN", ZKN, ACTION_11) if dialect == "1.1" else ("ZDS", ZDS, ACTION_12)
    env_ns = SOAP11 if soap == "1.1" else SOAP12
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="{env_ns}" xmlns:StUF="{STUF}" xmlns:{wrapper}="{root_ns}">
  <env:Body>
    <{wrapper}:{operation}_Di02>
      <{wrapper}:stuurgegevens>
        <StUF:berichtcode>Di02</StUF:berichtcode>
        <StUF:zender><StUF:organisatie>{organisatie}</StUF:organisatie><StUF:applicatie>{applicatie}</StUF:applicatie></StUF:zender>
        <StUF:ontvanger><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
        <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
        <StUF:tijdstipBericht>20241124120000000</StUF:tijdstipBericht>
        <StUF:functie>{_FUNCTIE[operation]}</StUF:functie>
      </{wrapper}:stuurgegevens>
    </{wrapper}:{operation}_Di02>
  </env:Body>
</env:Envelope>""".encode()
    if soap == "1.1":
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}{operation}_Di02"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}{operation}_Di02"'}
    return body, headers
