"""Document messages in both dialects: voegZaakdocumentToe/maakZaakdocument (Lk01), geefLijstZaakdocumenten and
geefZaakdocumentLezen (Lv01), and the Di02 messages checkout, check-in, cancelCheckout and ontkoppelen. Shaped like
Open Formulieren's voegZaakdocumentToe (CLIENTS.md) and the StUF-testplatform messages."""

from __future__ import annotations

import base64

from stuf_bridge.stuf.namespaces import SOAP11, STUF, XMIME, ZDS, ZKN

ACTION_11 = "http://www.egem.nl/StUF/sector/zkn/0310/"
ACTION_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/"
Message = tuple[bytes, dict[str, str]]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _envelope(root: str, inner: str, action: str, dialect: str) -> Message:
    zds = f' xmlns:ZDS="{ZDS}"' if dialect == "1.2" else ""
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:StUF="{STUF}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <{root} xmlns:ZKN="{ZKN}" xmlns:xmime="{XMIME}"{zds}>
{inner}
  </{root}>
 </soapenv:Body>
</soapenv:Envelope>"""
    base = ACTION_11 if dialect == "1.1" else ACTION_12
    return body.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{base}{action}"'}


def _stuurgegevens(container: str, berichtcode: str, referentienummer: str, *, entiteittype: str | None = None,
                   functie: str | None = None, gebruiker: str | None = None) -> str:
    extra = f"<StUF:entiteittype>{entiteittype}</StUF:entiteittype>" if entiteittype else ""
    extra += f"<StUF:functie>{functie}</StUF:functie>" if functie else ""
    user = f"<StUF:gebruiker>{gebruiker}</StUF:gebruiker>" if gebruiker else ""
    return f"""   <{container}:stuurgegevens>
    <StUF:berichtcode>{berichtcode}</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>OpenFormulieren</StUF:applicatie>{user}</StUF:zender>
    <StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
    <StUF:tijdstipBericht>20241105143012</StUF:tijdstipBericht>
    {extra}
   </{container}:stuurgegevens>"""


def voeg_zaakdocument_toe(
    *,
    dialect: str = "1.1",
    identificatie: str = "0363D20240000001",
    zaak: str = "0363ZK2024-000101",
    inhoud: str | None = None,
    content: bytes = b"%PDF-1.4 hallo wereld\n",
    dct: str = "Melding",
    titel: str | None = "Aanvraagformulier",
    bestandsnaam: str = "aanvraag.pdf",
    content_type: str = "application/pdf",
    taal: str = "nl",
    documentstatus: str | None = None,
    status: str = "",
    referentienummer: str = "doc-voeg-1",
    maak: bool = False,
) -> Message:
    """voegZaakdocumentToe (or, ``maak``, maakZaakdocument without inhoud). ``inhoud`` is the base64 text as sent
    (give it to send malformed base64); default: the base64 of ``content``."""
    text = b64(content) if inhoud is None else inhoud
    operation = "maakZaakdocument" if maak else "voegZaakdocumentToe"
    inhoud_el = "" if maak else (
        f'<ZKN:inhoud xmime:contentType="{content_type}" StUF:bestandsnaam="{bestandsnaam}">{text}</ZKN:inhoud>'
    )
    titel_el = f"<ZKN:titel>{titel}</ZKN:titel>" if titel is not None else ""
    inner = f"""{_stuurgegevens("ZKN", "Lk01", referentienummer, entiteittype="EDC")}
   <ZKN:parameters><StUF:mutatiesoort>T</StUF:mutatiesoort><StUF:indicatorOvername>V</StUF:indicatorOvername></ZKN:parameters>
   <ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="T">
    <ZKN:identificatie>{identificatie}</ZKN:identificatie>
    <ZKN:dct.omschrijving>{dct}</ZKN:dct.omschrijving>
    <ZKN:creatiedatum>20241105</ZKN:creatiedatum>
    <ZKN:ontvangstdatum>20241105</ZKN:ontvangstdatum>
    {titel_el}
    <ZKN:beschrijving>Ingediend via het formulier</ZKN:beschrijving>
    <ZKN:formaat>pdf</ZKN:formaat>
    <ZKN:taal>{taal}</ZKN:taal>
    {f"<ZKN:status>{documentstatus}</ZKN:status>" if documentstatus else ""}
    <ZKN:vertrouwelijkAanduiding>BEPERKT OPENBAAR</ZKN:vertrouwelijkAanduiding>
    <ZKN:auteur>Open Formulieren</ZKN:auteur>
    {inhoud_el}
    <ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="T">
     <ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">
      <ZKN:identificatie>{zaak}</ZKN:identificatie></ZKN:gerelateerde>
     {status}
    </ZKN:isRelevantVoor>
   </ZKN:object>"""
    if dialect == "1.1":
        return _envelope("ZKN:edcLk01", inner, f"{operation}_Lk01", dialect)
    return _envelope(f"ZDS:{operation}_EdcLk01", inner, f"{operation}_EdcLk01", dialect)


def edc_status(omschrijving: str = "In behandeling", volgnummer: str = "2", datum: str = "20241106") -> str:
    return (f"<ZKN:stt.volgnummer>{volgnummer}</ZKN:stt.volgnummer><ZKN:stt.omschrijving>{omschrijving}"
            f"</ZKN:stt.omschrijving><ZKN:sta.datumStatusGezet>{datum}</ZKN:sta.datumStatusGezet>")


def geef_lijst_zaakdocumenten(*, dialect: str = "1.1", zaak: str = "0363ZK2024-000101") -> Message:
    inner = f"""{_stuurgegevens("ZKN", "Lv01", "doc-lijst", entiteittype="ZAK")}
   <ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag></ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="ZAK"><ZKN:identificatie>{zaak}</ZKN:identificatie></ZKN:gelijk>
   <ZKN:scope><ZKN:object StUF:entiteittype="ZAK">
    <ZKN:heeftRelevant StUF:entiteittype="ZAKEDC"><ZKN:gerelateerde StUF:entiteittype="EDC">
     <ZKN:identificatie xsi:nil="true"/><ZKN:dct.omschrijving xsi:nil="true"/><ZKN:titel xsi:nil="true"/>
    </ZKN:gerelateerde></ZKN:heeftRelevant>
   </ZKN:object></ZKN:scope>"""
    if dialect == "1.1":
        return _envelope("ZKN:zakLv01", inner, "geefLijstZaakdocumenten_Lv01", dialect)
    return _envelope("ZDS:geefLijstZaakdocumenten_ZakLv01", inner, "geefLijstZaakdocumenten_ZakLv01", dialect)


def geef_zaakdocument_lezen(*, dialect: str = "1.1", identificatie: str = "0363D20240000001") -> Message:
    inner = f"""{_stuurgegevens("ZKN", "Lv01", "doc-lezen", entiteittype="EDC")}
   <ZKN:parameters><StUF:sortering>0</StUF:sortering><StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag></ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="EDC"><ZKN:identificatie>{identificatie}</ZKN:identificatie></ZKN:gelijk>
   <ZKN:scope><ZKN:object StUF:entiteittype="EDC" StUF:scope="alles"/></ZKN:scope>"""
    if dialect == "1.1":
        return _envelope("ZKN:edcLv01", inner, "geefZaakdocumentLezen_Lv01", dialect)
    return _envelope("ZDS:geefZaakdocumentLezen_EdcLv01", inner, "geefZaakdocumentLezen_EdcLv01", dialect)


def geef_zaakdocument_bewerken(*, dialect: str = "1.1", identificatie: str = "0363D20240000001",
                               referentienummer: str = "doc-checkout") -> Message:
    frame = "ZKN" if dialect == "1.1" else "ZDS"
    root = f"{frame}:geefZaakdocumentbewerken_Di02" if dialect == "1.1" else "ZDS:geefZaakdocumentBewerken_Di02"
    stuurgegevens = _stuurgegevens(frame, "Di02", referentienummer, functie="geefZaakdocumentbewerken",
                                   gebruiker="medewerker1")
    inner = f"""{stuurgegevens}
   <{frame}:edcLv01 StUF:entiteittype="EDC" StUF:functie="selectie">
    <ZKN:parameters/>
    <ZKN:gelijk StUF:entiteittype="EDC"><ZKN:identificatie>{identificatie}</ZKN:identificatie></ZKN:gelijk>
   </{frame}:edcLv01>"""
    return _envelope(root, inner, "geefZaakdocumentbewerken_Di02", dialect)


def update_zaakdocument(
    *,
    dialect: str = "1.1",
    identificatie: str = "0363D20240000001",
    checked_out_id: str | None = None,
    content: bytes | None = None,
    inhoud: str | None = None,
    titel: str = "Aanvraagformulier (bijgewerkt)",
    bestandsnaam: str = "aanvraag-v2.pdf",
    referentienummer: str = "doc-checkin",
) -> Message:
    frame = "ZKN" if dialect == "1.1" else "ZDS"
    checked = f"<{frame}:checkedOutId>{checked_out_id}</{frame}:checkedOutId>" if checked_out_id else ""
    text = inhoud if inhoud is not None else (b64(content) if content is not None else None)
    inhoud_el = "" if text is None else (
        f'<ZKN:inhoud xmime:contentType="application/pdf" StUF:bestandsnaam="{bestandsnaam}">{text}</ZKN:inhoud>'
    )
    inner = f"""{_stuurgegevens(frame, "Di02", referentienummer, functie="updateZaakdocument")}
   <{frame}:parameters>{checked}</{frame}:parameters>
   <{frame}:edcLk02 StUF:entiteittype="EDC" StUF:functie="update">
    <ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort></ZKN:parameters>
    <ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">
     <ZKN:identificatie>{identificatie}</ZKN:identificatie>
    </ZKN:object>
    <ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">
     <ZKN:identificatie>{identificatie}</ZKN:identificatie>
     <ZKN:titel>{titel}</ZKN:titel>
     {inhoud_el}
    </ZKN:object>
   </{frame}:edcLk02>"""
    return _envelope(f"{frame}:updateZaakdocument_Di02", inner, "updateZaakdocument_Di02", dialect)


def cancel_checkout(*, dialect: str = "1.1", identificatie: str = "0363D20240000001", checked_out_id: str = "x",
                    referentienummer: str = "doc-cancel") -> Message:
    frame = "ZKN" if dialect == "1.1" else "ZDS"
    inner = f"""{_stuurgegevens(frame, "Di02", referentienummer, functie="cancelCheckout")}
   <{frame}:parameters><{frame}:checkedOutId>{checked_out_id}</{frame}:checkedOutId></{frame}:parameters>
   <{frame}:document StUF:entiteittype="EDC" StUF:functie="entiteit" StUF:verwerkingssoort="I">
    <ZKN:identificatie>{identificatie}</ZKN:identificatie>
   </{frame}:document>"""
    return _envelope(f"{frame}:cancelCheckout_Di02", inner, "cancelCheckout_Di02", dialect)


def ontkoppel_zaakdocument(*, identificatie: str = "0363D20240000001", zaak: str = "0363ZK2024-000101",
                           referentienummer: str = "doc-ontkoppel") -> Message:
    """ZDS 1.2 only: the old object names the zaak relation (verwerkingssoort V), the new one has it empty."""
    inner = f"""{_stuurgegevens("ZDS", "Di02", referentienummer, functie="ontkoppelZaakdocument")}
   <ZDS:parameters/>
   <ZDS:edcLk02 StUF:entiteittype="EDC" StUF:functie="update">
    <ZKN:parameters><StUF:mutatiesoort>W</StUF:mutatiesoort></ZKN:parameters>
    <ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">
     <ZKN:identificatie>{identificatie}</ZKN:identificatie>
     <ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="V">
      <ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">
      <ZKN:identificatie>{zaak}</ZKN:identificatie></ZKN:gerelateerde>
     </ZKN:isRelevantVoor>
    </ZKN:object>
    <ZKN:object StUF:entiteittype="EDC" StUF:verwerkingssoort="W">
     <ZKN:identificatie>{identificatie}</ZKN:identificatie>
     <ZKN:isRelevantVoor StUF:entiteittype="EDCZAK" StUF:verwerkingssoort="V" xsi:nil="true"/>
    </ZKN:object>
   </ZDS:edcLk02>"""
    return _envelope("ZDS:ontkoppelZaakdocument_Di02", inner, "ontkoppelZaakdocument_Di02", "1.2")
