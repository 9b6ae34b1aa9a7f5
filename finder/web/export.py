"""Open data out (issue #12): the aggregated meetings as a Meeting Guide JSON feed, and any
search as GeoJSON or CSV. Each source's licence and attribution travel with every export."""

import csv
import io
import json
from itertools import groupby

from flask import Blueprint, Response, abort, jsonify, request

from finder.web.api import search_answer, sources
from finder.web.i18n import gettext
from finder.web.params import NAMES
from finder.web.state import get_db

bp = Blueprint("export", __name__, url_prefix="/api/v1")

MEETINGS_SQL = """
select r.id, r.source, r.source_id, r.name, r.description, r.attendance, r.timezone,
       r.conference_url, r.conference_url_notes, r.conference_phone, r.conference_phone_notes,
       r.url, r.updated, r.regions, l.name as location, l.formatted_address, l.address, l.city,
       l.state, l.postal_code, l.country, l.latitude, l.longitude, l.geocode_precision,
       l.notes as location_notes, o.name as group_name
from resources r
left join locations l on l.id = r.location_id
left join organizations o on o.id = r.organization_id
where r.kind = 'meeting' and r.status = 'active' and (:source is null or r.source = :source)
  and (:region is null or exists (
    select 1 from json_each(r.regions) where lower(json_each.value) = lower(:region)))
order by r.source, r.source_id
"""
# Meeting Guide fields stored under the same name.
SAME_NAME = (
    "conference_url", "conference_url_notes", "conference_phone", "conference_phone_notes",
    "location", "location_notes", "formatted_address", "address", "city", "state", "postal_code",
    "country", "url",
)  # fmt: skip
CSV_COLUMNS = (
    "id", "name", "kind", "program", "attendance", "start", "end", "timezone",
    "address", "latitude", "longitude", "distance_mi", "join_url", "join_phone", "phone", "url",
    "types", "updated", "source", "source_name", "license", "attribution",
)  # fmt: skip


def meeting_rows(source: str | None, region: str | None = None) -> list[dict]:
    """Every active meeting (of one source or all; of one region or all) as Meeting Guide rows,
    one per start time."""
    db = get_db()
    meetings = list(db.query(MEETINGS_SQL, {"source": source, "region": region}))
    ids = [m["id"] for m in meetings]
    schedules = _by_resource(db, "select resource_id, day, time, end_time from schedules", ids)
    codes = _by_resource(db, "select resource_id, code from resource_types", ids)
    rows = []
    for meeting in meetings:
        times = schedules.get(meeting["id"], [])
        types = sorted(c["code"] for c in codes.get(meeting["id"], []))
        key = lambda s: (s["time"], s["end_time"])  # noqa: E731
        grouped = [(k, [s["day"] for s in g]) for k, g in groupby(sorted(times, key=key), key)]
        for n, ((time, end), days) in enumerate(grouped or [(None, [])]):
            rows.append(_meeting_row(meeting, types, time, end, days, n))
    return rows


def _by_resource(db, sql: str, ids: list[int]) -> dict[int, list[dict]]:
    wanted, found = set(ids), {}
    for row in db.query(sql + " order by resource_id"):
        if row["resource_id"] in wanted:
            found.setdefault(row["resource_id"], []).append(row)
    return found


def _meeting_row(m: dict, types: list, time, end, days: list, n: int) -> dict:
    """One Meeting Guide row: the spec's fields, plus the source it comes from."""
    row = {
        "slug": f"{m['source']}-{m['source_id']}" + (f"-{n + 1}" if n else ""),
        "name": m["name"],
        "day": sorted(days) if len(days) > 1 else (days[0] if days else None),
        "time": time,
        "end_time": end,
        "timezone": m["timezone"],
        "types": types,
        "attendance_option": m["attendance"],
        "notes": m["description"],
        "group": m["group_name"],
        "regions": json.loads(m["regions"] or "[]"),
        "latitude": m["latitude"],
        "longitude": m["longitude"],
        "approximate": None if m["geocode_precision"] is None else _yes(m["geocode_precision"]),
        "updated": m["updated"],
        "source": m["source"],
    }
    row.update((name, m[name]) for name in SAME_NAME)
    return {k: v for k, v in row.items() if k == "types" or v not in (None, "", [])}


def _yes(precision: str) -> str:
    return "no" if precision == "rooftop" else "yes"


@bp.get("/meetings.json")
def meetings_feed():
    """The meetings as a Meeting Guide feed: a JSON array of meetings, as the spec has it, each
    row naming its source, that source's licence and its attribution (the spec's consumers
    ignore fields they do not know): GET /api/v1/meetings.json?source=aasepia&region=Media."""
    source = request.args.get("source") or None
    known = {s["id"]: s for s in sources()}
    if source is not None and source not in known:
        abort(
            400,
            description=gettext(
                "Unknown source: %(source)s. See /api/v1/sources.", source=source[:40]
            ),
        )
    region = request.args.get("region") or None
    rows = meeting_rows(source, region)
    if region is not None and not rows:
        abort(
            400,
            description=gettext(
                "No meeting lists the region %(region)s. Regions are the sources' own names: "
                "see the regions of each meeting in /api/v1/meetings.json.",
                region=region[:60],
            ),
        )
    for row in rows:
        row.update(_credit(known[row["source"]]))
    return jsonify(rows)


def _credit(source: dict) -> dict:
    """Who publishes a meeting and under what licence, carried on each row of the feed."""
    credit = {"license": source["license"], "attribution": source["attribution"]}
    return {name: value for name, value in credit.items() if value}


meetings_feed.parameters = ("source", "region")


def _flat_items(answer: dict) -> list[dict]:
    """The search's listings once each, in the order shown."""
    seen, items = set(), []
    for group in answer["groups"].values():
        for item in group:
            if item["id"] not in seen:
                seen.add(item["id"])
                items.append(item)
    return items


@bp.get("/search.geojson")
def search_geojson():
    """The search as a GeoJSON FeatureCollection (online listings have no geometry)."""
    answer = search_answer()
    licences = {s["id"]: s for s in answer["sources"]}
    features = [
        {
            "type": "Feature",
            "id": item["id"],
            "geometry": None
            if item["latitude"] is None or item["attendance"] == "online"
            else {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]},
            "properties": {
                **{k: v for k, v in item.items() if k not in ("latitude", "longitude")},
                "license": licences[item["source"]]["license"],
                "attribution": licences[item["source"]]["attribution"],
            },
        }
        for item in _flat_items(answer)
    ]
    body = {
        "type": "FeatureCollection",
        "summary": answer["summary"],
        "sources": answer["sources"],
        "features": features,
    }
    return Response(json.dumps(body), mimetype="application/geo+json")


@bp.get("/search.csv")
def search_csv():
    """The search as CSV, one listing a row, each with its source's licence and attribution."""
    answer = search_answer()
    licences = {s["id"]: s for s in answer["sources"]}
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for item in _flat_items(answer):
        source = licences[item["source"]]
        phone = next((c["value"] for c in item["contacts"] if c.get("kind") == "voice"), None)
        writer.writerow(
            {
                **item,
                "types": " ".join(t["code"] for t in item["types"]),
                "phone": phone,
                "license": source["license"],
                "attribution": source["attribution"] or source["name"],
                "source_name": source["name"],
            }
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="search.csv"'},
    )


search_geojson.parameters = search_csv.parameters = NAMES
