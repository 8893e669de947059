"""Our answers checked against the official OpenAPI documents (in ../shared/reference; skipped when absent).

Zaken 1.5.1, Documenten 1.4.3 and Catalogi 1.3.1 are the VNG documents; in Catalogi two lists that the VNG document
types as strings (``ZaakType.informatieobjecttypen``, ``InformatieObjectType.zaaktypen``) are read as arrays, as
Open Zaak answers them. Besluiten is checked against Open Zaak's 1.1.0 variant, because 1.0.2 has no blank
``vervalreden`` while Open Zaak (and so this backend) answers ``""`` when there is none.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.reference import require_reference

from .conftest import Zgw
from .test_besluiten import create_besluit
from .test_rollen_objecten import ADRES, BETROKKENEN, roltype

pytestmark = pytest.mark.reference

SPECS = {
    "zaken": "zgw-oas/zaken-1.5.1.yaml",
    "documenten": "zgw-oas/documenten-1.4.3.yaml",
    "catalogi": "zgw-oas/catalogi-1.3.1.yaml",
    "besluiten": "zgw-oas/openzaak/besluiten-1.1.0-openzaak.yaml",
}


@functools.cache
def spec(api: str) -> dict[str, Any]:
    path: Path = require_reference(*SPECS[api].split("/"))
    document = yaml.safe_load(path.read_text())
    if api == "catalogi":
        url_list = {"type": "array", "items": {"type": "string", "format": "uri"}, "readOnly": True}
        document["components"]["schemas"]["ZaakType"]["properties"]["informatieobjecttypen"] = url_list
        document["components"]["schemas"]["InformatieObjectType"]["properties"]["zaaktypen"] = url_list
    return document


def _operation(api: str, method: str, rel: str) -> dict[str, Any]:
    for template, operations in spec(api)["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, rel) and method.lower() in operations:
            return operations[method.lower()]
    raise AssertionError(f"{method} {rel} is not in the {api} OAS")


def check(response: httpx.Response, problems: list[str]) -> None:
    """Validate one answer against the OAS response schema of its operation and status code."""
    from openapi_schema_validator import OAS30Validator, oas30_format_checker

    url = httpx.URL(str(response.request.url))
    match = re.match(r"^/(zaken|documenten|catalogi|besluiten)/api/v1(/.*)$", url.path)
    assert match, url
    api, rel = match.groups()
    operation = _operation(api, response.request.method, rel)
    answer = operation["responses"].get(str(response.status_code))
    assert answer is not None, f"{response.request.method} {rel}: status {response.status_code} not in the OAS"
    if "$ref" in answer:
        answer = spec(api)["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    content = answer.get("content", {})
    media = response.headers.get("content-type", "").split(";")[0]
    if not content:
        return
    assert media in content, f"{rel}: {media} not among {list(content)}"
    schema = content[media].get("schema")
    if not schema or media == "application/octet-stream":
        return
    validator = OAS30Validator({**schema, "components": spec(api)["components"]}, format_checker=oas30_format_checker)
    for error in validator.iter_errors(response.json()):
        problems.append(f"{response.request.method} {rel} {response.status_code}: {list(error.absolute_path)}: "
                        f"{error.message[:300]}")


class Checked(Zgw):
    """A client that checks every answer it gets against the OAS."""

    problems: list[str]

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = await super().send(request, **kwargs)
        await response.aread()
        if "/schema/" not in request.url.path:
            check(response, self.problems)
        return response


@pytest.fixture
async def checked(app: Any) -> Any:
    async with Checked(app) as client:
        client.problems = []
        yield client


async def test_every_answer_matches_the_oas(checked: Checked) -> None:
    zgw = checked
    # catalogi
    for collection in ("catalogussen", "zaaktypen", "statustypen", "roltypen", "resultaattypen",
                       "informatieobjecttypen", "besluittypen", "eigenschappen", "zaaktype-informatieobjecttypen"):
        listed = await zgw.ok("GET", f"catalogi/api/v1/{collection}")
        await zgw.ok("GET", listed["results"][0]["url"])
    # zaken
    zaak = await zgw.create_zaak("OMGEVINGSVERGUNNING", zaakgeometrie={"type": "Point", "coordinates": [5, 52]},
                                 verlenging={"reden": "r", "duur": "P2D"}, kenmerken=[{"kenmerk": "k", "bron": "b"}],
                                 relevanteAndereZaken=[], betalingsindicatie="nvt")
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    await zgw.ok("GET", "zaken/api/v1/zaken")
    await zgw.ok("POST", "zaken/api/v1/zaken/_zoek", json={"identificatie": zaak["identificatie"]})
    await zgw.ok("PATCH", zaak["url"], json={"toelichting": "t"})
    for kind, ident in BETROKKENEN.items():
        generiek = "initiator" if kind == "natuurlijk_persoon" else "belanghebbende"
        await zgw.ok("POST", "zaken/api/v1/rollen", 201, json={
            "zaak": zaak["url"], "roltype": await roltype(zgw, zaak, generiek), "betrokkeneType": kind,
            "roltoelichting": "x", "betrokkeneIdentificatie": ident})
    rollen = await zgw.ok("GET", "zaken/api/v1/rollen", params={"zaak": zaak["url"]})
    await zgw.ok("GET", rollen["results"][0]["url"])
    status = await zgw.ok("POST", "zaken/api/v1/statussen", 201, json={
        "zaak": zaak["url"], "statustype": zaaktype["statustypen"][0], "datumStatusGezet": "2024-03-01T10:00:00Z"})
    await zgw.ok("GET", status["url"])
    await zgw.ok("GET", "zaken/api/v1/statussen")
    resultaat = await zgw.ok("POST", "zaken/api/v1/resultaten", 201, json={
        "zaak": zaak["url"], "resultaattype": zaaktype["resultaattypen"][0]})
    await zgw.ok("GET", "zaken/api/v1/resultaten")
    await zgw.ok("PATCH", resultaat["url"], json={"toelichting": "x"})
    zaakobject = await zgw.ok("POST", "zaken/api/v1/zaakobjecten", 201, json={
        "zaak": zaak["url"], "objectType": "adres", "objectIdentificatie": ADRES})
    await zgw.ok("GET", "zaken/api/v1/zaakobjecten")
    await zgw.ok("GET", zaakobject["url"])
    eigenschap = await zgw.ok("POST", f"{zaak['url']}/zaakeigenschappen", 201, json={
        "eigenschap": zaaktype["eigenschappen"][0], "waarde": "1000"})
    await zgw.ok("GET", f"{zaak['url']}/zaakeigenschappen")
    await zgw.ok("GET", eigenschap["url"])
    # documenten
    document = await zgw.create_document(iot="Aanvraag", ondertekening={"soort": "digitaal", "datum": "2024-03-01"},
                                         integriteit={"algoritme": "sha_256", "waarde": "abc", "datum": "2024-03-01"})
    large = await zgw.create_document(iot="Bouwtekening", content=None, bestandsomvang=1500)
    deel = large["bestandsdelen"][0]
    await zgw.ok("PUT", deel["url"], files={"inhoud": ("p", b"x" * 1500)}, data={"lock": large["lock"]})
    await zgw.ok("POST", f"{large['url']}/unlock", 204, json={"lock": large["lock"]})
    await zgw.ok("GET", "documenten/api/v1/enkelvoudiginformatieobjecten")
    lock = (await zgw.ok("POST", f"{document['url']}/lock"))["lock"]
    await zgw.ok("PATCH", document["url"], json={"titel": "t2", "lock": lock, "bestandsomvang": 3,
                                                 "inhoud": base64.b64encode(b"abc").decode()})
    await zgw.ok("POST", f"{document['url']}/unlock", 204, json={"lock": lock})
    await zgw.ok("GET", document["url"], params={"versie": 1})
    zio = await zgw.ok("POST", "zaken/api/v1/zaakinformatieobjecten", 201, json={
        "zaak": zaak["url"], "informatieobject": document["url"]})
    await zgw.ok("GET", "zaken/api/v1/zaakinformatieobjecten", params={"zaak": zaak["url"]})
    await zgw.ok("GET", zio["url"])
    recht = await zgw.ok("POST", "documenten/api/v1/gebruiksrechten", 201, json={
        "informatieobject": document["url"], "startdatum": "2024-03-01T00:00:00Z", "omschrijvingVoorwaarden": "x"})
    await zgw.ok("GET", recht["url"])
    oios = await zgw.ok("GET", "documenten/api/v1/objectinformatieobjecten")
    await zgw.ok("GET", oios[0]["url"])
    # besluiten
    besluit = await create_besluit(zgw, zaak, vervalreden="tijdelijk", vervaldatum="2025-01-01")
    await create_besluit(zgw)
    await zgw.ok("GET", "besluiten/api/v1/besluiten")
    bio = await zgw.ok("POST", "besluiten/api/v1/besluitinformatieobjecten", 201, json={
        "besluit": besluit["url"], "informatieobject": document["url"]})
    await zgw.ok("GET", bio["url"])
    await zgw.ok("GET", f"{zaak['url']}/besluiten")
    # the zaak with everything attached, and some problems
    await zgw.ok("GET", zaak["url"])
    await zgw.get("zaken/api/v1/zaken/00000000-0000-0000-0000-000000000000")
    await zgw.post("zaken/api/v1/statussen", json={})
    await zgw.post(f"{document['url']}/lock")
    assert not zgw.problems, "\n".join(zgw.problems)
