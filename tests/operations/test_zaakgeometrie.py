"""anderZaakObject/lokatie ↔ zaakgeometrie in creeerZaak and updateZaak (Open Formulieren's map component,
CLIENTS.md §1.3/§1.4: a GML Point in lon/lat, schema-invalid in ZKN:lokatie but legitimate traffic)."""

from __future__ import annotations

import pytest

from stuf_bridge.stuf.geometry import to_geojson
from stuf_bridge.stuf.namespaces import GML, ZKN
from stuf_bridge.stuf.validation import Schemas

from ..support.faults import stuf_fault
from .conftest import Harness
from .details_messages import geef_zaakdetails
from .messages import creeer_zaak
from .test_creeer_zaak import berichtcode
from .test_zaakdetails import ask
from .update_messages import NIL, update_zaak, zaak_object

IDENT = "0363ZK2024-000101"


def ander(gml: str, omschrijving: str = "locatie") -> str:
    return f"""<ZKN:anderZaakObject>
      <ZKN:omschrijving>{omschrijving}</ZKN:omschrijving>
      <ZKN:lokatie xmlns:GML="{GML}">{gml}</ZKN:lokatie>
    </ZKN:anderZaakObject>"""


POINT = '<GML:Point srsName="EPSG:4326"><GML:pos>4.893 52.373</GML:pos></GML:Point>'
POLYGON = ('<GML:Polygon srsName="EPSG:4326"><GML:exterior><GML:LinearRing><GML:posList>'
           '4.0 52.0 5.0 52.0 5.0 53.0 4.0 52.0</GML:posList></GML:LinearRing></GML:exterior></GML:Polygon>')


async def _geometrie(harness: Harness):
    [zaak] = await harness.all("zaken", identificatie=IDENT)
    return zaak.get("zaakgeometrie")


async def test_open_formulieren_point_becomes_zaakgeometrie(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander(POINT), referentienummer="geo-1"))
    assert reply.status == 200, reply.body.decode()
    assert await _geometrie(harness) == {"type": "Point", "coordinates": [4.893, 52.373]}


async def test_two_lokaties_become_a_geometry_collection(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander(POINT, "punt") + ander(POLYGON, "vlak"),
                                              referentienummer="geo-2"))
    assert reply.status == 200, reply.body.decode()
    geometrie = await _geometrie(harness)
    assert geometrie["type"] == "GeometryCollection"
    assert [g["type"] for g in geometrie["geometries"]] == ["Point", "Polygon"]


async def test_malformed_lokatie_is_a_fault_and_nothing_is_created(harness: Harness) -> None:
    bad = '<GML:Point srsName="EPSG:4326"><GML:pos>4.893</GML:pos><GML:pos>x y</GML:pos></GML:Point>'
    response = await harness.post(*creeer_zaak(ander_zaak_object=ander(bad), referentienummer="geo-3"))
    assert berichtcode(response) == "Fo03"
    found = stuf_fault(response)
    assert found.codes == ("StUF058", "invalid-lokatie")
    assert "lokatie" in found.details
    assert await harness.all("zaken") == []


async def test_rd_lokatie_becomes_a_wgs84_zaakgeometrie(harness: Harness) -> None:
    rd = '<GML:Point srsName="EPSG:28992"><GML:pos>121000 487000</GML:pos></GML:Point>'
    reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander(rd), referentienummer="geo-4"))
    assert reply.status == 200, reply.body.decode()
    geometrie = await _geometrie(harness)
    assert geometrie["type"] == "Point"
    assert geometrie["coordinates"] == pytest.approx([4.88797, 52.36983], abs=1e-4)  # Amsterdam, Dam


async def test_lokatie_in_another_system_is_left_out_with_a_warning(harness: Harness) -> None:
    mercator = '<GML:Point srsName="EPSG:3857"><GML:pos>544000 6867000</GML:pos></GML:Point>'
    reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander(mercator), referentienummer="geo-4b"))
    assert reply.status == 200, reply.body.decode()
    assert any("3857" in w for w in reply.warnings), reply.warnings
    assert await _geometrie(harness) is None


async def test_update_replaces_and_clears_the_geometry(harness: Harness) -> None:
    reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander(POINT), referentienummer="geo-5"))
    assert reply.status == 200, reply.body.decode()

    reply = await harness.handle(*update_zaak(zaak_object(IDENT, ander(POLYGON)), referentienummer="geo-6"))
    assert reply.status == 200, reply.body.decode()
    assert (await _geometrie(harness))["type"] == "Polygon"

    cleared = f'<ZKN:anderZaakObject {NIL}/>'
    reply = await harness.handle(*update_zaak(zaak_object(IDENT, cleared), referentienummer="geo-7"))
    assert reply.status == 200, reply.body.decode()
    assert await _geometrie(harness) is None


async def test_geef_zaakdetails_gives_a_polygon_back_as_lokatie(harness: Harness, schemas: Schemas) -> None:
    reply = await harness.handle(*creeer_zaak(ander_zaak_object=ander(POLYGON), referentienummer="geo-8"))
    assert reply.status == 200, reply.body.decode()
    _, la01 = await ask(harness, geef_zaakdetails(identificatie=IDENT, scope="alles"))
    assert schemas.validate(la01) == []
    lokatie = la01.find(f".//{{{ZKN}}}anderZaakObject/{{{ZKN}}}lokatie")
    assert lokatie is not None
    assert to_geojson(lokatie) == await _geometrie(harness)
