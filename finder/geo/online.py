"""The configured geocoder: offline by default, or Nominatim (opt-in, rate limited, cached)."""

import json
from datetime import UTC, datetime

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from finder.errors import GeocodeError
from finder.geo.offline import OfflineGeocoder


class CachedGeocoder(Geocoder):
    """An online geocoder behind a ``geocode_cache`` table, falling back to the offline one.

    Cache rows are committed as they are learnt, outside any import transaction, so an import
    that is retried after a failure never asks the online service twice.
    """

    def __init__(self, online, provider: str, db, fallback: Geocoder):
        super().__init__()
        self.online, self.provider, self.db, self.fallback = online, provider, db, fallback

    def geocode(self, query, *, exactly_one=True, timeout=None):
        """Cached answer, else the online service's, else the offline fallback's."""
        key = json.dumps(query, sort_keys=True) if isinstance(query, dict) else str(query)
        rows = list(
            self.db.query(
                "select * from geocode_cache where provider = ? and query = ?", [self.provider, key]
            )
        )
        if rows:
            row = rows[0]
            if row["latitude"] is None:
                return self.fallback.geocode(query)
            return Location(
                key,
                (row["latitude"], row["longitude"]),
                {"precision": row["precision"], "source": self.provider},
            )
        found = self.online(query)
        precision = _online_precision(found.raw) if found else None
        with self.db.atomic():
            self.db.table("geocode_cache").insert(
                {
                    "query": key,
                    "provider": self.provider,
                    "latitude": found.latitude if found else None,
                    "longitude": found.longitude if found else None,
                    "precision": precision,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                },
                replace=True,
            )
        if found is None:
            return self.fallback.geocode(query)
        return Location(
            found.address, found.point, {"precision": precision, "source": self.provider}
        )


def _online_precision(raw: dict) -> str:
    kind = (raw or {}).get("addresstype") or (raw or {}).get("type") or ""
    if kind in ("house", "building", "amenity", "place_of_worship"):
        return "rooftop"
    if kind in ("road", "street"):
        return "street"
    if kind == "postcode":
        return "zip"
    return "city" if kind in ("city", "town", "village", "suburb", "hamlet") else "street"


def build_geocoder(name: str, user_agent: str | None = None, db=None) -> Geocoder:
    """The configured geocoder: "offline" (default, no network) or "nominatim" (opt-in)."""
    offline = OfflineGeocoder()
    if name in ("", "offline", None):
        return offline
    if name != "nominatim":
        raise GeocodeError(f"unknown geocoder {name!r}; use 'offline' or 'nominatim'")
    if not user_agent:
        raise GeocodeError("FINDER_GEOCODER_USER_AGENT is required to use Nominatim")
    if db is None:
        raise GeocodeError("the Nominatim geocoder needs a database for its cache")
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    nominatim = Nominatim(user_agent=user_agent)
    limited = RateLimiter(
        lambda q: nominatim.geocode(
            {"country": "US", **q} if isinstance(q, dict) else q, addressdetails=False
        ),
        min_delay_seconds=1,
    )
    return CachedGeocoder(limited, "nominatim", db, offline)
