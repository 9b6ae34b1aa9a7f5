"""One answer to "is this a usable position?", for every format and the geocoder."""

import math

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG); the one radius of every distance
EARTH_DIAMETER_KM = 2 * EARTH_RADIUS_KM


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle km between two positions in degrees: the haversine, with the C library's
    sin, cos and asin (never NumPy's, whose SIMD versions differ by CPU).

    ``finder.search.kernels.haversine`` is its compiled twin, step for step, and the tests hold
    the two to the same bits, so a place exactly at a radius is in or out the same everywhere.
    """
    half_lat1, half_lat2 = math.radians(lat1) / 2, math.radians(lat2) / 2
    a = math.sin(half_lat2 - half_lat1)
    b = math.sin(math.radians(lon2) / 2 - math.radians(lon1) / 2)
    h = a * a + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * (b * b)
    return EARTH_DIAMETER_KM * math.asin(math.sqrt(h))


def read_position(latitude, longitude) -> tuple[tuple[float, float] | None, str | None]:
    """((lat, lon), None) for a usable position; (None, why not) otherwise; (None, None) if blank.

    Usable: both are finite numbers in range, and neither is exactly zero (feeds write 0 for
    "unknown"; (0, 0) is in the Gulf of Guinea, and no meeting sits exactly on the equator or
    the Greenwich meridian to the last decimal).
    """
    blank = [value is None or str(value).strip() == "" for value in (latitude, longitude)]
    if all(blank):
        return None, None
    shown = f"({str(latitude)[:24]}, {str(longitude)[:24]})"
    if any(blank):
        return None, f"coordinates {shown} lack a {'latitude' if blank[0] else 'longitude'}"
    try:
        lat, lon = float(str(latitude).strip()), float(str(longitude).strip())
    except (TypeError, ValueError, OverflowError):
        return None, f"coordinates {shown} are not numbers"
    if math.isnan(lat) or math.isnan(lon):
        return None, f"coordinates {shown} are not numbers"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, f"coordinates {shown} are out of range"
    if lat == 0 and lon == 0:
        return None, "coordinates are (0, 0)"
    if lat == 0 or lon == 0:
        return None, f"coordinates {shown} have a zero {'latitude' if lat == 0 else 'longitude'}"
    return (lat, lon), None
