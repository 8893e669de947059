"""geefZaakdetails questions in both dialects (ZDS 1.1 ``ZKN:zakLv01``, ZDS 1.2 ``ZDS:geefZaakdetails_ZakLv01``)."""

from __future__ import annotations

from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZDS, ZKN

ACTION_11 = "http://www.egem.nl/StUF/sector/zkn/0310/geefZaakdetails_Lv01"
ACTION_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/geefZaakdetails_ZakLv01"

# scope element lists (the nil form of STUF §6.3.3)
INITIATOR_ONLY = '<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" xsi:nil="true"/>'
OMSCHRIJVING_ONLY = '<ZKN:omschrijving xsi:nil="true"/>'
HEEFT_ONLY = '<ZKN:heeft StUF:entiteittype="ZAKSTT" xsi:nil="true"/>'


def selection_identificatie(identificatie: str) -> str:
    return f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>"


def selection_bsn(bsn: str) -> str:
    return f"""<ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI">
      <ZKN:gerelateerde StUF:entiteittype="BTR"><ZKN:identificatie>11{bsn}</ZKN:identificatie></ZKN:gerelateerde>
    </ZKN:heeftAlsInitiator>"""


def geef_zaakdetails(
    *,
    dialect: str = "1.1",
    identificatie: str | None = "0363ZK2024-000101",
    bsn: str | None = None,
    scope: str | None = "alles",
    elements: str = "",
    referentienummer: str = "vraag-1",
) -> tuple[bytes, dict[str, str]]:
    """(body, headers). ``scope`` is the StUF:scope attribute; None with ``elements`` lists elements instead;
    None without elements leaves the scope out."""
    gelijk = selection_bsn(bsn) if bsn else selection_identificatie(identificatie or "")
    if scope is not None:
        scope_xml = f'<ZKN:scope><ZKN:object StUF:entiteittype="ZAK" StUF:scope="{scope}"/></ZKN:scope>'
    elif elements:
        scope_xml = f'<ZKN:scope><ZKN:object StUF:entiteittype="ZAK">{elements}</ZKN:object></ZKN:scope>'
    else:
        scope_xml = ""
    if dialect == "1.1":
        root, ns_decl, action = "ZKN:zakLv01", "", ACTION_11
    else:
        root, ns_decl, action = "ZDS:geefZaakdetails_ZakLv01", f' xmlns:ZDS="{ZDS}"', ACTION_12
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:StUF="{STUF}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <{root} xmlns:ZKN="{ZKN}"{ns_decl}>
   <ZKN:stuurgegevens>
    <StUF:berichtcode>Lv01</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>Zaaksysteem</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
    <StUF:tijdstipBericht>20241106101500</StUF:tijdstipBericht>
    <StUF:entiteittype>ZAK</StUF:entiteittype>
   </ZKN:stuurgegevens>
   <ZKN:parameters>
    <StUF:sortering>0</StUF:sortering>
    <StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>
   </ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="ZAK">{gelijk}</ZKN:gelijk>
   {scope_xml}
  </{root}>
 </soapenv:Body>
</soapenv:Envelope>"""
    return body.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
