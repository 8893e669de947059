"""GML (as StUF carries it in ``lokatie``) → GeoJSON (as ZGW takes ``zaakgeometrie``), and back.

Supported: Point, LineString, Polygon (with holes), Surface/PolygonPatch, MultiPoint, MultiCurve/MultiLineString,
MultiSurface/MultiPolygon; positions in ``gml:pos``/``gml:posList`` (GML 3) or ``gml:coordinates`` (GML 2).

Coordinates: ZGW takes WGS84 (``EPSG:4326``) as GeoJSON orders it, longitude first. Open Formulieren sends
``srsName="EPSG:4326"`` in that same order (CLIENTS.md §1.4), so the values are taken as given. A position whose
first value lies in the Netherlands' latitude band and second in its longitude band is latitude-first (the
axis order EPSG:4326 strictly has): it is swapped, with a warning.

RD (Rijksdriehoeksmeting, ``EPSG:28992``), the coordinate system of Dutch municipal systems, is transformed to
WGS84 with PROJ (pyproj), x/y → longitude/latitude, and back for answers that ask for RD (``to_gml(…, srs=RD)``).
The transformation is PROJ's default for the pair (the RDNAPTRANS grid when PROJ has it, else the published
Helmert parameters: within a metre either way). An RD position outside the RD area (x −7,000…300,000,
y 289,000…629,000) is an error, not a guess: a client that writes lat/lon under an RD srsName is told so. Other
systems are not converted: ``UnsupportedCrs`` names the srsName.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from pyproj import Transformer

from .namespaces import GML

JSON = dict[str, Any]
WGS84 = ("4326", "CRS84", "WGS84")
RD_CODES = ("28992",)
#: The srsName answers write for each system.
RD = "EPSG:28992"
WGS84_SRS = "EPSG:4326"
_RD_X = (-7_000.0, 300_000.0)
_RD_Y = (289_000.0, 629_000.0)
_NL_LAT = (50.5, 53.8)
_NL_LON = (3.0, 7.5)


class GeometryError(ValueError):
    """GML the gateway cannot turn into GeoJSON; the message names why."""


class UnsupportedCrs(GeometryError):
    """Well-formed GML in a coordinate system the gateway does not convert."""


def gml(name: str) -> str:
    return f"{{{GML}}}{name}"


def to_geojson(element: etree._Element, warnings: list[str] | None = None) -> JSON:
    """The GeoJSON geometry of the first GML geometry in or at ``element``."""
    geometry = element if _is_geometry(element) else next((el for el in element.iter() if _is_geometry(el)), None)
    if geometry is None:
        raise GeometryError("geen GML-geometrie gevonden")
    system = _check_srs(geometry)
    result = _convert(geometry)
    if system == RD:
        return _mapped(result, _from_rd)
    if _swap_needed(result):
        result = _swapped(result)
        if warnings is not None:
            warnings.append("lokatie: coördinaten in volgorde breedte/lengte omgedraaid naar lengte/breedte (GeoJSON)")
    return result


_TYPES = ("Point", "LineString", "Curve", "Polygon", "Surface", "MultiPoint", "MultiCurve", "MultiLineString",
          "MultiSurface", "MultiPolygon")


def _is_geometry(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and element.tag.startswith(f"{{{GML}}}") and \
        etree.QName(element).localname in _TYPES


def _check_srs(element: etree._Element) -> str:
    """The system of the geometry: ``RD`` or ``WGS84_SRS`` (also when no srsName is given, as ZGW's)."""
    srs = element.get("srsName") or next((el.get("srsName") for el in element.iterancestors() if el.get("srsName")),
                                         None)
    if not srs or any(code in srs.upper() for code in WGS84):
        return WGS84_SRS
    if re.search(r"(?<!\d)28992(?!\d)", srs):
        return RD
    raise UnsupportedCrs(f"coördinaatsysteem {srs!r} wordt niet omgezet; de gateway kent EPSG:4326 (WGS84) en "
                         "EPSG:28992 (RD)")


@functools.cache
def _transformer(source: str, target: str) -> Transformer:
    # imported on first use: pyproj takes a second or more to import, which a gateway that meets no RD need not pay
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def rd_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """RD x/y (metres) → WGS84 longitude/latitude (degrees, 8 decimals: about a millimetre)."""
    if not (_RD_X[0] <= x <= _RD_X[1] and _RD_Y[0] <= y <= _RD_Y[1]):
        raise GeometryError(f"RD-coördinaat ({_format(x)}, {_format(y)}) ligt buiten het RD-gebied "
                            "(x −7000…300000, y 289000…629000); lengte/breedte onder srsName EPSG:28992?")
    lon, lat = _transformer(RD, WGS84_SRS).transform(x, y)
    return round(lon, 8), round(lat, 8)


def wgs84_to_rd(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 longitude/latitude → RD x/y (metres, 3 decimals)."""
    x, y = _transformer(WGS84_SRS, RD).transform(lon, lat)
    return round(x, 3), round(y, 3)


def _from_rd(position: list[float]) -> list[float]:
    return [*rd_to_wgs84(position[0], position[1]), *position[2:]]


def _to_rd(position: list[float]) -> list[float]:
    return [*wgs84_to_rd(position[0], position[1]), *position[2:]]


def _mapped(geometry: JSON, change: Callable[[list[float]], list[float]]) -> JSON:
    def walk(coordinates: Any) -> Any:
        if coordinates and isinstance(coordinates[0], (int, float)):
            return change(coordinates)
        return [walk(c) for c in coordinates]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def point(x: float, y: float, srs: str) -> JSON:
    """A GeoJSON Point (WGS84) from a coordinate pair in ``srs`` (RD x/y or WGS84 lon/lat)."""
    if srs == RD:
        return {"type": "Point", "coordinates": list(rd_to_wgs84(x, y))}
    return {"type": "Point", "coordinates": [x, y]}


def _convert(element: etree._Element) -> JSON:
    kind = etree.QName(element).localname
    if kind == "Point":
        return {"type": "Point", "coordinates": _positions(element, dimension=_dimension(element))[0]}
    if kind in ("LineString", "Curve"):
        return {"type": "LineString", "coordinates": _positions(element, dimension=_dimension(element))}
    if kind in ("Polygon", "Surface"):
        return {"type": "Polygon", "coordinates": _rings(element)}
    members = _members(element)
    if kind == "MultiPoint":
        return {"type": "MultiPoint", "coordinates": [_convert(m)["coordinates"] for m in members
                                                      if etree.QName(m).localname == "Point"]}
    if kind in ("MultiCurve", "MultiLineString"):
        return {"type": "MultiLineString", "coordinates": [_convert(m)["coordinates"] for m in members
                                                           if etree.QName(m).localname in ("LineString", "Curve")]}
    return {"type": "MultiPolygon", "coordinates": [_convert(m)["coordinates"] for m in members
                                                    if etree.QName(m).localname in ("Polygon", "Surface")]}


def _members(element: etree._Element) -> list[etree._Element]:
    """The geometries a multi-geometry holds (through its member elements), not the ones nested in them."""
    out: list[etree._Element] = []

    def walk(node: etree._Element) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if _is_geometry(child):
                out.append(child)
            else:
                walk(child)

    walk(element)
    return out


def _rings(element: etree._Element) -> list[list[list[float]]]:
    rings: list[list[list[float]]] = []
    for boundary in ("exterior", "outerBoundaryIs", "interior", "innerBoundaryIs"):
        for holder in element.iter(gml(boundary)):
            ring = next(holder.iter(gml("LinearRing")), holder)
            positions = _positions(ring, dimension=_dimension(ring))
            if len(positions) < 4 or positions[0] != positions[-1]:
                raise GeometryError("een ring van een vlak moet gesloten zijn (eerste punt = laatste) en ten minste "
                                    "vier punten hebben")
            if boundary in ("exterior", "outerBoundaryIs"):
                rings.insert(0, positions)
            else:
                rings.append(positions)
    if not rings:
        raise GeometryError("een vlak zonder exterior")
    return rings


def _dimension(element: etree._Element) -> int:
    for el in (element, *element.iterancestors()):
        value = el.get("srsDimension")
        if value and value.isdigit():
            return int(value)
    return 2


_NUMBER = re.compile(r"[^\s,]+")


def _positions(element: etree._Element, *, dimension: int) -> list[list[float]]:
    out: list[list[float]] = []
    for el in element.iter(gml("pos"), gml("posList"), gml("coordinates")):
        if etree.QName(el).localname == "coordinates":  # GML 2: "x,y x,y"
            for pair in (el.text or "").split():
                out.append([_number(v) for v in pair.split(",")])
            continue
        numbers = [_number(v) for v in _NUMBER.findall(el.text or "")]
        if len(numbers) % dimension:
            raise GeometryError(f"{len(numbers)} getallen passen niet bij srsDimension {dimension}")
        out.extend(numbers[i:i + dimension] for i in range(0, len(numbers), dimension))
    if not out:
        raise GeometryError(f"{etree.QName(element).localname} zonder coördinaten")
    return out


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise GeometryError(f"coördinaat {text[:20]!r} is geen getal") from None


def _all_positions(coordinates: Any) -> list[list[float]]:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [coordinates]
    return [p for c in coordinates for p in _all_positions(c)]


def _swap_needed(geometry: JSON) -> bool:
    positions = _all_positions(geometry["coordinates"])
    return bool(positions) and all(
        _NL_LAT[0] <= p[0] <= _NL_LAT[1] and _NL_LON[0] <= p[1] <= _NL_LON[1] for p in positions
    )


def _swapped(geometry: JSON) -> JSON:
    def swap(coordinates: Any) -> Any:
        if coordinates and isinstance(coordinates[0], (int, float)):
            return [coordinates[1], coordinates[0], *coordinates[2:]]
        return [swap(c) for c in coordinates]

    return {"type": geometry["type"], "coordinates": swap(geometry["coordinates"])}


def to_gml(geometry: JSON, srs: str = WGS84_SRS) -> etree._Element | None:
    """A GeoJSON Polygon as a ``gml:Polygon`` (what StUF's ``lokatie`` takes: surfaces only), in ``srs`` (WGS84 as
    ZGW has it, or RD); None for any other type."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        return None
    if srs == RD:
        geometry = _mapped(geometry, _to_rd)
    polygon = etree.Element(gml("Polygon"), srsName=srs, nsmap={"gml": GML})
    for index, ring in enumerate(geometry.get("coordinates") or []):
        boundary = etree.SubElement(polygon, gml("exterior" if index == 0 else "interior"))
        pos_list = etree.SubElement(etree.SubElement(boundary, gml("LinearRing")), gml("posList"))
        pos_list.text = " ".join(_format(v) for position in ring for v in position[:2])
    return polygon


def _format(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))
