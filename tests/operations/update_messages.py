"""updateZaak messages: Open Formulieren's one-object form (CLIENTS.md §1.4) and the was/wordt pair (STUF §5.2)."""

from __future__ import annotations

from .messages import zak_lk01

ACTION_11 = "http://www.egem.nl/StUF/sector/zkn/0310/updateZaak_Lk01"
ACTION_12 = "http://www.stufstandaarden.nl/koppelvlak/zds0120/updateZaak_ZakLk01"

NIL = 'xsi:nil="true" StUF:noValue="geenWaarde"'


def persoon(
    bsn: str, naam: str, *, relation: str = "heeftAlsBelanghebbende", entiteit: str = "ZAKBTRBLH", soort: str = "T"
) -> str:
    return f"""
    <ZKN:{relation} StUF:entiteittype="{entiteit}" StUF:verwerkingssoort="{soort}">
      <ZKN:gerelateerde>
        <ZKN:natuurlijkPersoon StUF:entiteittype="NPS" StUF:verwerkingssoort="I">
          <BG:inp.bsn>{bsn}</BG:inp.bsn>
          <BG:geslachtsnaam>{naam}</BG:geslachtsnaam>
        </ZKN:natuurlijkPersoon>
      </ZKN:gerelateerde>
    </ZKN:{relation}>"""


def empty_relation(*, relation: str = "heeftAlsBelanghebbende", entiteit: str = "ZAKBTRBLH", soort: str = "V") -> str:
    return f"""
    <ZKN:{relation} StUF:entiteittype="{entiteit}" StUF:verwerkingssoort="{soort}" {NIL}/>"""


def update_zaak(
    *objects: str,
    dialect: str = "1.1",
    referentienummer: str = "8a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
    organisatie: str = "0363",
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of an updateZaak holding the given ``object`` elements (one, or was + wordt)."""
    return zak_lk01("".join(objects), dialect=dialect, root_12="ZDS:updateZaak_ZakLk01", actions=(ACTION_11, ACTION_12),
                    mutatiesoort="W", referentienummer=referentienummer, organisatie=organisatie,
                    tijdstip="20241106101500")


def zaak_object(identificatie: str = "0363ZK2024-000101", content: str = "", *, soort: str = "W") -> str:
    return f"""
   <ZKN:object StUF:verwerkingssoort="{soort}" StUF:entiteittype="ZAK">
    <ZKN:identificatie>{identificatie}</ZKN:identificatie>
    {content}
   </ZKN:object>"""


def open_formulieren_betaling(identificatie: str = "0363ZK2024-000101", datum: str = "20241106") -> str:
    """The one object Open Formulieren sends after a payment."""
    return zaak_object(
        identificatie,
        f"""
    <ZKN:betalingsIndicatie>Geheel</ZKN:betalingsIndicatie>
    <ZKN:laatsteBetaaldatum>{datum}</ZKN:laatsteBetaaldatum>
    <StUF:extraElementen>
      <StUF:extraElement naam="language_code">nl</StUF:extraElement>
      <StUF:extraElement naam="soort_schade">losliggend</StUF:extraElement>
    </StUF:extraElementen>""",
    )


def adres(identificatie: str = "0363200000123456", huisnummer: str = "263", *, soort: str = "T",
          straat: str = "Prinsengracht") -> str:
    """A heeftBetrekkingOp relation with an adres, as an updateZaak carries it."""
    return f"""
    <ZKN:heeftBetrekkingOp StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="{soort}">
      <ZKN:gerelateerde>
        <ZKN:adres StUF:entiteittype="AOA" StUF:verwerkingssoort="I">
          <BG:identificatie>{identificatie}</BG:identificatie>
          <BG:wpl.woonplaatsNaam>Amsterdam</BG:wpl.woonplaatsNaam>
          <BG:gor.openbareRuimteNaam>{straat}</BG:gor.openbareRuimteNaam>
          <BG:huisnummer>{huisnummer}</BG:huisnummer>
        </ZKN:adres>
      </ZKN:gerelateerde>
    </ZKN:heeftBetrekkingOp>"""


def no_adres(soort: str = "V") -> str:
    return (f'<ZKN:heeftBetrekkingOp StUF:entiteittype="ZAKOBJ" StUF:verwerkingssoort="{soort}" {NIL}/>')
