"""Request bodies of the Zaken API 1.5.1 (field names, lengths and enums of the OAS)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from .fields import Body, Duration, FreeJson, Link, Moment, Txt

Vertrouwelijkheid = Literal["openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk", "vertrouwelijk",
                            "confidentieel", "geheim", "zeer_geheim"]
VERTROUWELIJKHEID_ORDER = ("openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk", "vertrouwelijk",
                           "confidentieel", "geheim", "zeer_geheim")
Archiefnominatie = Literal["blijvend_bewaren", "vernietigen"]
Archiefstatus = Literal["nog_te_archiveren", "gearchiveerd", "gearchiveerd_procestermijn_onbekend", "overgedragen"]
Betalingsindicatie = Literal["", "nvt", "nog_niet", "gedeeltelijk", "geheel"]
BetrokkeneType = Literal["natuurlijk_persoon", "niet_natuurlijk_persoon", "vestiging", "organisatorische_eenheid",
                         "medewerker"]
RolGeneriek = Literal["adviseur", "behandelaar", "belanghebbende", "beslisser", "initiator", "klantcontacter",
                      "zaakcoordinator", "mede_initiator"]
ObjectType = Literal[
    "adres", "besluit", "buurt", "enkelvoudig_document", "gemeente", "gemeentelijke_openbare_ruimte", "huishouden",
    "inrichtingselement", "kadastrale_onroerende_zaak", "kunstwerkdeel", "maatschappelijke_activiteit", "medewerker",
    "natuurlijk_persoon", "niet_natuurlijk_persoon", "openbare_ruimte", "organisatorische_eenheid", "pand",
    "spoorbaandeel", "status", "terreindeel", "terrein_gebouwd_object", "vestiging", "waterdeel", "wegdeel", "wijk",
    "woonplaats", "woz_deelobject", "woz_object", "woz_waarde", "zakelijk_recht", "overige",
]
BETALINGSINDICATIE_WEERGAVE = {
    "nvt": "Er is geen sprake van te betalen, met de zaak gemoeide, kosten.",
    "nog_niet": "De met de zaak gemoeide kosten zijn (nog) niet betaald.",
    "gedeeltelijk": "De met de zaak gemoeide kosten zijn gedeeltelijk betaald.",
    "geheel": "De met de zaak gemoeide kosten zijn geheel betaald.",
}


class Kenmerk(Body):
    kenmerk: Annotated[str, Txt(40)]
    bron: Annotated[str, Txt(40)]


class Verlenging(Body):
    reden: Annotated[str, Txt(200)]
    duur: Duration


class Opschorting(Body):
    indicatie: bool
    reden: Annotated[str, Txt(200)]


class RelevanteZaak(Body):
    url: Annotated[str, Link()]
    aardRelatie: Literal["vervolg", "onderwerp", "bijdrage"]


class Processobject(Body):
    datumkenmerk: Annotated[str, Txt(250)]
    identificatie: Annotated[str, Txt(250)]
    objecttype: Annotated[str, Txt(250)]
    registratie: Annotated[str, Txt(250)]


class ZaakBody(Body):
    identificatie: Annotated[str, Txt(40)] = ""
    bronorganisatie: Annotated[str, Txt(9)]
    omschrijving: Annotated[str, Txt(80)] = ""
    toelichting: Annotated[str, Txt(1000)] = ""
    zaaktype: Annotated[str, Link()]
    registratiedatum: date = None  # type: ignore[assignment]  # None: today
    verantwoordelijkeOrganisatie: Annotated[str, Txt(9)]
    startdatum: date
    einddatumGepland: date | None = None
    uiterlijkeEinddatumAfdoening: date | None = None
    publicatiedatum: date | None = None
    communicatiekanaal: Annotated[str, Link()] = ""
    productenOfDiensten: list[Annotated[str, Link()]] = Field(default_factory=list)
    vertrouwelijkheidaanduiding: Vertrouwelijkheid = None  # type: ignore[assignment]  # None: the zaaktype's
    betalingsindicatie: Betalingsindicatie = ""
    laatsteBetaaldatum: Moment | None = None
    zaakgeometrie: FreeJson | None = None
    verlenging: Verlenging | None = None
    opschorting: Opschorting | None = None
    selectielijstklasse: Annotated[str, Link()] = ""
    hoofdzaak: Annotated[str, Link()] | None = None
    relevanteAndereZaken: list[RelevanteZaak] = Field(default_factory=list)
    kenmerken: list[Kenmerk] = Field(default_factory=list)
    archiefnominatie: Archiefnominatie | Literal[""] | None = None
    archiefstatus: Archiefstatus = "nog_te_archiveren"
    archiefactiedatum: date | None = None
    opdrachtgevendeOrganisatie: Annotated[str, Txt(9)] = ""
    processobjectaard: Annotated[str, Txt(200)] | None = ""
    startdatumBewaartermijn: date | None = None
    processobject: Processobject | None = None


class GeoWithin(Body):
    within: FreeJson | None = None


class ZaakZoekBody(Body):
    zaakgeometrie: GeoWithin | None = None
    uuid__in: list[str] | None = None
    identificatie: Annotated[str, Txt()] | None = None
    bronorganisatie: Annotated[str, Txt()] | None = None
    bronorganisatie__in: list[str] | None = None
    zaaktype: Annotated[str, Txt()] | None = None
    zaaktype__in: list[str] | None = None
    archiefnominatie: Annotated[str, Txt()] | None = None
    archiefnominatie__in: list[str] | None = None
    archiefstatus: Annotated[str, Txt()] | None = None
    archiefstatus__in: list[str] | None = None
    startdatum: Annotated[str, Txt()] | None = None
    startdatum__gt: Annotated[str, Txt()] | None = None
    startdatum__gte: Annotated[str, Txt()] | None = None
    startdatum__lt: Annotated[str, Txt()] | None = None
    startdatum__lte: Annotated[str, Txt()] | None = None
    einddatum__isnull: bool | None = None
    rol__betrokkeneType: Annotated[str, Txt()] | None = None
    rol__omschrijvingGeneriek: Annotated[str, Txt()] | None = None
    rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn: Annotated[str, Txt(9)] | None = None
    rol__betrokkeneIdentificatie__medewerker__identificatie: Annotated[str, Txt(24)] | None = None
    rol__betrokkeneIdentificatie__organisatorischeEenheid__identificatie: Annotated[str, Txt()] | None = None
    maximaleVertrouwelijkheidaanduiding: Annotated[str, Txt()] | None = None
    ordering: Annotated[str, Txt()] | None = None
    expand: Annotated[str, Txt()] | None = None


class StatusBody(Body):
    zaak: Annotated[str, Link()]
    statustype: Annotated[str, Link()]
    datumStatusGezet: Moment
    statustoelichting: Annotated[str, Txt(1000)] = ""
    gezetdoor: Annotated[str, Link(200)] = ""


class ResultaatBody(Body):
    zaak: Annotated[str, Link()]
    resultaattype: Annotated[str, Link()]
    toelichting: Annotated[str, Txt(1000)] = ""


class ContactPersoonRol(Body):
    emailadres: Annotated[str, Txt(254)] = ""
    functie: Annotated[str, Txt(50)] = ""
    telefoonnummer: Annotated[str, Txt(20)] = ""
    naam: Annotated[str, Txt(200)]


class RolBody(Body):
    zaak: Annotated[str, Link()]
    betrokkene: Annotated[str, Link()] = ""
    betrokkeneType: BetrokkeneType
    afwijkendeNaamBetrokkene: Annotated[str, Txt(625)] = ""
    roltype: Annotated[str, Link()]
    roltoelichting: Annotated[str, Txt(1000)]
    indicatieMachtiging: Literal["", "gemachtigde", "machtiginggever"] = ""
    contactpersoonRol: ContactPersoonRol | None = None
    betrokkeneIdentificatie: FreeJson | None = None


class VerblijfsAdres(Body):
    aoaIdentificatie: Annotated[str, Txt(100)]
    wplWoonplaatsNaam: Annotated[str, Txt(80)]
    gorOpenbareRuimteNaam: Annotated[str, Txt(80)]
    aoaPostcode: Annotated[str, Txt(7)] = ""
    aoaHuisnummer: int
    aoaHuisletter: Annotated[str, Txt(1)] = ""
    aoaHuisnummertoevoeging: Annotated[str, Txt(4)] = ""
    inpLocatiebeschrijving: Annotated[str, Txt(1000)] = ""


class SubVerblijfBuitenland(Body):
    lndLandcode: Annotated[str, Txt(4)]
    lndLandnaam: Annotated[str, Txt(40)]
    subAdresBuitenland_1: Annotated[str, Txt(35)] = ""
    subAdresBuitenland_2: Annotated[str, Txt(35)] = ""
    subAdresBuitenland_3: Annotated[str, Txt(35)] = ""


class NatuurlijkPersoon(Body):
    inpBsn: Annotated[str, Txt(9)] = ""
    anpIdentificatie: Annotated[str, Txt(17)] = ""
    inpA_nummer: Annotated[str, Txt(10, pattern=r"^([1-9][0-9]{9})?$")] = ""
    geslachtsnaam: Annotated[str, Txt(200)] = ""
    voorvoegselGeslachtsnaam: Annotated[str, Txt(80)] = ""
    voorletters: Annotated[str, Txt(20)] = ""
    voornamen: Annotated[str, Txt(200)] = ""
    geslachtsaanduiding: Literal["", "m", "v", "o"] = ""
    geboortedatum: Annotated[str, Txt(18)] = ""
    verblijfsadres: VerblijfsAdres | None = None
    subVerblijfBuitenland: SubVerblijfBuitenland | None = None


InnRechtsvorm = Literal[
    "", "besloten_vennootschap", "cooperatie_europees_economische_samenwerking", "europese_cooperatieve_venootschap",
    "europese_naamloze_vennootschap", "kerkelijke_organisatie", "naamloze_vennootschap",
    "onderlinge_waarborg_maatschappij", "overig_privaatrechtelijke_rechtspersoon", "stichting", "vereniging",
    "vereniging_van_eigenaars", "publiekrechtelijke_rechtspersoon", "vennootschap_onder_firma", "maatschap", "rederij",
    "commanditaire_vennootschap", "kapitaalvennootschap_binnen_eer", "overige_buitenlandse_rechtspersoon_vennootschap",
    "kapitaalvennootschap_buiten_eer",
]


class NietNatuurlijkPersoon(Body):
    innNnpId: Annotated[str, Txt(9)] = ""
    annIdentificatie: Annotated[str, Txt(17)] = ""
    statutaireNaam: Annotated[str, Txt(500)] = ""
    innRechtsvorm: InnRechtsvorm = ""
    bezoekadres: Annotated[str, Txt(1000)] = ""
    subVerblijfBuitenland: SubVerblijfBuitenland | None = None


class Vestiging(Body):
    vestigingsNummer: Annotated[str, Txt(24)] = ""
    handelsnaam: list[Annotated[str, Txt(625)]] = Field(default_factory=list)
    verblijfsadres: VerblijfsAdres | None = None
    subVerblijfBuitenland: SubVerblijfBuitenland | None = None
    kvkNummer: Annotated[str, Txt(8)] = ""


class Medewerker(Body):
    identificatie: Annotated[str, Txt(24)] = ""
    achternaam: Annotated[str, Txt(200)] = ""
    voorletters: Annotated[str, Txt(20)] = ""
    voorvoegselAchternaam: Annotated[str, Txt(10)] = ""


class OrganisatorischeEenheid(Body):
    identificatie: Annotated[str, Txt(24)] = ""
    naam: Annotated[str, Txt(50)] = ""
    isGehuisvestIn: Annotated[str, Txt(24)] = ""


BETROKKENE_MODELS: dict[str, type[Body]] = {
    "natuurlijk_persoon": NatuurlijkPersoon,
    "niet_natuurlijk_persoon": NietNatuurlijkPersoon,
    "vestiging": Vestiging,
    "medewerker": Medewerker,
    "organisatorische_eenheid": OrganisatorischeEenheid,
}


class ObjectAdres(Body):
    identificatie: Annotated[str, Txt(100)]
    wplWoonplaatsNaam: Annotated[str, Txt(80)]
    gorOpenbareRuimteNaam: Annotated[str, Txt(80)]
    huisnummer: int
    huisletter: Annotated[str, Txt(1)] = ""
    huisnummertoevoeging: Annotated[str, Txt(4)] = ""
    postcode: Annotated[str, Txt(7)] = ""


class ObjectOverige(Body):
    overigeData: FreeJson


OBJECT_MODELS: dict[str, type[Body]] = {"adres": ObjectAdres, "overige": ObjectOverige}


class ZaakObjectBody(Body):
    zaak: Annotated[str, Link()]
    object: Annotated[str, Link()] = ""
    zaakobjecttype: Annotated[str, Link()] = ""
    objectType: ObjectType
    objectTypeOverige: Annotated[str, Txt(100, pattern=r"^([a-z_]+)?$")] = ""
    relatieomschrijving: Annotated[str, Txt(80)] = ""
    objectIdentificatie: FreeJson | None = None


class ZaakInformatieObjectBody(Body):
    informatieobject: Annotated[str, Link()]
    zaak: Annotated[str, Link()]
    titel: Annotated[str, Txt(200)] = ""
    beschrijving: Annotated[str, Txt()] = ""
    vernietigingsdatum: Moment | None = None
    status: Annotated[str, Link()] | None = None


class ZaakEigenschapBody(Body):
    zaak: Annotated[str, Link()] = ""
    eigenschap: Annotated[str, Link()]
    waarde: Annotated[str, Txt()]


class ZaakBesluitBody(Body):
    besluit: Annotated[str, Link()]
