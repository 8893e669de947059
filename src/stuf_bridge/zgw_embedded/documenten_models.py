"""Request bodies of the Documenten API 1.4.3."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from .fields import Body, Link, Moment, Txt

VertrouwelijkheidEio = Literal["openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk", "vertrouwelijk",
                               "confidentieel", "geheim", "zeer_geheim"]
StatusEio = Literal["", "in_bewerking", "ter_vaststelling", "definitief", "gearchiveerd"]


class Ondertekening(Body):
    soort: Literal["analoog", "digitaal", "pki"]
    datum: date


class Integriteit(Body):
    algoritme: Literal["crc_16", "crc_32", "crc_64", "fletcher_4", "fletcher_8", "fletcher_16", "fletcher_32", "hmac",
                       "md5", "sha_1", "sha_256", "sha_512", "sha_3"]
    waarde: Annotated[str, Txt(128, min_length=1)]
    datum: date


class EioBody(Body):
    """``EnkelvoudigInformatieObjectCreateLockRequest``; ``inhoud`` is base64 and streamed to a file."""

    identificatie: Annotated[str, Txt(40)] = ""
    bronorganisatie: Annotated[str, Txt(9, min_length=1)]
    creatiedatum: date
    titel: Annotated[str, Txt(200, min_length=1)]
    vertrouwelijkheidaanduiding: VertrouwelijkheidEio | Literal[""] = None  # type: ignore[assignment]
    auteur: Annotated[str, Txt(200, min_length=1)]
    status: StatusEio = ""
    formaat: Annotated[str, Txt(255)] = ""
    taal: Annotated[str, Txt(3, min_length=3)]
    bestandsnaam: Annotated[str, Txt(255)] = ""
    inhoud: str | None = Field(default=None, json_schema_extra={"format": "byte"})
    bestandsomvang: int | None = Field(default=None, ge=0, le=9223372036854775807)
    link: Annotated[str, Link(200)] = ""
    beschrijving: Annotated[str, Txt(1000)] = ""
    ontvangstdatum: date | None = None
    verzenddatum: date | None = None
    indicatieGebruiksrecht: bool | None = None
    verschijningsvorm: Annotated[str, Txt()] = ""
    ondertekening: Ondertekening | None = None
    integriteit: Integriteit | None = None
    informatieobjecttype: Annotated[str, Link(200, min_length=1)]
    trefwoorden: list[Annotated[str, Txt(100, min_length=1)]] | None = None


class EioLockBody(EioBody):
    """``EnkelvoudigInformatieObjectWithLockRequest`` (PUT); PATCH makes every field optional."""

    lock: Annotated[str, Txt(min_length=1)]


class UnlockBody(Body):
    lock: Annotated[str, Txt(100)] = ""


class EioZoekBody(Body):
    uuid_In: list[str] | None = None
    uuid__in: list[str] | None = None
    expand: Annotated[str, Txt()] | None = None


class GebruiksrechtenBody(Body):
    informatieobject: Annotated[str, Link()]
    startdatum: Moment
    einddatum: Moment | None = None
    omschrijvingVoorwaarden: Annotated[str, Txt(min_length=1)]


class ObjectInformatieObjectBody(Body):
    informatieobject: Annotated[str, Link()]
    object: Annotated[str, Link(1000, min_length=1)]
    objectType: Literal["besluit", "zaak", "verzoek"]
