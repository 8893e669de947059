"""A ZGW client that is not the gateway: it writes straight to a stuf-bridge's embedded ZGW backend (``/zgw``), as a
ZGW-native application or Open Zaak's API users do."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from stuf_bridge.zgw.auth import JwtAuth

AUTH = JwtAuth("stuf-bridge", "stuf-bridge-demo-secret-not-for-production")
RSIN = "002564440"
CRS = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}


class ZgwClient:
    def __init__(self, base: str):
        self.root = f"{base}/zgw"
        self.http = httpx.Client(auth=AUTH, headers=CRS, timeout=30)

    def close(self) -> None:
        self.http.close()

    def ok(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        url = path if path.startswith("http") else f"{self.root}/{path}"
        answer = self.http.request(method, url, **kwargs)
        assert answer.status_code == expect, (answer.status_code, answer.text)
        return answer.json() if answer.content else None

    def one(self, path: str, **params: Any) -> dict[str, Any]:
        data = self.ok("GET", path, params=params)
        results = data["results"] if isinstance(data, dict) else data
        assert len(results) == 1, results
        return dict(results[0])

    def zaaktype(self, identificatie: str = "MELDING-OR") -> dict[str, Any]:
        return self.one("catalogi/api/v1/zaaktypen", identificatie=identificatie)

    def create_zaak(self, identificatie: str, zaaktype: str = "MELDING-OR", **fields: Any) -> dict[str, Any]:
        body = {"identificatie": identificatie, "zaaktype": self.zaaktype(zaaktype)["url"], "bronorganisatie": RSIN,
                "verantwoordelijkeOrganisatie": RSIN, "startdatum": "2024-03-01", "omschrijving": "Melding",
                **fields}
        return dict(self.ok("POST", "zaken/api/v1/zaken", 201, json=body))

    def set_status(self, zaak: dict[str, Any], volgnummer: int, datum: str) -> dict[str, Any]:
        statustypen = self.ok("GET", "catalogi/api/v1/statustypen", params={"zaaktype": zaak["zaaktype"]})["results"]
        statustype = next(st for st in statustypen if st["volgnummer"] == volgnummer)
        body = {"zaak": zaak["url"], "statustype": statustype["url"], "datumStatusGezet": datum,
                "statustoelichting": f"status {volgnummer}"}
        return dict(self.ok("POST", "zaken/api/v1/statussen", 201, json=body))

    def patch_zaak(self, zaak: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return dict(self.ok("PATCH", zaak["url"], json=fields))

    def add_document(self, zaak: dict[str, Any], identificatie: str, content: bytes) -> dict[str, Any]:
        iot = self.one("catalogi/api/v1/informatieobjecttypen", omschrijving="Melding")
        body = {"identificatie": identificatie, "bronorganisatie": RSIN, "creatiedatum": "2024-03-01",
                "titel": "Foto van de melding", "auteur": "Melder", "taal": "nld", "informatieobjecttype": iot["url"],
                "bestandsnaam": "foto.jpg", "formaat": "image/jpeg", "inhoud": base64.b64encode(content).decode()}
        eio = self.ok("POST", "documenten/api/v1/enkelvoudiginformatieobjecten", 201, json=body)
        self.ok("POST", "zaken/api/v1/zaakinformatieobjecten", 201,
                json={"zaak": zaak["url"], "informatieobject": eio["url"]})
        return dict(eio)

    def add_besluit(self, zaak: dict[str, Any], identificatie: str, omschrijving: str,
                    **fields: Any) -> dict[str, Any]:
        besluittypen = self.ok("GET", "catalogi/api/v1/besluittypen")["results"]
        besluittype = next(bt for bt in besluittypen if bt["omschrijving"] == omschrijving)
        body = {"identificatie": identificatie, "verantwoordelijkeOrganisatie": RSIN, "besluittype": besluittype["url"],
                "zaak": zaak["url"], "datum": "2024-03-05", "ingangsdatum": "2024-03-06", **fields}
        return dict(self.ok("POST", "besluiten/api/v1/besluiten", 201, json=body))

    def add_adres(self, zaak: dict[str, Any], straat: str, huisnummer: int) -> dict[str, Any]:
        body = {"zaak": zaak["url"], "objectType": "adres", "relatieomschrijving": "Locatie",
                "objectIdentificatie": {"identificatie": "0363200000123456", "wplWoonplaatsNaam": "Amsterdam",
                                        "gorOpenbareRuimteNaam": straat, "huisnummer": huisnummer}}
        return dict(self.ok("POST", "zaken/api/v1/zaakobjecten", 201, json=body))

    def set_eigenschap(self, zaak: dict[str, Any], naam: str, waarde: str) -> dict[str, Any]:
        eigenschappen = self.ok("GET", "catalogi/api/v1/eigenschappen", params={"zaaktype": zaak["zaaktype"]})
        eigenschap = next(e for e in eigenschappen["results"] if e["naam"] == naam)
        body = {"zaak": zaak["url"], "eigenschap": eigenschap["url"], "waarde": waarde}
        return dict(self.ok("POST", f"{zaak['url']}/zaakeigenschappen", 201, json=body))
