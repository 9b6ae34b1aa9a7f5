"""JSON API under /api: the same search the site runs, as data."""

import json
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request

from .db import get_db, get_index
from .describe import describe
from .geocoders import build_geocoder
from .params import ParamError, parse_search
from .query import GROUPS, KM_PER_MILE, Hit
from .search import search

bp = Blueprint("api", __name__, url_prefix="/api")

DETAIL_SQL = """
select r.id, r.name, r.kind, r.program, r.attendance, r.timezone, r.conference_url,
       r.conference_phone, r.url, r.always_open, r.languages, r.updated, r.last_verified,
       r.source, l.name as location_name, l.formatted_address, l.address, l.city, l.state,
       l.postal_code, l.latitude, l.longitude, l.geocode_precision
from resources r left join locations l on l.id = r.location_id
where r.id in ({marks})
"""


@bp.get("/search")
def search_endpoint():
    """Support near a place and now: GET /api/search?q=19103&when=now&type=X."""
    now = _now()
    try:
        found = parse_search(request.args, _geocoder(), now)
    except ParamError as error:
        return jsonify({"ok": False, "error": str(error)}), 400
    results = search(get_index(), found.query)
    details = _details([h.resource_id for g in GROUPS for h in results.groups[g]])
    hint = None
    if not any(results.totals.values()) and found.query.when != "any":
        hint = "Nothing matches at this time. Places without set hours appear with when=any."
    return jsonify(
        {
            "ok": True,
            "hint": hint,
            "summary": describe(
                found.query, results.radius_km, results.widened_from_km, found.zone
            ),
            "place": _place(found),
            "radius_km": round(results.radius_km, 3),
            "widened_from_km": results.widened_from_km and round(results.widened_from_km, 3),
            "totals": results.totals,
            "groups": {
                g: [_hit(h, details[h.resource_id]) for h in results.groups[g]] for g in GROUPS
            },
        }
    )


def _now() -> datetime:
    """The current instant, or FROZEN_NOW (checked by create_app) for tests and demos."""
    frozen = current_app.config.get("FROZEN_NOW")
    return datetime.fromisoformat(frozen) if frozen else datetime.now(UTC)


def _geocoder():
    config = current_app.config
    return build_geocoder(config["GEOCODER"], config["GEOCODER_USER_AGENT"], get_db())


def _details(ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    db = get_db()
    rows = {
        row["id"]: {**row, "contacts": []} for row in db.query(DETAIL_SQL.format(marks=marks), ids)
    }
    contacts = db.query(
        f"select resource_id, kind, value, extension, description from contacts "
        f"where resource_id in ({marks}) order by id",
        ids,
    )
    for contact in contacts:
        rows[contact.pop("resource_id")]["contacts"].append({k: v for k, v in contact.items() if v})
    return rows


def _place(found) -> dict | None:
    if found.place is None:
        return None
    place = found.place
    return {
        "label": place.label,
        "approximate": place.approximate,
        "precision": place.precision,
        "latitude": round(place.latitude, 4),
        "longitude": round(place.longitude, 4),
        "timezone": found.zone,
    }


def _hit(hit: Hit, row: dict) -> dict:
    item = {
        "id": hit.resource_id,
        "name": row["name"],
        "kind": row["kind"],
        "program": row["program"],
        "attendance": row["attendance"],
        "why": hit.why,
        "distance_km": None if hit.distance_km is None else round(hit.distance_km, 2),
        "distance_mi": None if hit.distance_km is None else round(hit.distance_km / KM_PER_MILE, 2),
        "address": row["formatted_address"] or _address(row),
        "approximate_location": row["geocode_precision"] not in (None, "rooftop"),
        "join_url": row["conference_url"] or None,
        "join_phone": row["conference_phone"] or None,
        "contacts": row["contacts"],
        "url": row["url"] or None,
        "languages": json.loads(row["languages"] or "[]"),
        "updated": row["updated"],
        "last_verified": row["last_verified"],
        "source": row["source"],
    }
    if hit.times:
        start, end = hit.times
        item.update(
            start=start.isoformat(),
            end=end.isoformat(),
            zone=start.tzname(),
            timezone=hit.zone,
            minutes_until_start=round(hit.minutes_until_start, 1),
            minutes_until_end=round(hit.minutes_until_end, 1),
            joinable=hit.joinable,
        )
    return item


def _address(row: dict) -> str | None:
    parts = [
        row["address"],
        row["city"],
        " ".join(p for p in (row["state"], row["postal_code"]) if p),
    ]
    text = ", ".join(p for p in parts if p)
    return text or None


def json_errors(error):
    """Errors under /api are JSON: {"ok": false, "error": ...}; elsewhere Flask's own pages."""
    if not request.path.startswith("/api/"):
        return error
    return jsonify({"ok": False, "error": error.description}), error.code
