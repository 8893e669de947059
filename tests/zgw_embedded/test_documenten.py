"""Enkelvoudiginformatieobjecten: inline content, versions, download, lock/unlock, bestandsdelen (large files in
parts), relations that block deletion, gebruiksrechten and objectinformatieobjecten."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from stuf_bridge.zgw_embedded import EmbeddedConfig

from .conftest import RSIN, Zgw
from .test_zaken import codes

EIOS = "documenten/api/v1/enkelvoudiginformatieobjecten"


async def link(zgw: Zgw, document: dict[str, Any], zaak: dict[str, Any] | None = None) -> dict[str, Any]:
    zaak = zaak or await zgw.create_zaak()
    return await zgw.ok("POST", "zaken/api/v1/zaakinformatieobjecten", 201,
                        json={"zaak": zaak["url"], "informatieobject": document["url"], "titel": "bijlage"})


async def test_create_with_inline_content_and_download(zgw: Zgw) -> None:
    content = os.urandom(200_000)
    document = await zgw.create_document(content=content, vertrouwelijkheidaanduiding="intern")
    assert document["versie"] == 1 and document["bestandsomvang"] == len(content)
    assert document["locked"] is False and document["lock"] == "" and document["bestandsdelen"] == []
    assert document["inhoud"] == f"{document['url']}/download?versie=1"
    assert document["vertrouwelijkheidaanduiding"] == "intern" and document["indicatieGebruiksrecht"] is None
    response = await zgw.get(document["inhoud"])
    assert response.status_code == 200 and response.content == content
    assert response.headers["content-type"] == "application/octet-stream"
    listed = await zgw.ok("GET", EIOS, params={"identificatie": document["identificatie"]})
    assert listed["count"] == 1 and "lock" not in listed["results"][0]


async def test_inline_content_variants(zgw: Zgw) -> None:
    data_uri = "data:text/plain;base64," + base64.b64encode(b"met header").decode()
    document = await zgw.create_document(content=None, inhoud=data_uri)
    assert (await zgw.get(document["inhoud"])).content == b"met header"
    escaped = await zgw.create_document(content=None, inhoud=base64.b64encode(b"\xff\xfe?>" * 10).decode())
    assert (await zgw.get(escaped["inhoud"])).content == b"\xff\xfe?>" * 10
    no_content = await zgw.create_document(content=None)
    assert no_content["inhoud"] is None and no_content["bestandsomvang"] is None
    assert (await zgw.get(f"{no_content['url']}/download")).status_code == 404
    empty = await zgw.create_document(content=None, bestandsomvang=0)
    assert empty["inhoud"] is not None and (await zgw.get(empty["inhoud"])).content == b""
    iot = await zgw.iot("Melding")
    bad = await zgw.post(EIOS, json={"bronorganisatie": RSIN, "creatiedatum": "2024-03-01", "titel": "t",
                                     "auteur": "a", "taal": "nld", "informatieobjecttype": iot["url"],
                                     "inhoud": "not base64!"})
    assert codes(bad) == {"inhoud": "invalid"}
    mismatch = await zgw.post(EIOS, json={"bronorganisatie": RSIN, "creatiedatum": "2024-03-01", "titel": "t",
                                          "auteur": "a", "taal": "nld", "informatieobjecttype": iot["url"],
                                          "inhoud": base64.b64encode(b"abc").decode(), "bestandsomvang": 4})
    assert codes(mismatch) == {"nonFieldErrors": "file-size"}


async def test_document_validation(zgw: Zgw) -> None:
    iot = await zgw.iot("Melding")
    base = {"bronorganisatie": RSIN, "creatiedatum": "2024-03-01", "titel": "t", "auteur": "a", "taal": "nld",
            "informatieobjecttype": iot["url"]}
    assert codes(await zgw.post(EIOS, json={**base, "taal": "nl"})) == {"taal": "min_length"}
    assert codes(await zgw.post(EIOS, json={**base, "titel": ""})) == {"titel": "blank"}
    assert codes(await zgw.post(EIOS, json={**base, "bronorganisatie": "111111111"})) == {"bronorganisatie": "invalid"}
    assert codes(await zgw.post(EIOS, json={**base, "indicatieGebruiksrecht": True})) == {
        "indicatieGebruiksrecht": "missing-gebruiksrechten"}
    assert codes(await zgw.post(EIOS, json={**base, "status": "in_bewerking", "ontvangstdatum": "2024-03-01"})) == {
        "status": "invalid_for_received"}
    assert codes(await zgw.post(EIOS, json={**base, "informatieobjecttype": (await zgw.zaaktype())["url"]})) == {
        "informatieobjecttype": "bad-url"}
    first = await zgw.ok("POST", EIOS, 201, json={**base, "identificatie": "DOC-1"})
    assert codes(await zgw.post(EIOS, json={**base, "identificatie": "DOC-1"})) == {
        "identificatie": "identificatie-niet-uniek"}
    assert first["identificatie"] == "DOC-1"
    response = await zgw.post(EIOS, content=b"titel=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


async def test_lock_update_unlock_and_versions(zgw: Zgw) -> None:
    document = await zgw.create_document(content=b"versie een")
    url = document["url"]
    assert codes(await zgw.patch(url, json={"titel": "x"})) == {"nonFieldErrors": "unlocked"}
    lock = (await zgw.ok("POST", f"{url}/lock"))["lock"]
    assert len(lock) >= 32
    assert codes(await zgw.post(f"{url}/lock")) == {"nonFieldErrors": "existing-lock"}
    assert (await zgw.ok("GET", url))["locked"] is True
    assert codes(await zgw.patch(url, json={"titel": "x"})) == {"nonFieldErrors": "missing-lock-id"}
    assert codes(await zgw.patch(url, json={"titel": "x", "lock": "wrong"})) == {"nonFieldErrors": "incorrect-lock-id"}
    # PATCH: metadata only keeps the content
    second = await zgw.ok("PATCH", url, json={"titel": "tweede", "lock": lock})
    assert second["versie"] == 2 and second["locked"] is True
    assert (await zgw.get(second["inhoud"])).content == b"versie een"
    # PATCH with new inline content needs the matching bestandsomvang, as in Open Zaak
    new = base64.b64encode(b"versie drie").decode()
    assert codes(await zgw.patch(url, json={"inhoud": new, "lock": lock})) == {"nonFieldErrors": "file-size"}
    third = await zgw.ok("PATCH", url, json={"inhoud": new, "bestandsomvang": 11, "lock": lock})
    assert third["versie"] == 3 and (await zgw.get(third["inhoud"])).content == b"versie drie"
    # PUT replaces: what is left out is gone, the content too
    body = {k: document[k] for k in ("bronorganisatie", "creatiedatum", "titel", "auteur", "taal",
                                     "informatieobjecttype")}
    assert codes(await zgw.put(url, json=body)) == {"lock": "required"}
    fourth = await zgw.ok("PUT", url, json={**body, "lock": lock, "beschrijving": "vervangen"})
    assert fourth["versie"] == 4 and fourth["inhoud"] is None and fourth["formaat"] == ""
    assert fourth["identificatie"] == document["identificatie"]
    # older versions stay readable
    one = await zgw.ok("GET", url, params={"versie": 1})
    assert one["titel"] == "Melding" and one["versie"] == 1 and one["locked"] is True
    assert (await zgw.get(f"{url}/download", params={"versie": 3})).content == b"versie drie"
    assert (await zgw.get(url, params={"versie": 9})).status_code == 404
    by_time = await zgw.ok("GET", url, params={"registratieOp": second["beginRegistratie"]})
    assert by_time["versie"] == 2
    # unlock
    assert codes(await zgw.post(f"{url}/unlock", json={"lock": "wrong"})) == {"nonFieldErrors": "incorrect-lock-id"}
    await zgw.ok("POST", f"{url}/unlock", 204, json={"lock": lock})
    latest = await zgw.ok("GET", url)
    assert latest["locked"] is False and latest["versie"] == 4


async def upload_in_parts(zgw: Zgw, document: dict[str, Any], content: bytes) -> list[dict[str, Any]]:
    answers = []
    offset = 0
    for deel in document["bestandsdelen"]:
        part = content[offset:offset + deel["omvang"]]
        offset += deel["omvang"]
        answer = await zgw.ok("PUT", deel["url"], files={"inhoud": ("part.bin", part, "application/octet-stream")},
                              data={"lock": deel["lock"]})
        answers.append(answer)
    return answers


async def test_bestandsdelen_upload_of_a_large_file(zgw: Zgw, config: EmbeddedConfig) -> None:
    content = os.urandom(3 * 1024 * 1024 + 12345)  # 3 MB and a bit: four parts of at most 1 MiB
    document = await zgw.create_document(content=None, bestandsomvang=len(content), bestandsnaam="groot.bin")
    assert document["locked"] is True and document["lock"] and document["inhoud"] is None
    delen = document["bestandsdelen"]
    assert [d["volgnummer"] for d in delen] == [1, 2, 3, 4]
    assert [d["omvang"] for d in delen] == [1024 * 1024] * 3 + [12345]
    assert all(d["voltooid"] is False and d["lock"] == document["lock"] for d in delen)
    assert all(d["url"].startswith("http://zgw.test/documenten/api/v1/bestandsdelen/") for d in delen)
    # unlocking before everything is there is refused
    answers = await upload_in_parts(zgw, {"bestandsdelen": delen[:2]}, content)
    assert answers[0] == {**delen[0], "voltooid": True}
    assert codes(await zgw.post(f"{document['url']}/unlock", json={"lock": document["lock"]})) == {
        "nonFieldErrors": "incomplete-upload"}
    offset = 2 * 1024 * 1024
    for deel in delen[2:]:
        part = content[offset:offset + deel["omvang"]]
        offset += deel["omvang"]
        await zgw.ok("PUT", deel["url"], files={"inhoud": ("p", part)}, data={"lock": document["lock"]})
    await zgw.ok("POST", f"{document['url']}/unlock", 204, json={"lock": document["lock"]})
    done = await zgw.ok("GET", document["url"])
    assert done["locked"] is False and done["bestandsdelen"] == [] and done["bestandsomvang"] == len(content)
    async with zgw.stream("GET", done["inhoud"]) as response:
        digest = hashlib.sha256()
        async for chunk in response.aiter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
    assert list((config.files_dir / ".tmp").iterdir()) == []  # nothing left behind


async def test_bestandsdeel_errors(zgw: Zgw) -> None:
    document = await zgw.create_document(content=None, bestandsomvang=10)
    deel = document["bestandsdelen"][0]
    response = await zgw.put(deel["url"], files={"inhoud": ("p", b"123")}, data={"lock": document["lock"]})
    assert codes(response) == {"nonFieldErrors": "file-size"}
    response = await zgw.put(deel["url"], files={"inhoud": ("p", b"0123456789")}, data={"lock": "wrong"})
    assert codes(response) == {"nonFieldErrors": "incorrect-lock-id"}
    response = await zgw.put(deel["url"], data={"lock": document["lock"]})
    assert codes(response)["inhoud"] == "required"
    response = await zgw.put(deel["url"], json={"inhoud": "x"})
    assert response.status_code == 415
    # nothing uploaded and a size above zero: unlocking is refused
    assert codes(await zgw.post(f"{document['url']}/unlock", json={"lock": document["lock"]})) == {
        "nonFieldErrors": "file-size"}
    huge = await zgw.post(EIOS, json={"bronorganisatie": RSIN, "creatiedatum": "2024-03-01", "titel": "t",
                                      "auteur": "a", "taal": "nld",
                                      "informatieobjecttype": document["informatieobjecttype"],
                                      "bestandsomvang": 2**62})
    assert codes(huge) == {"bestandsomvang": "file-size"}
    # the urlencoded form of the OAS works too
    from urllib.parse import quote_from_bytes

    form = f"inhoud={quote_from_bytes(b'0123456789')}&lock={document['lock']}".encode()
    await zgw.ok("PUT", deel["url"], content=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    await zgw.ok("POST", f"{document['url']}/unlock", 204, json={"lock": document["lock"]})
    assert (await zgw.get(f"{document['url']}/download")).content == b"0123456789"


async def test_new_content_in_parts_on_update(zgw: Zgw) -> None:
    document = await zgw.create_document(content=b"oud")
    lock = (await zgw.ok("POST", f"{document['url']}/lock"))["lock"]
    content = os.urandom(1024 * 1024 + 1)
    updated = await zgw.ok("PATCH", document["url"], json={"inhoud": None, "bestandsomvang": len(content),
                                                           "lock": lock})
    assert updated["versie"] == 2 and [d["omvang"] for d in updated["bestandsdelen"]] == [1024 * 1024, 1]
    assert updated["bestandsdelen"][0]["lock"] == lock
    await upload_in_parts(zgw, updated, content)
    await zgw.ok("POST", f"{document['url']}/unlock", 204, json={"lock": lock})
    assert (await zgw.get(f"{document['url']}/download")).content == content
    assert (await zgw.get(f"{document['url']}/download", params={"versie": 1})).content == b"oud"


async def test_delete_is_refused_while_relations_exist(zgw: Zgw) -> None:
    document = await zgw.create_document()
    zio = await link(zgw, document)
    assert codes(await zgw.delete(document["url"])) == {"nonFieldErrors": "pending-relations"}
    await zgw.ok("DELETE", zio["url"], 204)
    lock = (await zgw.ok("POST", f"{document['url']}/lock"))["lock"]
    assert codes(await zgw.delete(document["url"])) == {"nonFieldErrors": "destroy-locked"}
    await zgw.ok("POST", f"{document['url']}/unlock", 204, json={"lock": lock})
    await zgw.ok("DELETE", document["url"], 204)
    assert (await zgw.get(document["url"])).status_code == 404


async def test_zaakinformatieobjecten_and_their_mirror(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()
    zaaktype = await zgw.ok("GET", zaak["zaaktype"])
    await zgw.ok("POST", "zaken/api/v1/statussen", 201, json={
        "zaak": zaak["url"], "statustype": zaaktype["statustypen"][0], "datumStatusGezet": "2024-03-01T10:00:00Z"})
    document = await zgw.create_document()
    zio = await link(zgw, document, zaak)
    assert zio["aardRelatieWeergave"] == "Hoort bij, omgekeerd: kent" and zio["titel"] == "bijlage"
    assert zio["status"] == (await zgw.ok("GET", zaak["url"]))["status"]  # the current status
    # a plain array, not paginated
    listed = await zgw.ok("GET", "zaken/api/v1/zaakinformatieobjecten", params={"zaak": zaak["url"]})
    assert listed == [zio]
    by_document = await zgw.ok("GET", "zaken/api/v1/zaakinformatieobjecten",
                               params={"informatieobject": document["url"]})
    assert by_document == [zio]
    assert (await zgw.ok("GET", zaak["url"]))["zaakinformatieobjecten"] == [zio["url"]]
    oios = await zgw.ok("GET", "documenten/api/v1/objectinformatieobjecten",
                        params={"informatieobject": document["url"]})
    assert oios == [{"url": oios[0]["url"], "informatieobject": document["url"], "object": zaak["url"],
                     "objectType": "zaak"}]
    assert codes(await zgw.post("zaken/api/v1/zaakinformatieobjecten",
                                json={"zaak": zaak["url"], "informatieobject": document["url"]})) == {
        "nonFieldErrors": "unique"}
    # the mirror cannot be removed on its own, nor made twice
    assert codes(await zgw.delete(oios[0]["url"])) == {"nonFieldErrors": "remote-relation-exists"}
    assert codes(await zgw.post("documenten/api/v1/objectinformatieobjecten", json={
        "informatieobject": document["url"], "object": zaak["url"], "objectType": "zaak"})) == {
        "nonFieldErrors": "unique"}
    patched = await zgw.ok("PATCH", zio["url"], json={"titel": "nieuwe titel"})
    assert patched["titel"] == "nieuwe titel"
    other = await zgw.create_zaak()
    assert codes(await zgw.patch(zio["url"], json={"zaak": other["url"]})) == {"zaak": "wijzigen-niet-toegelaten"}
    await zgw.ok("DELETE", zio["url"], 204)
    assert await zgw.ok("GET", "documenten/api/v1/objectinformatieobjecten",
                        params={"informatieobject": document["url"]}) == []


async def test_zaakinformatieobject_needs_an_informatieobjecttype_of_the_zaaktype(zgw: Zgw) -> None:
    zaak = await zgw.create_zaak()  # MELDING-OR
    document = await zgw.create_document(iot="Bezwaarschrift")
    response = await zgw.post("zaken/api/v1/zaakinformatieobjecten",
                              json={"zaak": zaak["url"], "informatieobject": document["url"]})
    assert codes(response) == {"nonFieldErrors": "missing-zaaktype-informatieobjecttype-relation"}


async def test_gebruiksrechten_drive_the_indicator(zgw: Zgw) -> None:
    document = await zgw.create_document()
    recht = await zgw.ok("POST", "documenten/api/v1/gebruiksrechten", 201, json={
        "informatieobject": document["url"], "startdatum": "2024-03-01T00:00:00Z",
        "omschrijvingVoorwaarden": "vrij te gebruiken"})
    assert set(recht) == {"url", "informatieobject", "startdatum", "einddatum", "omschrijvingVoorwaarden"}
    current = await zgw.ok("GET", document["url"])
    assert current["indicatieGebruiksrecht"] is True and current["versie"] == 1
    listed = await zgw.ok("GET", "documenten/api/v1/gebruiksrechten", params={"informatieobject": document["url"]})
    assert listed == [recht]
    assert await zgw.ok("GET", "documenten/api/v1/gebruiksrechten",
                        params={"startdatum__gt": "2024-03-02T00:00:00Z"}) == []
    lock = (await zgw.ok("POST", f"{document['url']}/lock"))["lock"]
    response = await zgw.patch(document["url"], json={"indicatieGebruiksrecht": False, "lock": lock})
    assert codes(response) == {"indicatieGebruiksrecht": "existing-gebruiksrechten"}
    await zgw.ok("POST", f"{document['url']}/unlock", 204, json={"lock": lock})
    await zgw.ok("DELETE", recht["url"], 204)
    assert (await zgw.ok("GET", document["url"]))["indicatieGebruiksrecht"] is None


async def test_zoek_documents(zgw: Zgw) -> None:
    one = await zgw.create_document()
    await zgw.create_document()
    uuid = one["url"].rsplit("/", 1)[1]
    found = await zgw.ok("POST", f"{EIOS}/_zoek", json={"uuid_In": [uuid]})
    assert [d["url"] for d in found["results"]] == [one["url"]]
