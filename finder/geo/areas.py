"""Whether a resource serving an area (state, county, place, polygon) serves a searcher."""

import shapely

from finder.geo.offline import OfflineGeocoder, region_of
from finder.geo.positions import distance_km
from finder.geo.us_places import fold_name
from finder.geo.world import country_at

PLACE_RADIUS_KM = 15  # a town-named service area covers about this far from the town's centre


def serves(areas: list[dict] | None, query) -> bool:
    """Whether a resource's service areas include the searcher (no areas: everyone)."""
    if not areas:
        return True
    return any(area_contains(area, query) for area in areas)


def area_contains(area: dict, query) -> bool:
    """Whether one service area contains the searcher's point (country-wide ones if no point)."""
    kind, code = area.get("kind"), (area.get("code") or "").upper()
    if kind == "worldwide":
        return True
    if not query.has_point:
        return kind == "country"  # without a place, country-wide services still apply
    region = region_of(query.latitude, query.longitude)
    if kind == "country":  # near a border, both countries' services are offered
        if code == "US" and region is not None:
            return True
        return code == country_at(query.latitude, query.longitude)
    if kind == "radius":  # a GeoJSON point and a radius in km (the code)
        return _within_radius(area, query)
    if area.get("shape") is not None:
        return bool(area["shape"].contains(shapely.Point(query.longitude, query.latitude)))
    if region is None:
        return False
    if kind == "state":
        return code == region.state
    if kind == "county":
        if code:
            return code == region.county_geoid
        return (area.get("state") or "").upper() == region.state and _bare(
            area.get("name")
        ) == _bare(region.county)
    if kind == "place":
        return _near_town(area.get("name") or "", area.get("state") or region.state, query)
    return False


def _within_radius(area: dict, query) -> bool:
    shape = area.get("shape")
    try:
        radius_km = float(area.get("code") or "")
    except ValueError:
        return False
    if shape is None or shape.geom_type != "Point":
        return False
    return distance_km(query.latitude, query.longitude, shape.y, shape.x) <= radius_km


def _bare(county: str | None) -> str:
    return fold_name(county or "").removesuffix(" COUNTY").strip()


def _near_town(name: str, state: str, query) -> bool:
    found = OfflineGeocoder().geocode({"city": name, "state": state})
    if found is None or found.raw.get("precision") != "city":
        return False
    return distance_km(query.latitude, query.longitude, found.latitude, found.longitude) <= (
        PLACE_RADIUS_KM
    )
