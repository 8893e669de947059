"""Just enough GeoJSON for ``zaakgeometrie``: shape checks and point-in-polygon for ``_zoek``."""

from __future__ import annotations

from typing import Any

TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection")


def _position(value: Any) -> bool:
    return (isinstance(value, list) and len(value) in (2, 3)
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in value))


def _depth_ok(coords: Any, depth: int) -> bool:
    if depth == 0:
        return _position(coords)
    return isinstance(coords, list) and all(_depth_ok(c, depth - 1) for c in coords)


_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def geometry_error(geometry: Any) -> str | None:
    """A reason when ``geometry`` is not a GeoJSON geometry, else None."""
    if not isinstance(geometry, dict) or geometry.get("type") not in TYPES:
        return f"Ongeldige geometrie; 'type' moet een van {', '.join(TYPES)} zijn."
    if geometry["type"] == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list):
            return "Een GeometryCollection heeft 'geometries' nodig."
        for member in members:
            problem = geometry_error(member)
            if problem:
                return problem
        return None
    if not _depth_ok(geometry.get("coordinates"), _DEPTH[geometry["type"]]):
        return f"Ongeldige 'coordinates' voor een {geometry['type']}."
    return None


def _in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _in_polygon(point: list[float], polygon: list[list[list[float]]]) -> bool:
    x, y = point[0], point[1]
    rings = [[p[:2] for p in ring] for ring in polygon]
    return bool(rings) and _in_ring(x, y, rings[0]) and not any(_in_ring(x, y, hole) for hole in rings[1:])


def _points(geometry: dict[str, Any]) -> list[list[float]]:
    kind = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    if kind == "Point":
        return [coords]
    if kind in ("MultiPoint", "LineString"):
        return list(coords)
    if kind in ("MultiLineString", "Polygon"):
        return [p for part in coords for p in part]
    if kind == "MultiPolygon":
        return [p for poly in coords for ring in poly for p in ring]
    return [p for g in geometry.get("geometries", []) for p in _points(g)]


def point_in_geometry(geometry: dict[str, Any], within: dict[str, Any]) -> bool:
    """True when every vertex of ``geometry`` lies inside the (Multi)Polygon ``within``."""
    polygons = [within["coordinates"]] if within.get("type") == "Polygon" else (
        within.get("coordinates", []) if within.get("type") == "MultiPolygon" else [])
    points = _points(geometry)
    return bool(points) and all(any(_in_polygon(p, poly) for poly in polygons) for p in points)
