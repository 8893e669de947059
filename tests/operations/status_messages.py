"""actualiseerZaakstatus and geefZaakstatus messages in both dialects."""

from __future__ import annotations

from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZDS, ZKN

ACTUALISEER_11 = "http://www.egem.nl/StUF/sector/zkn/0310/actualiseerZaakstatus_Lk01"
ACTUALISEER_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/actualiseerZaakstatus_ZakLk01"
GEEF_11 = "http://www.egem.nl/StUF/sector/zkn/0310/geefZaakstatus_Lv01"
GEEF_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/geefZaakstatus_ZakLv01"
HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


def _stuurgegevens(berichtcode: str, referentienummer: str) -> str:
    return f"""
   <ZKN:stuurgegevens>
    <StUF:berichtcode>{berichtcode}</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>Zaaksysteem</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
    <StUF:tijdstipBericht>20241106101500</StUF:tijdstipBericht>
    <StUF:entiteittype>ZAK</StUF:entiteittype>
   </ZKN:stuurgegevens>"""


def gezet_door(medewerker: str = "MDW-007") -> str:
    return f"""
      <ZKN:isGezetDoor StUF:entiteittype="ZAKSTTBTR" StUF:verwerkingssoort="T">
        <ZKN:gerelateerde>
          <ZKN:medewerker StUF:entiteittype="MDW" StUF:verwerkingssoort="I">
            <ZKN:identificatie>{medewerker}</ZKN:identificatie>
          </ZKN:medewerker>
        </ZKN:gerelateerde>
      </ZKN:isGezetDoor>"""


def _envelope(root: str, ns_decl: str, content: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:StUF="{STUF}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <{root} xmlns:ZKN="{ZKN}"{ns_decl}>{content}
  </{root}>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def actualiseer_zaakstatus(
    *,
    dialect: str = "1.1",
    identificatie: str = "0363ZK2024-000101",
    omschrijving: str = "In behandeling",
    volgnummer: str = "2",
    datum: str = "20241106101500",
    toelichting: str = "Behandeling gestart.",
    referentienummer: str = "status-1",
    gezet_door_xml: str | None = None,
    old: bool = True,
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of an actualiseerZaakstatus: the old object (kerngegevens) and the new one with its status.
    ZDS 1.2 makes isGezetDoor mandatory: a medewerker by default there."""
    if gezet_door_xml is None:
        gezet_door_xml = gezet_door() if dialect == "1.2" else ""
    old_object = (
        f"""
   <ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">
    <ZKN:identificatie>{identificatie}</ZKN:identificatie>
    <ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="W" xsi:nil="true" StUF:noValue="geenWaarde"/>
   </ZKN:object>"""
        if old
        else ""
    )
    content = (
        _stuurgegevens("Lk01", referentienummer)
        + f"""
   <ZKN:parameters>
    <StUF:mutatiesoort>W</StUF:mutatiesoort>
    <StUF:indicatorOvername>V</StUF:indicatorOvername>
   </ZKN:parameters>{old_object}
   <ZKN:object StUF:entiteittype="ZAK" StUF:verwerkingssoort="W">
    <ZKN:identificatie>{identificatie}</ZKN:identificatie>
    <ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I">
        <ZKN:volgnummer>{volgnummer}</ZKN:volgnummer>
        <ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>
      </ZKN:gerelateerde>
      <ZKN:toelichting>{toelichting}</ZKN:toelichting>
      <ZKN:datumStatusGezet>{datum}</ZKN:datumStatusGezet>{gezet_door_xml}
    </ZKN:heeft>
   </ZKN:object>"""
    )
    if dialect == "1.1":
        body, action = _envelope("ZKN:zakLk01", "", content), ACTUALISEER_11
    else:
        body, action = _envelope("ZDS:actualiseerZaakstatus_ZakLk01", f' xmlns:ZDS="{ZDS}"', content), ACTUALISEER_12
    return body, {**HEADERS, "SOAPAction": f'"{action}"'}


def geef_zaakstatus(
    *, dialect: str = "1.1", identificatie: str = "0363ZK2024-000101", laatste: bool = True
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a geefZaakstatus; ``laatste`` asks for the last status only (ZDS 1.2 always does)."""
    selectie_heeft = (
        """
     <ZKN:heeft StUF:entiteittype="ZAKSTT"><ZKN:indicatieLaatsteStatus>J</ZKN:indicatieLaatsteStatus></ZKN:heeft>"""
        if laatste or dialect == "1.2"
        else ""
    )
    content = (
        _stuurgegevens("Lv01", "vraag-1")
        + f"""
   <ZKN:parameters>
    <StUF:sortering>0</StUF:sortering>
    <StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>
   </ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="ZAK">
     <ZKN:identificatie>{identificatie}</ZKN:identificatie>{selectie_heeft}
   </ZKN:gelijk>
   <ZKN:scope>
    <ZKN:object StUF:entiteittype="ZAK">
     <ZKN:identificatie xsi:nil="true"/>
     <ZKN:heeft StUF:entiteittype="ZAKSTT">
      <ZKN:gerelateerde StUF:entiteittype="STT">
       <ZKN:volgnummer xsi:nil="true"/>
       <ZKN:omschrijving xsi:nil="true"/>
      </ZKN:gerelateerde>
      <ZKN:toelichting xsi:nil="true"/>
      <ZKN:datumStatusGezet xsi:nil="true"/>
      <ZKN:indicatieLaatsteStatus xsi:nil="true"/>
     </ZKN:heeft>
    </ZKN:object>
   </ZKN:scope>"""
    )
    if dialect == "1.1":
        body, action = _envelope("ZKN:zakLv01", "", content), GEEF_11
    else:
        body, action = _envelope("ZDS:geefZaakstatus_ZakLv01", f' xmlns:ZDS="{ZDS}"', content), GEEF_12
    return body, {**HEADERS, "SOAPAction": f'"{action}"'}
