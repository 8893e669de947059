"""Besluit messages (ZDS 1.2), shaped like the StUF-Testplatform ones (stp_voegBesluitToe, stp_updateBesluit,
stp_geefBesluitDetails), with concrete values; geefLijstBesluiten has no public sample and follows the schema
(GeefLijstBesluiten-ZAK-Lv01)."""

from __future__ import annotations

from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZDS, ZKN

ACTION = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _envelope(operation: str, inner: str) -> tuple[bytes, dict[str, str]]:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:StUF="{STUF}" xmlns:xsi="{XSI}">
 <soapenv:Body>
  <ZDS:{operation} xmlns:ZDS="{ZDS}" xmlns:ZKN="{ZKN}">
{inner}
  </ZDS:{operation}>
 </soapenv:Body>
</soapenv:Envelope>"""
    return body.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}{operation}"'}


def _stuurgegevens(berichtcode: str, referentienummer: str, organisatie: str, *, entiteittype: str | None = None,
                   functie: str | None = None) -> str:
    tail = (f"<StUF:entiteittype>{entiteittype}</StUF:entiteittype>" if entiteittype else "") + (
        f"<StUF:functie>{functie}</StUF:functie>" if functie else "")
    return f"""   <ZKN:stuurgegevens>
    <StUF:berichtcode>{berichtcode}</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>{organisatie}</StUF:organisatie><StUF:applicatie>Zaaksysteem</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
    <StUF:tijdstipBericht>20241110120000</StUF:tijdstipBericht>
    {tail}
   </ZKN:stuurgegevens>"""


def document(identificatie: str, soort: str = "T", *, dct: str = "Besluit", titel: str = "Besluit") -> str:
    """One isVastgelegdIn relation (BSLEDC) naming a document by identificatie."""
    return f"""
     <ZKN:isVastgelegdIn StUF:verwerkingssoort="{soort}" StUF:entiteittype="BSLEDC">
      <ZKN:gerelateerde StUF:verwerkingssoort="I" StUF:entiteittype="EDC">
       <ZKN:identificatie>{identificatie}</ZKN:identificatie>
       <ZKN:dct.omschrijving>{dct}</ZKN:dct.omschrijving>
       <ZKN:titel>{titel}</ZKN:titel>
      </ZKN:gerelateerde>
     </ZKN:isVastgelegdIn>"""


def nil_document(soort: str) -> str:
    return f'<ZKN:isVastgelegdIn StUF:verwerkingssoort="{soort}" StUF:entiteittype="BSLEDC" xsi:nil="true"/>'


def voeg_besluit_toe(
    *,
    identificatie: str,
    zaak: str,
    bst_omschrijving: str | None = "Omgevingsvergunning verleend",
    datum: str = "20241110",
    toelichting: str | None = "Vergunning verleend",
    vervaldatum: str | None = None,
    vervalreden: str | None = None,
    publicatie: str | None = None,
    documenten: str = "",
    referentienummer: str = "vbt-1",
    organisatie: str = "0363",
) -> tuple[bytes, dict[str, str]]:
    """voegBesluitToe_Di01 (ZDS 1.2 §4.1.7): object/besluit + object/zaak/identificatie."""
    def el(name: str, value: str | None) -> str:
        return f"<ZKN:{name}>{value}</ZKN:{name}>" if value else ""

    inner = f"""{_stuurgegevens("Di01", referentienummer, organisatie, functie="voegBesluitToe")}
   <ZKN:object>
    <ZKN:besluit StUF:verwerkingssoort="T" StUF:entiteittype="BSL">
     <ZKN:identificatie>{identificatie}</ZKN:identificatie>
     {el("bst.omschrijving", bst_omschrijving)}
     <ZKN:datumBeslissing>{datum}</ZKN:datumBeslissing>
     {el("toelichting", toelichting)}
     <ZKN:ingangsdatumWerking>{datum}</ZKN:ingangsdatumWerking>
     {el("einddatumWerking", vervaldatum)}
     {el("vervalreden", vervalreden)}
     {el("datumPublicatie", publicatie)}
     {el("datumVerzending", publicatie)}
     {el("datumUiterlijkeReactie", publicatie)}
     <StUF:tijdvakGeldigheid>
      <StUF:beginGeldigheid>{datum}</StUF:beginGeldigheid>
      <StUF:eindGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/>
     </StUF:tijdvakGeldigheid>
     {documenten}
    </ZKN:besluit>
    <ZKN:zaak StUF:verwerkingssoort="T" StUF:entiteittype="ZAK">
     <ZKN:identificatie>{zaak}</ZKN:identificatie>
    </ZKN:zaak>
   </ZKN:object>"""
    return _envelope("voegBesluitToe_Di01", inner)


def update_besluit(
    *,
    identificatie: str,
    old: str = "",
    new: str = "",
    old_documenten: str = "",
    new_documenten: str = "",
    bst_omschrijving: str = "Omgevingsvergunning verleend",
    referentienummer: str = "ubs-1",
    organisatie: str = "0363",
    one_object: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """updateBesluit_BslLk01 (ZDS 1.2 §4.1.8): mutatiesoort W, old and new object (elements in schema order)."""
    def obj(fields: str, documenten: str, omschrijving: str) -> str:
        return f"""   <ZKN:object StUF:verwerkingssoort="W" StUF:entiteittype="BSL">
    <ZKN:identificatie>{identificatie}</ZKN:identificatie>
    {omschrijving}
    {fields}
    {documenten}
   </ZKN:object>"""

    new_obj = obj(new, new_documenten, f"<ZKN:bst.omschrijving>{bst_omschrijving}</ZKN:bst.omschrijving>")
    old_obj = "" if one_object else obj(old, old_documenten, '<ZKN:bst.omschrijving xsi:nil="true"/>')
    inner = f"""{_stuurgegevens("Lk01", referentienummer, organisatie, entiteittype="BSL")}
   <ZKN:parameters>
    <StUF:mutatiesoort>W</StUF:mutatiesoort>
    <StUF:indicatorOvername>I</StUF:indicatorOvername>
   </ZKN:parameters>
{old_obj}
{new_obj}"""
    return _envelope("updateBesluit_BslLk01", inner)


def geef_besluitdetails(identificatie: str, *, scope: str | None = None,
                        referentienummer: str = "gbd-1") -> tuple[bytes, dict[str, str]]:
    """geefBesluitdetails_BslLv01 (ZDS 1.2 §4.1.10); scope None asks for everything (StUF:scope="alles")."""
    scope_xml = scope or '<ZKN:object StUF:entiteittype="BSL" StUF:scope="alles"/>'
    inner = f"""{_stuurgegevens("Lv01", referentienummer, "0363", entiteittype="BSL")}
   <ZKN:parameters>
    <StUF:sortering>0</StUF:sortering>
    <StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>
   </ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="BSL"><ZKN:identificatie>{identificatie}</ZKN:identificatie></ZKN:gelijk>
   <ZKN:scope>{scope_xml}</ZKN:scope>"""
    return _envelope("geefBesluitdetails_BslLv01", inner)


KERN_SCOPE = """<ZKN:object StUF:entiteittype="BSL">
     <ZKN:identificatie xsi:nil="true"/>
     <ZKN:datumBeslissing xsi:nil="true"/>
     <ZKN:ingangsdatumWerking xsi:nil="true"/>
     <StUF:tijdvakGeldigheid>
      <StUF:beginGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/>
      <StUF:eindGeldigheid StUF:noValue="geenWaarde" xsi:nil="true"/>
     </StUF:tijdvakGeldigheid>
     <ZKN:isUitkomstVan StUF:entiteittype="BSLZAK">
      <ZKN:gerelateerde StUF:entiteittype="ZAK"><ZKN:identificatie xsi:nil="true"/></ZKN:gerelateerde>
     </ZKN:isUitkomstVan>
    </ZKN:object>"""


def geef_lijst_besluiten(zaak: str, *, referentienummer: str = "glb-1") -> tuple[bytes, dict[str, str]]:
    """geefLijstBesluiten_ZakLv01 (ZDS 1.2 §4.1.11), written from the schema: the zaak by identificatie, the
    scope lists the besluit elements wanted."""
    inner = f"""{_stuurgegevens("Lv01", referentienummer, "0363", entiteittype="ZAK")}
   <ZKN:parameters>
    <StUF:sortering>0</StUF:sortering>
    <StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>
   </ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="ZAK"><ZKN:identificatie>{zaak}</ZKN:identificatie></ZKN:gelijk>
   <ZKN:scope>
    <ZKN:object StUF:entiteittype="ZAK">
     <ZKN:identificatie xsi:nil="true"/>
     <ZKN:leidtTot StUF:entiteittype="ZAKBSL">
      <ZKN:gerelateerde StUF:entiteittype="BSL">
       <ZKN:identificatie xsi:nil="true"/>
       <ZKN:bst.omschrijving xsi:nil="true"/>
       <ZKN:datumBeslissing xsi:nil="true"/>
       <ZKN:toelichting xsi:nil="true"/>
       <ZKN:ingangsdatumWerking xsi:nil="true"/>
       <ZKN:einddatumWerking xsi:nil="true"/>
       <ZKN:vervalreden xsi:nil="true"/>
      </ZKN:gerelateerde>
     </ZKN:leidtTot>
    </ZKN:object>
   </ZKN:scope>"""
    return _envelope("geefLijstBesluiten_ZakLv01", inner)


def leidt_tot(identificatie: str, *, soort: str = "T", bst_omschrijving: str | None = "Omgevingsvergunning verleend",
              datum: str | None = "20241110") -> str:
    """A leidtTot (ZAKBSL) relation as creeerZaak/updateZaak carry it (Suites4SociaalDomein 605)."""
    oms = f"<ZKN:bst.omschrijving>{bst_omschrijving}</ZKN:bst.omschrijving>" if bst_omschrijving else ""
    dat = f"<ZKN:datumBeslissing>{datum}</ZKN:datumBeslissing>" if datum else ""
    return f"""<ZKN:leidtTot xmlns:ZKN="{ZKN}" xmlns:StUF="{STUF}"
     StUF:entiteittype="ZAKBSL" StUF:verwerkingssoort="{soort}">
  <ZKN:gerelateerde StUF:entiteittype="BSL" StUF:verwerkingssoort="{soort}">
   <ZKN:identificatie>{identificatie}</ZKN:identificatie>{oms}{dat}
  </ZKN:gerelateerde>
 </ZKN:leidtTot>"""


def nil_leidt_tot(soort: str = "T") -> str:
    """An empty leidtTot (``geenWaarde``): the old side of an added relation."""
    return (f'<ZKN:leidtTot xmlns:ZKN="{ZKN}" xmlns:StUF="{STUF}" xmlns:xsi="{XSI}" StUF:entiteittype="ZAKBSL" '
            f'StUF:verwerkingssoort="{soort}" xsi:nil="true" StUF:noValue="geenWaarde"/>')
