"""creeerZaak messages in both dialects, shaped like Open Formulieren's (CLIENTS.md §1.4)."""

from __future__ import annotations

from stuf_bridge.stuf.namespaces import SOAP11, STUF, ZDS, ZKN

ACTION_11 = "http://www.egem.nl/StUF/sector/zkn/0310/creeerZaak_Lk01"
ACTION_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/creeerZaak_ZakLk01"
BG = "http://www.egem.nl/StUF/sector/bg/0310"

INITIATOR = """
    <ZKN:heeftAlsInitiator StUF:entiteittype="ZAKBTRINI" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="T">
          <BG:inp.bsn>999993653</BG:inp.bsn>
          <BG:authentiek StUF:metagegeven="true">J</BG:authentiek>
          <BG:geslachtsnaam>Visser</BG:geslachtsnaam>
          <BG:voorletters>M.A.</BG:voorletters>
          <BG:geslachtsaanduiding>V</BG:geslachtsaanduiding>
        </ZKN:natuurlijkPersoon>
      </ZKN:gerelateerde>
    </ZKN:heeftAlsInitiator>"""

BELANGHEBBENDE_SAME_PERSON = """
    <ZKN:heeftAlsBelanghebbende StUF:entiteittype="ZAKBTRBLH" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="T">
          <BG:inp.bsn>999993653</BG:inp.bsn>
          <BG:geslachtsnaam>Visser</BG:geslachtsnaam>
        </ZKN:natuurlijkPersoon>
      </ZKN:gerelateerde>
    </ZKN:heeftAlsBelanghebbende>"""

ADRES = """
    <ZKN:heeftBetrekkingOp StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde>
        <ZKN:adres StUF:entiteittype="AOA" StUF:verwerkingssoort="T">
          <BG:identificatie>0363200000123456</BG:identificatie>
          <BG:wpl.woonplaatsNaam>Amsterdam</BG:wpl.woonplaatsNaam>
          <BG:gor.openbareRuimteNaam>Prinsengracht</BG:gor.openbareRuimteNaam>
          <BG:huisnummer>263</BG:huisnummer>
          <BG:postcode>1016GV</BG:postcode>
        </ZKN:adres>
      </ZKN:gerelateerde>
      <ZKN:omschrijving>Locatie</ZKN:omschrijving>
    </ZKN:heeftBetrekkingOp>"""


ZAAK_RELATION_TYPES = {"heeftAlsDeelzaak": "ZAKZAKDEL", "heeftAlsHoofdzaak": "ZAKZAKHFD",
                       "heeftBetrekkingOpAndere": "ZAKZAKBTR"}


def zaak_relatie(relation: str, identificatie: str | None, soort: str = "T") -> str:
    """A zaak-to-zaak relation (kerngegevens of the other zaak), or an empty one (geenWaarde) without identificatie."""
    entiteit = ZAAK_RELATION_TYPES[relation]
    if identificatie is None:
        return (f'<ZKN:{relation} StUF:entiteittype="{entiteit}" StUF:verwerkingssoort="{soort}" '
                'xsi:nil="true" StUF:noValue="geenWaarde"/>')
    return f"""
    <ZKN:{relation} StUF:entiteittype="{entiteit}" StUF:verwerkingssoort="{soort}">
      <ZKN:gerelateerde StUF:entiteittype="ZAK" StUF:verwerkingssoort="I">
        <ZKN:identificatie>{identificatie}</ZKN:identificatie>
      </ZKN:gerelateerde>
    </ZKN:{relation}>"""


def status(omschrijving: str = "Ontvangen", datum: str = "20241105", volgnummer: str | None = "1") -> str:
    nummer = f"<ZKN:volgnummer>{volgnummer}</ZKN:volgnummer>" if volgnummer else ""
    return f"""
    <ZKN:heeft StUF:entiteittype="ZAKSTT" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde StUF:entiteittype="STT" StUF:verwerkingssoort="I">
        {nummer}
        <ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>
      </ZKN:gerelateerde>
      <ZKN:toelichting>Status gezet door verzendende applicatie.</ZKN:toelichting>
      <ZKN:datumStatusGezet>{datum}</ZKN:datumStatusGezet>
    </ZKN:heeft>"""


def creeer_zaak(
    *,
    dialect: str = "1.1",
    identificatie: str | None = "0363ZK2024-000101",
    zaaktype: str = "MELDING-OR",
    referentienummer: str = "3f6d2a5e-1b7c-4e8f-9a0d-c2b1e4f5a6b7",
    omschrijving: str = "Melding losliggende stoeptegels",
    resultaat: str | None = None,
    initiator: str = INITIATOR,
    relations: str = "",
    statussen: str | None = None,
    organisatie: str = "0363",
    zaak_relations: str = "",
    ander_zaak_object: str = "",
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a creeerZaak, ZDS 1.1 (``ZKN:zakLk01``) or ZDS 1.2 (``ZDS:creeerZaak_ZakLk01``)."""
    statussen = status() if statussen is None else statussen
    ident = f"<ZKN:identificatie>{identificatie}</ZKN:identificatie>" if identificatie else ""
    result = f"<ZKN:resultaat><ZKN:omschrijving>{resultaat}</ZKN:omschrijving></ZKN:resultaat>" if resultaat else ""
    obj = f"""
   <ZKN:object StUF:verwerkingssoort="T" StUF:entiteittype="ZAK">
    {ident}
    <ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>
    <ZKN:kenmerk><ZKN:kenmerk>OF-REF-42</ZKN:kenmerk><ZKN:bron>Open Formulieren</ZKN:bron></ZKN:kenmerk>
    {ander_zaak_object}
    {result}
    <ZKN:startdatum>20241105</ZKN:startdatum>
    <ZKN:registratiedatum>20241105</ZKN:registratiedatum>
    <ZKN:betalingsIndicatie>N.v.t.</ZKN:betalingsIndicatie>
    <ZKN:zaakniveau>1</ZKN:zaakniveau>
    <ZKN:deelzakenIndicatie>N</ZKN:deelzakenIndicatie>
    <StUF:tijdstipRegistratie>20241105143012</StUF:tijdstipRegistratie>
    <StUF:extraElementen>
      <StUF:extraElement naam="language_code">nl</StUF:extraElement>
      <StUF:extraElement naam="soort_schade">losliggend</StUF:extraElement>
      <StUF:extraElement naam="categorie">straat</StUF:extraElement>
    </StUF:extraElementen>
    <ZKN:isVan StUF:entiteittype="ZAKZKT" StUF:verwerkingssoort="T">
      <ZKN:gerelateerde StUF:entiteittype="ZKT" StUF:verwerkingssoort="I">
        <ZKN:code>{zaaktype}</ZKN:code>
        <ZKN:ingangsdatumObject>20240101</ZKN:ingangsdatumObject>
      </ZKN:gerelateerde>
    </ZKN:isVan>
    {relations}
    {initiator}
    {zaak_relations}
    {statussen}
   </ZKN:object>"""
    return zak_lk01(obj, dialect=dialect, root_12="ZDS:creeerZaak_ZakLk01", actions=(ACTION_11, ACTION_12),
                    mutatiesoort="T", referentienummer=referentienummer, organisatie=organisatie,
                    tijdstip="20241105143012")


def zak_lk01(
    objects: str, *, dialect: str, root_12: str, actions: tuple[str, str], mutatiesoort: str, referentienummer: str,
    organisatie: str, tijdstip: str,
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of a ZAK kennisgeving from Open Formulieren: ``ZKN:zakLk01`` (ZDS 1.1) or ``root_12``."""
    if dialect == "1.1":
        root, ns_decl, action = "ZKN:zakLk01", "", actions[0]
    else:
        root, ns_decl, action = root_12, f' xmlns:ZDS="{ZDS}"', actions[1]
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:StUF="{STUF}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <{root} xmlns:ZKN="{ZKN}" xmlns:BG="{BG}"{ns_decl}>
   <ZKN:stuurgegevens>
    <StUF:berichtcode>Lk01</StUF:berichtcode>
    <StUF:zender><StUF:organisatie>{organisatie}</StUF:organisatie><StUF:applicatie>OpenFormulieren</StUF:applicatie></StUF:zender>
    <StUF:ontvanger><StUF:organisatie>0363</StUF:organisatie><StUF:applicatie>stuf-bridge</StUF:applicatie></StUF:ontvanger>
    <StUF:referentienummer>{referentienummer}</StUF:referentienummer>
    <StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht>
    <StUF:entiteittype>ZAK</StUF:entiteittype>
   </ZKN:stuurgegevens>
   <ZKN:parameters>
    <StUF:mutatiesoort>{mutatiesoort}</StUF:mutatiesoort>
    <StUF:indicatorOvername>V</StUF:indicatorOvername>
   </ZKN:parameters>
   {objects}
  </{root}>
 </soapenv:Body>
</soapenv:Envelope>"""
    return body.encode(), {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
