"""Running a search for a request: parameters in, results with their listings' details out.

The JSON API and the HTML pages both call ``answer_request`` and render the same items.
"""

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

import orjson
from flask import current_app, g

from finder.geo.offline import OfflineGeocoder
from finder.search.coverage import CoverageNote, coverage_note
from finder.search.describe import ENGLISH, Wording, describe
from finder.search.engine import any_placed_within, search
from finder.search.query import GROUPS, KM_PER_MILE, Hit, Results, joinable, local_times
from finder.search.reach import by_arrival, reach
from finder.vocabulary import types
from finder.web.json_out import OPTIONS
from finder.web.listing import age, dated_by
from finder.web.params import Search, parse_search
from finder.web.state import get_coverage, get_db, get_index, get_memo

DETAIL_SQL = """
select r.id, r.name, r.kind, r.program, r.attendance, r.timezone, r.conference_url,
       r.conference_phone, r.url, r.always_open, r.by_appointment, r.hours_text, r.languages,
       r.updated, r.last_verified, r.source, coalesce(s.short_name, s.name) as source_name,
       s.as_of as source_as_of,
       l.name as location_name, l.formatted_address, l.address, l.city, l.state,
       l.postal_code, l.latitude, l.longitude, l.geocode_precision,
       exists(select 1 from schedules where resource_id = r.id) as has_schedule
from resources r left join locations l on l.id = r.location_id
left join sources s on s.id = r.source
where r.id in ({marks})
"""


@dataclass
class Answer:
    """A search, its results and the listings to show, by group.

    Each group's results are in the order shown, with their "reach" where it was worked out
    (order=soonest); ``groups`` gives them as items (dicts) and ``encoded_groups`` as JSON.
    """

    found: Search
    results: Results
    summary: str
    hint: str | None
    hits: dict[str, list[Hit]]
    reaches: dict[str, list[dict | None]]
    details: dict[int, "_Listing"]
    coverage: CoverageNote | None = None

    @cached_property
    def groups(self) -> dict[str, list[dict]]:
        """Each group's results as items: the listing's fields with this search's own."""
        return self._each(_item)

    def encoded_groups(self) -> dict[str, list[orjson.Fragment]]:
        """The same items, each encoded as JSON: the listing's part is encoded once per
        generation and only this search's fields are encoded anew (the same bytes as encoding
        ``groups``, at a fraction of the cost: an API answer has up to a few hundred)."""
        return self._each(_encoded_item)

    def _each(self, make) -> dict[str, list]:
        """``make(hit, listing, now, reach)`` for each result, by group."""
        at = self.found.query.now
        return {
            group: [
                make(hit, self.details[hit.resource_id], at, reach)
                for hit, reach in zip(hits, self.reaches[group], strict=True)
            ]
            for group, hits in self.hits.items()
        }

    def sources(self) -> set[str]:
        """The sources of the listings shown."""
        hits = (hit for group in GROUPS for hit in self.hits[group])
        return {self.details[hit.resource_id].tail["source"] for hit in hits}


def answer_request(args, words: Wording = ENGLISH) -> Answer:
    """Parse, search and fetch details; raises params.ParamError for bad parameters.

    :param words: the language of the summary (the site passes the reader's)
    """
    # Searched places are always resolved offline: sending them to an online geocoder would be
    # a third-party request, and its cache would write what people search into the database.
    found = parse_search(args, _geocoder(), now())
    note = _coverage_note(found.query)
    if note and note.outside:
        # No local lists here: widening would only reach another region's meetings.
        found = replace(found, query=replace(found.query, widen=False))
    results = search(get_index(), found.query)
    details = _details([h.resource_id for g in GROUPS for h in results.groups[g]])
    if note and not note.outside and not _meetings_within(found.query, results, details):
        # The state has lists, but not around here (they come from another part of it).
        note = note.none_near()
    hint = None
    if not any(results.totals.values()) and found.query.when != "any":
        hint = "Nothing matches at this time. Places without set hours appear with when=any."
    summary = describe(
        _as_placed(found, words), results.radius_km, results.widened_from_km, found.zone, words
    )
    hits = dict(results.groups)
    reaches = {g: [None] * len(hits[g]) for g in GROUPS}
    if found.query.order == "soonest":
        for group in ("in_progress", "starting_soon"):
            hits[group], reaches[group] = _by_arrival(hits[group], details)
    return Answer(found, results, summary, hint, hits, reaches, details, note)


def _as_placed(found: Search, words: Wording):
    """The query as the summary names its place: a typed street address is said to be placed
    near the centre of its ZIP or town, the best the offline gazetteers can do (issue #11)."""
    place = found.place
    if place is None or not place.street:
        return found.query
    _ = words.gettext
    if match := re.fullmatch(r"ZIP (\d{5})", place.label):
        near = _("your address (near the centre of ZIP %(code)s)", code=match.group(1))
    else:
        near = _("your address (near the centre of %(place)s)", place=place.label)
    return replace(found.query, place=near)


def _by_arrival(hits: list[Hit], details: dict[int, "_Listing"]) -> tuple[list, list]:
    """Meetings you could get to first, by when you could be there, then distance; those over
    before you could arrive last. Each timed hit with a distance gets its "reach"
    (finder/search/reach.py; a hybrid meeting can still be joined online, so is never late),
    worked out from the distance and minutes its item shows.

    :returns: the hits in that order, and their reaches (None: no trip to make)
    """
    entries, reaches = [], []
    for hit in hits:
        found, far = None, _km(hit.distance_km)
        if far is not None and _is_timed(hit):
            timed = _timed_of(hit).fields
            found = reach(far, timed["minutes_until_start"], timed["minutes_until_end"])
            if details[hit.resource_id].head["attendance"] != "in_person":
                found = found._replace(in_time=True)
        entries.append((found, far))
        reaches.append(_reach_fields(found) if found is not None else None)
    order = by_arrival(entries)
    return [hits[n] for n in order], [reaches[n] for n in order]


def _reach_fields(found) -> dict:
    return {
        "travel_minutes": round(found.travel_minutes),
        "arrive_minutes": round(found.arrive_minutes, 1),
        "in_time": found.in_time,
    }


def _coverage_note(query) -> CoverageNote | None:
    """Where meetings are wanted in person around a point: which local lists we have there."""
    if not (query.has_point and query.in_person and "meeting" in query.kinds):
        return None
    return coverage_note(get_coverage(), query.latitude, query.longitude, query.programs)


def _meetings_within(query, results: Results, details: dict[int, "_Listing"]) -> bool:
    """Whether any in-person meeting of the programs asked for, at any time, is listed within
    the radius searched (whatever the other filters): one among the results answers it."""
    radius_km = results.radius_km
    for hit in (h for group in GROUPS for h in results.groups[group]):
        head = details[hit.resource_id].head
        if (
            head["kind"] == "meeting"
            and head["attendance"] in ("in_person", "hybrid")
            and hit.distance_km is not None
            and hit.distance_km <= radius_km
        ):
            return True
    probe = replace(
        query,
        kinds=frozenset({"meeting"}),
        attendance=frozenset({"in_person", "hybrid"}),
        include_types=frozenset(),
        exclude_types=frozenset(),
    )
    return any_placed_within(get_index(), probe, radius_km)


@cache
def _geocoder() -> OfflineGeocoder:
    """One offline geocoder for all requests: it only reads its gazetteers."""
    return OfflineGeocoder()


def now() -> datetime:
    """The current minute (the same all through a request), or FROZEN_NOW (checked by create_app)
    for tests and demos.

    Whole minutes: pages say "starts in 15 min", and meetings start on the minute, so seconds
    change nothing a reader sees; they would only make each answer unique (finder/web/kept.py
    keeps an answer for its minute)."""
    here = g._get_current_object()
    if "now" not in here:
        frozen = current_app.config.get("FROZEN_NOW")
        moment = datetime.now(UTC).replace(second=0, microsecond=0)
        here.now = datetime.fromisoformat(frozen) if frozen else moment
    return here.now


@dataclass(frozen=True)
class _Listing:
    """A listing's fixed part: its item fields before and after the search's own ones, and what
    its age is counted from."""

    head: dict
    tail: dict
    dated: tuple | None

    @cached_property
    def encoded(self) -> tuple[bytes, bytes]:
        """The head as JSON up to its last field and a comma, the tail as JSON between commas:
        an encoded item's parts before and after the search's own fields."""
        head = orjson.dumps(self.head, option=OPTIONS)
        tail = orjson.dumps(self.tail, option=OPTIONS)
        return head[:-1] + b",", b"," + tail[1:-1] + b","


def _details(ids: list[int]) -> dict[int, _Listing]:
    """Each listing's fixed part (all but distance, times and age), read once per generation."""
    return get_memo("listing").each(ids, _read_details)


def _read_details(ids: list[int]) -> dict[int, _Listing]:
    marks = ", ".join("?" * len(ids))
    db = get_db()
    rows = {
        row["id"]: {**row, "contacts": [], "types": []}
        for row in db.query(DETAIL_SQL.format(marks=marks), ids)
    }
    contacts = db.query(
        f"select resource_id, kind, value, extension, description from contacts "
        f"where resource_id in ({marks}) order by id",
        ids,
    )
    for contact in contacts:
        rows[contact.pop("resource_id")]["contacts"].append({k: v for k, v in contact.items() if v})
    vocab = types()
    claims = db.query(
        f"select resource_id, code, claim from resource_types where resource_id in ({marks})", ids
    )
    for claim in claims:
        known = vocab.get(claim["code"], {})
        rows[claim["resource_id"]]["types"].append(
            {
                "code": claim["code"],
                "name": known.get("en", claim["code"]),
                "category": known.get("category"),
                "claim": claim["claim"],
            }
        )
    return {listing_id: _listing_item(row) for listing_id, row in rows.items()}


def place_of(found) -> dict | None:
    """The searched place as data (no more precise than 4 decimals)."""
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


def _listing_item(row: dict) -> _Listing:
    head = {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "program": row["program"],
        "attendance": row["attendance"],
    }
    tail = {
        "address": row["formatted_address"] or _address(row),
        "approximate_location": row["geocode_precision"] not in (None, "rooftop"),
        "latitude": _rounded(row["latitude"]),
        "longitude": _rounded(row["longitude"]),
        "join_url": row["conference_url"] or None,
        "join_phone": row["conference_phone"] or None,
        "contacts": row["contacts"],
        "types": row["types"],
        "url": row["url"] or None,
        "languages": json.loads(row["languages"] or "[]"),
        "updated": row["updated"],
        "last_verified": row["last_verified"],
        "source": row["source"],
        "source_name": row["source_name"],
        "hours": hours_of(row),
    }
    return _Listing(head, tail, dated_by(row["updated"], row["last_verified"], row["source_as_of"]))


def _item(hit: Hit, listing: _Listing, at: datetime, reach: dict | None) -> dict:
    """One result: the listing's fixed part (shared, never changed) with this search's own."""
    item = {**listing.head, **_own(hit), **listing.tail, "listed": age(listing.dated, at)}
    if _is_timed(hit):
        item.update(_timed_of(hit).fields)
    if reach is not None:
        item["reach"] = reach
    return item


def _encoded_item(hit: Hit, listing: _Listing, at: datetime, reach: dict | None):
    """``_item`` encoded as JSON: the listing's encoded parts around this search's fields."""
    head, tail = listing.encoded
    parts = [head, orjson.dumps(_own(hit), option=OPTIONS)[1:-1], tail, b'"listed":']
    parts.append(orjson.dumps(age(listing.dated, at), option=OPTIONS))
    if _is_timed(hit):
        parts.append(_timed_of(hit).encoded)
    if reach is not None:
        parts += (b',"reach":', orjson.dumps(reach, option=OPTIONS))
    parts.append(b"}")
    return orjson.Fragment(b"".join(parts))


def _own(hit: Hit) -> dict:
    far = hit.distance_km
    return {
        "why": hit.why,
        "distance_km": _km(far),
        "distance_mi": None if far is None else round(far / KM_PER_MILE, 2),
    }


def _km(distance_km: float | None) -> float | None:
    return None if distance_km is None else round(distance_km, 2)


def _is_timed(hit: Hit) -> bool:
    return hit.start_minute is not None and bool(hit.zone)


class _Timed(NamedTuple):
    """A result's time fields, as a dict (shared: callers copy it into their items) and encoded
    as JSON after a comma (for an encoded item)."""

    fields: dict
    encoded: bytes


def _timed_of(hit: Hit) -> _Timed:
    query = hit.query
    return _timed(
        query.window[0], hit.minutes_until_start, hit.duration, hit.zone, query.grace_minutes
    )


@lru_cache(maxsize=8192)  # the same meeting found by searches in the same minute nearby
def _timed(start: datetime, minutes_after: float, duration: int, zone: str, grace: int) -> _Timed:
    """A result's time fields: its occurrence found ``minutes_after`` the window's ``start``."""
    begins, ends = local_times(start, minutes_after, duration, zone)
    fields = {
        "start": begins.isoformat(),
        "end": ends.isoformat(),
        "zone": begins.tzname(),
        "timezone": zone,
        "minutes_until_start": round(minutes_after, 1),
        "minutes_until_end": round(minutes_after + duration, 1),
        "joinable": joinable(minutes_after, grace),
    }
    return _Timed(fields, b"," + orjson.dumps(fields, option=OPTIONS)[1:-1])


def hours_of(row: dict) -> dict:
    """What the source says about opening hours: 24/7 only when it says so (issue #9).

    "status" is always_open, by_appointment, weekly (set times), text (hours as the source wrote
    them, not readable as times) or unknown (nothing published: call first).
    """
    if row["always_open"]:
        status = "always_open"
    elif row["by_appointment"]:
        status = "by_appointment"
    elif row["has_schedule"]:
        status = "weekly"
    elif row["hours_text"]:
        status = "text"
    else:
        status = "unknown"
    return {"status": status, "text": row["hours_text"] or None}


def _rounded(degrees: float | None) -> float | None:
    return None if degrees is None else round(degrees, 5)


def _address(row: dict) -> str | None:
    parts = [
        row["address"],
        row["city"],
        " ".join(p for p in (row["state"], row["postal_code"]) if p),
    ]
    text = ", ".join(p for p in parts if p)
    return text or None
