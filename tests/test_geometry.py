"""GML lokatie → GeoJSON zaakgeometrie (stuf/geometry.py), on the shapes clients send (CLIENTS.md §1.4)."""

from __future__ import annotations

import pytest
from lxml import etree

from stuf_bridge.stuf.geometry import (
    RD,
    GeometryError,
    UnsupportedCrs,
    rd_to_wgs84,
    to_geojson,
    to_gml,
    wgs84_to_rd,
)
from stuf_bridge.stuf.namespaces import GML

G = f'xmlns:gml="{GML}"'


def parse(text: str) -> etree._Element:
    return etree.fromstring(text)


def test_open_formulieren_point_lon_lat() -> None:
    point = parse(f'<gml:Point {G} srsName="EPSG:4326"><gml:pos>4.893 52.373</gml:pos></gml:Point>')
    warnings: list[str] = []
    assert to_geojson(point, warnings) == {"type": "Point", "coordinates": [4.893, 52.373]}
    assert warnings == []


def test_lat_lon_in_the_netherlands_is_swapped_with_a_warning() -> None:
    point = parse(f'<gml:Point {G} srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>52.373 4.893</gml:pos></gml:Point>')
    warnings: list[str] = []
    assert to_geojson(point, warnings)["coordinates"] == [4.893, 52.373]
    assert len(warnings) == 1 and "omgedraaid" in warnings[0]


def test_polygon_with_a_hole_inside_a_wrapper() -> None:
    lokatie = parse(f"""<lokatie {G}><gml:Polygon srsName="EPSG:4326">
      <gml:exterior><gml:LinearRing><gml:posList>4.0 52.0 5.0 52.0 5.0 53.0 4.0 52.0</gml:posList></gml:LinearRing>
      </gml:exterior>
      <gml:interior><gml:LinearRing><gml:posList>4.4 52.2 4.6 52.2 4.6 52.4 4.4 52.2</gml:posList></gml:LinearRing>
      </gml:interior></gml:Polygon></lokatie>""")
    geometry = to_geojson(lokatie)
    assert geometry["type"] == "Polygon"
    assert geometry["coordinates"][0] == [[4.0, 52.0], [5.0, 52.0], [5.0, 53.0], [4.0, 52.0]]
    assert len(geometry["coordinates"]) == 2
    back = to_gml(geometry)
    assert back is not None and to_geojson(back) == geometry


def test_gml2_coordinates_and_linestring() -> None:
    line = parse(f'<gml:LineString {G}><gml:coordinates>4.9,52.3 4.95,52.35</gml:coordinates></gml:LineString>')
    assert to_geojson(line) == {"type": "LineString", "coordinates": [[4.9, 52.3], [4.95, 52.35]]}


def test_multi_surface_becomes_multi_polygon() -> None:
    ring = "<gml:exterior><gml:LinearRing><gml:posList>{}</gml:posList></gml:LinearRing></gml:exterior>"
    multi = parse(f"""<gml:MultiSurface {G} srsName="EPSG:4326">
      <gml:surfaceMember><gml:Polygon>{ring.format("4 52 5 52 5 53 4 52")}</gml:Polygon></gml:surfaceMember>
      <gml:surfaceMember><gml:Polygon>{ring.format("6 52 7 52 7 53 6 52")}</gml:Polygon></gml:surfaceMember>
    </gml:MultiSurface>""")
    geometry = to_geojson(multi)
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 2


def test_three_dimensional_positions() -> None:
    point = parse(f'<gml:Point {G} srsDimension="3"><gml:pos>4.9 52.3 1.5</gml:pos></gml:Point>')
    assert to_geojson(point)["coordinates"] == [4.9, 52.3, 1.5]


@pytest.mark.parametrize(
    ("gml", "reason"),
    [
        ('<gml:Point {G}><gml:pos>4.9 noord</gml:pos></gml:Point>', "geen getal"),
        ('<gml:Point {G}><gml:pos>4.9 52.3 7</gml:pos></gml:Point>', "srsDimension"),
        (('<gml:Polygon {G}><gml:exterior><gml:LinearRing><gml:posList>4 52 5 52 5 53 4 53</gml:posList>'
          '</gml:LinearRing></gml:exterior></gml:Polygon>'), "gesloten"),
        ('<gml:Point {G}/>', "zonder coördinaten"),
        ('<lokatie {G}><tekst/></lokatie>', "geen GML"),
    ],
)
def test_malformed_gml_names_the_problem(gml: str, reason: str) -> None:
    with pytest.raises(GeometryError, match=reason):
        to_geojson(parse(gml.format(G=G)))


def test_rd_is_transformed_to_wgs84() -> None:
    """The RD origin (Amersfoort, x 155000 y 463000) lies at 52.15517440 N 5.38720621 E (RD definition); PROJ's
    transformation without the RDNAPTRANS grid is within a metre of it (1e-5 degrees is about 0.7-1.1 m)."""
    point = parse(f'<gml:Point {G} srsName="urn:ogc:def:crs:EPSG::28992"><gml:pos>155000 463000</gml:pos></gml:Point>')
    warnings: list[str] = []
    lon, lat = to_geojson(point, warnings)["coordinates"]
    assert lon == pytest.approx(5.38720621, abs=1e-5) and lat == pytest.approx(52.15517440, abs=1e-5)
    assert warnings == []  # no lat/lon swap guess for RD


def test_rd_polygon_there_and_back() -> None:
    ring = "121000 487000 121100 487000 121100 487100 121000 487000"
    polygon = parse(f'<gml:Polygon {G} srsName="EPSG:28992"><gml:exterior><gml:LinearRing><gml:posList>{ring}'
                    "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>")
    geometry = to_geojson(polygon)
    assert all(4.8 < lon < 5.0 and 52.3 < lat < 52.4 for lon, lat in geometry["coordinates"][0])
    back = to_gml(geometry, RD)
    assert back is not None and back.get("srsName") == "EPSG:28992"
    numbers = [float(v) for v in back.findtext(f".//{{{GML}}}posList").split()]
    assert numbers == pytest.approx([float(v) for v in ring.split()], abs=0.01)
    assert to_geojson(back)["coordinates"] == geometry["coordinates"]


@pytest.mark.parametrize(("x", "y"), [(rd_x, rd_y) for rd_x, rd_y in ((13698, 380000), (278000, 600000))])
def test_rd_wgs84_round_trip_over_the_country(x: float, y: float) -> None:
    assert wgs84_to_rd(*rd_to_wgs84(x, y)) == pytest.approx((x, y), abs=0.01)


def test_lat_lon_under_an_rd_srs_name_is_an_error_not_a_guess() -> None:
    point = parse(f'<gml:Point {G} srsName="EPSG:28992"><gml:pos>52.37 4.89</gml:pos></gml:Point>')
    with pytest.raises(GeometryError, match="buiten het RD-gebied"):
        to_geojson(point)


def test_other_systems_are_not_converted() -> None:
    point = parse(f'<gml:Point {G} srsName="EPSG:3857"><gml:pos>544000 6867000</gml:pos></gml:Point>')
    with pytest.raises(UnsupportedCrs, match="3857"):
        to_geojson(point)


def test_to_gml_leaves_other_types_out() -> None:
    assert to_gml({"type": "Point", "coordinates": [4.9, 52.3]}) is None
