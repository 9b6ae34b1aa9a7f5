"""JSON API: the same search the site runs, as data, under /api/v1 (documented in openapi.py).

``/api/search`` (the first, unversioned endpoint) keeps answering for existing links.
Every v1 endpoint refuses parameters it does not read; GET answers carry CORS, Cache-Control,
an ETag and, except a search (whose answer moves with the clock), the data's build time as
Last-Modified.
"""

import hashlib
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.http import http_date

from finder.vocabulary import ATTENDANCE_NAMES, KINDS, PROGRAMS, types
from finder.web.answers import answer_request, place_of
from finder.web.i18n import LANGUAGES, gettext, translations, wording
from finder.web.kept import kept
from finder.web.listing import fetch_listing
from finder.web.params import NAMES, ParamError, check_names
from finder.web.state import get_db, get_memo, get_written

bp = Blueprint("api", __name__, url_prefix="/api")

SEARCH_MAX_AGE = 60  # "now" moves: a search answers one minute (answers.now)
DATA_MAX_AGE = 300
RESOURCE_FIELDS = (
    "id", "name", "kind", "program", "description", "attendance", "status", "timezone",
    "always_open", "by_appointment", "hours_text", "conference_url", "conference_url_notes",
    "conference_phone", "conference_phone_notes", "url", "languages", "updated", "last_verified",
    "location_name", "formatted_address", "address", "city", "state", "postal_code", "latitude",
    "longitude", "geocode_precision", "transportation", "accessibility_text",
    "organization_name", "source",
)  # fmt: skip
SOURCES_SQL = """
select s.id, s.name, s.short_name, s.format, s.url, s.program, s.attribution, s.license,
       s.as_of, s.last_imported, s.office_phone, count(r.id) as listings
from sources s left join resources r on r.source = s.id and r.status = 'active'
group by s.id order by s.name
"""


def build_time() -> datetime:
    """When the database being served was built (its file's modification time)."""
    return datetime.fromtimestamp(int(get_written()), UTC)


def _data_etag() -> str:
    """A validator from the build time and the exact request: known before any query runs."""
    key = f"{build_time().isoformat()}|{request.full_path}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


# Answers that move with the clock ("now"), not only with the data.
CLOCK_ENDPOINTS = (
    "api.search_v1",
    "api.search_endpoint",
    "export.search_geojson",
    "export.search_csv",
)


@bp.before_app_request
def refuse_unknown_and_answer_unchanged():
    """400 for parameters an endpoint does not read; 304 when the client's copy is current."""
    if not request.path.startswith("/api/v1/"):
        return None
    allowed = getattr(current_app.view_functions.get(request.endpoint), "parameters", ())
    if request.url_rule is not None:
        try:
            check_names(request.args, allowed)
            _check_language(request.args.getlist("lang"))
        except ParamError as error:
            abort(400, description=gettext(error.template, **error.values))
    if request.endpoint not in CLOCK_ENDPOINTS and _data_etag() in request.if_none_match:
        response = current_app.response_class(status=304)
        response.set_etag(_data_etag())
        return response
    return None


def _check_language(given: list[str]) -> None:
    """lang= picks the language of messages: once, and one we have (schemathesis found the API
    answering in English to lang=garbage)."""
    if len(given) > 1 or (given and given[0] not in LANGUAGES):
        raise ParamError("lang must be one of: %(allowed)s.", allowed=", ".join(LANGUAGES))


@bp.after_app_request
def cache_and_share(response):
    """CORS for GET only; Cache-Control, ETag and Last-Modified on successful GETs."""
    if not request.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
        return response
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept-Language")  # messages and summaries follow it without lang=
    if response.status_code not in (200, 304):
        response.headers["Cache-Control"] = "no-store"
        return response
    if request.endpoint in CLOCK_ENDPOINTS:
        response.headers["Cache-Control"] = f"public, max-age={_rest_of_the_minute()}"
        response.add_etag()  # of its bytes (a kept answer has it already: finder/web/kept.py)
        if request.if_none_match or request.if_modified_since:
            return response.make_conditional(request)
        return response
    response.headers["Cache-Control"] = f"public, max-age={DATA_MAX_AGE}"
    response.set_etag(_data_etag())
    response.headers["Last-Modified"] = http_date(build_time())
    return response


def _rest_of_the_minute() -> int:
    """Seconds until the minute a search answers is over (a whole minute for a frozen clock)."""
    if current_app.config.get("FROZEN_NOW"):
        return SEARCH_MAX_AGE
    return SEARCH_MAX_AGE - datetime.now(UTC).second


def _parameters(*names):
    def mark(view):
        view.parameters = names
        return view

    return mark


def search_answer(encoded: bool = False) -> dict:
    """The search as data (400 for a bad parameter), in the language asked for with lang=.

    :param encoded: each result already encoded as JSON (for the API's answer), not a dict
    """
    try:
        answer = answer_request(request.args, wording())
    except ParamError as error:
        abort(400, description=gettext(error.template, **error.values))
    results = answer.results
    listed = answer.sources()
    return {
        "ok": True,
        "hint": answer.hint,
        "summary": answer.summary,
        "coverage": answer.coverage and answer.coverage.as_data(),
        "place": place_of(answer.found),
        "radius_km": round(results.radius_km, 3),
        "widened_from_km": results.widened_from_km and round(results.widened_from_km, 3),
        "totals": results.totals,
        "groups": answer.encoded_groups() if encoded else answer.groups,
        "sources": [s for s in sources() if s["id"] in listed],
    }


@bp.get("/search")
def search_endpoint():
    """Support near a place and now: GET /api/search?q=19103&when=now&type=X (kept for links)."""
    return kept(lambda: jsonify(search_answer(encoded=True)))


@bp.get("/v1/search")
@_parameters(*NAMES)
def search_v1():
    """Support near a place and now, with exactly the site's parameters."""
    return kept(lambda: jsonify(search_answer(encoded=True)))


@bp.get("/v1/resources/<int:resource_id>")
@_parameters("lang")
def resource_v1(resource_id: int):
    """Everything known about one listing: times, contacts, types, areas and its source."""
    listing = fetch_listing(get_db(), resource_id)
    if listing is None:
        abort(404, description=gettext("There is no listing with that number."))
    item = {name: listing.get(name) for name in RESOURCE_FIELDS}
    item.update(
        always_open=bool(listing["always_open"]),
        by_appointment=bool(listing["by_appointment"]),
        schedules=[
            {k: s[k] for k in ("day", "time", "end_time", "duration_minutes")}
            for s in listing["schedules"]
        ],
        contacts=[{k: v for k, v in c.items() if v} for c in listing["contacts"]],
        types=[
            {"code": t["code"], "name": t.get("en"), "category": t["category"], "claim": t["claim"]}
            for t in listing["types"]
        ],
        service_areas=listing["service_areas"],
        attribution=_attribution(listing),
    )
    return jsonify({"ok": True, "resource": item})


def _attribution(listing: dict) -> dict:
    return {
        "source": listing["source"],
        "name": listing["source_name"],
        "attribution": listing["source_attribution"],
        "license": listing["source_license"],
        "url": listing["source_url"],
        "as_of": listing["source_as_of"],
    }


def sources() -> tuple[dict, ...]:
    """Every source with its licence, attribution, date and number of active listings.

    Counted once per database generation: counting every active listing took most of an API
    search's time."""
    memo = get_memo("sources", 1)
    return memo.get("all") or memo.put("all", tuple(get_db().query(SOURCES_SQL)))


@bp.get("/v1/sources")
@_parameters()
def sources_v1():
    """Where the listings come from, each with its licence (which travels with the data)."""
    return jsonify({"ok": True, "sources": sources()})


@bp.get("/v1/programs")
@_parameters()
def programs_v1():
    """Values of program=, with their English and Spanish names."""
    return jsonify({"ok": True, "programs": _named(PROGRAMS)})


@bp.get("/v1/kinds")
@_parameters()
def kinds_v1():
    """Values of kind=, with their English and Spanish names."""
    return jsonify({"ok": True, "kinds": _named(KINDS)})


@bp.get("/v1/attendance")
@_parameters()
def attendance_v1():
    """Values of attendance= (and "inactive", which listings may carry)."""
    return jsonify({"ok": True, "attendance": _named(ATTENDANCE_NAMES)})


@bp.get("/v1/types")
@_parameters()
def types_v1():
    """Values of type= and not=: meeting types and venue features, with EN/ES names."""
    return jsonify({"ok": True, "types": _types()})


@bp.get("/v1/accessibility")
@_parameters()
def accessibility_v1():
    """The accessibility features among the types (wheelchair access, ASL, hearing loop...)."""
    features = [t for t in _types() if t["category"] == "accessibility"]
    return jsonify({"ok": True, "types": features})


def _types() -> list[dict]:
    return [{"code": code, **entry} for code, entry in types().items()]


def _named(names: dict[str, str]) -> list[dict]:
    """code, English and Spanish name for each entry of a vocabulary."""
    spanish = translations("es").gettext
    return [{"code": code, "en": en, "es": spanish(en)} for code, en in names.items()]
