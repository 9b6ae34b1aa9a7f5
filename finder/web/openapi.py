"""The API's OpenAPI 3.1 document, and the human-readable page made from it.

Tests check real responses against these schemas and run schemathesis over the document
(tests/test_openapi.py): when an endpoint changes, this file changes with it.
"""

from flask import Blueprint, jsonify, render_template

from finder.search.query import GROUPS
from finder.vocabulary import ATTENDANCE, KINDS, PROGRAMS, types
from finder.web.params import MAX_LIMIT, WHEN

bp = Blueprint("openapi", __name__)

_S = {"type": "string"}
_S_NULL = {"type": ["string", "null"]}
_N_NULL = {"type": ["number", "null"]}
_CODES = {"type": "array", "items": _S}


def _param(name: str, description: str, schema: dict | None = None, many=False) -> dict:
    schema = schema or _S
    if "enum" in schema:  # an empty field of the site's GET form means the default
        schema = {**schema, "enum": [*schema["enum"], ""]}
    if many:
        schema = {"type": "array", "items": schema}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **({"style": "form", "explode": True} if many else {}),
    }


SEARCH_PARAMETERS = [
    _param(
        "q",
        "A ZIP code, city, address or 'lat, lon' to search around.",
        {"type": "string", "maxLength": 200},
    ),
    _param("lat", "Latitude of the point to search around (with lon).", {"type": "string"}),
    _param("lon", "Longitude of the point to search around (with lat).", {"type": "string"}),
    _param("tz", "The searcher's IANA time zone (for when=today/at without a place)."),
    _param("radius", "How far to look, in unit (default 10 mi / 16 km)."),
    _param("unit", "Distance unit.", {"enum": ["mi", "km"]}),
    _param("hours", "How far ahead 'starting soon' looks, 0.25 to 24 (default 2)."),
    _param("kind", "Kinds of listing (default: all but treatment).", {"enum": list(KINDS)}, True),
    _param("attendance", "In person, online or hybrid.", {"enum": list(ATTENDANCE[:3])}, True),
    _param("program", "Programs or fellowships.", {"enum": list(PROGRAMS)}, True),
    _param("type", "Types every result must have.", {"enum": sorted(types())}, True),
    _param("not", "Types no result may have.", {"enum": sorted(types())}, True),
    _param("order", "Sort order.", {"enum": ["soonest", "nearest"]}),
    _param(
        "limit",
        f"Results per group, 1 to {MAX_LIMIT} (default 25; {MAX_LIMIT} with when=week).",
        {"type": "string"},
    ),
    _param("widen", "Widen the radius when nothing is near.", {"enum": ["yes", "no"]}),
    _param(
        "when",
        "now (default), today, at (with day and time), week or any. week needs a place: the "
        "listings with weekly times near it, in person and hybrid (attendance=online alone is "
        "a 400), each by its next start, nearest first, up to limit (default 100) per group.",
        {"enum": list(WHEN)},
    ),
    _param("day", "With when=at: a day of the week, like tuesday."),
    _param("time", "With when=at: a local time HH:MM, like 19:00."),
    _param("lang", "Language of the summary.", {"enum": ["en", "es"]}),
]


def _object(required: str, **properties) -> dict:
    """A JSON object schema: the required names (space-separated) and each property's schema."""
    return {"type": "object", "required": required.split(), "properties": properties}


NAMED = _object("code en es", code=_S, en=_S, es=_S, category=_S)
SOURCE = _object(
    "id name license attribution listings",
    id=_S, name=_S, short_name=_S_NULL, format=_S_NULL, url=_S_NULL, program=_S_NULL,
    attribution=_S_NULL, license=_S_NULL, as_of=_S_NULL, last_imported=_S_NULL,
    office_phone=_S_NULL,
    listings={"type": "integer"},
)  # fmt: skip
TYPE_CLAIM = _object("code name category", code=_S, name=_S_NULL, category=_S_NULL, claim=_S_NULL)
HIT = {
    "type": "object",
    "required": ["id", "name", "kind", "attendance", "types", "contacts", "hours", "source"],
    "properties": {
        "id": {"type": "integer"}, "name": _S, "kind": {"enum": list(KINDS)},
        "program": _S_NULL, "attendance": {"enum": list(ATTENDANCE)}, "why": {"type": "object"},
        "distance_km": _N_NULL, "distance_mi": _N_NULL, "address": _S_NULL,
        "approximate_location": {"type": "boolean"}, "latitude": _N_NULL, "longitude": _N_NULL,
        "join_url": _S_NULL, "join_phone": _S_NULL, "url": _S_NULL,
        "contacts": {"type": "array", "items": {"type": "object"}},
        "types": {"type": "array", "items": {"$ref": "#/components/schemas/TypeClaim"}},
        "languages": _CODES, "updated": _S_NULL, "last_verified": _S_NULL, "source": _S,
        "source_name": _S_NULL, "listed": {"type": ["object", "null"]},
        "hours": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"enum": ["always_open", "by_appointment", "weekly", "text", "unknown"]},
                "text": _S_NULL,
            },
        },
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "zone": _S, "timezone": _S, "minutes_until_start": {"type": "number"},
        "minutes_until_end": {"type": "number"}, "joinable": {"type": "boolean"},
    },
}  # fmt: skip
SEARCH = {
    "type": "object",
    "required": ["ok", "summary", "place", "radius_km", "totals", "groups", "sources"],
    "properties": {
        "ok": {"const": True},
        "hint": _S_NULL,
        "summary": _S,
        "coverage": {"type": ["object", "null"]},
        "place": {"type": ["object", "null"]},
        "radius_km": {"type": "number"},
        "widened_from_km": _N_NULL,
        "totals": {
            "type": "object",
            "required": list(GROUPS),
            "additionalProperties": {"type": "integer"},
        },
        "groups": {
            "type": "object",
            "required": list(GROUPS),
            "additionalProperties": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Hit"},
            },
        },
        "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
    },
}
RESOURCE = {
    "type": "object",
    "required": ["id", "name", "kind", "schedules", "contacts", "types", "attribution"],
    "properties": {
        "id": {"type": "integer"}, "name": _S, "kind": _S, "program": _S_NULL,
        "attendance": _S_NULL, "status": _S, "timezone": _S_NULL,
        "always_open": {"type": "boolean"}, "by_appointment": {"type": "boolean"},
        "latitude": _N_NULL, "longitude": _N_NULL, "languages": _CODES,
        "schedules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["day", "time"],
                "properties": {
                    "day": {"type": "integer", "minimum": 0, "maximum": 6}, "time": _S,
                    "end_time": _S_NULL, "duration_minutes": {"type": ["integer", "null"]},
                },
            },
        },
        "contacts": {"type": "array", "items": {"type": "object"}},
        "types": {"type": "array", "items": {"$ref": "#/components/schemas/TypeClaim"}},
        "service_areas": {"type": "array", "items": {"type": "object"}},
        "attribution": {"type": "object", "required": ["source", "license"]},
    },
}  # fmt: skip
ERROR = _object("ok error", ok={"const": False}, error=_S)


def _ok(key: str, schema: dict, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["ok", key],
                    "properties": {"ok": {"const": True}, key: schema},
                }
            }
        },
    }


def _errors(*codes: int) -> dict:
    texts = {400: "A parameter cannot be used; the message names it.", 404: "No such listing."}
    return {
        str(code): {
            "description": texts[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


def _list_of(ref: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}


def _vocabulary(path: str, key: str, summary: str, ref: str = "Named") -> tuple[str, dict]:
    operation = {
        "summary": summary,
        "operationId": key + "_" + path.rsplit("/", 1)[-1],
        "responses": {"200": _ok(key, _list_of(ref), summary), **_errors(400)},
    }
    return path, {"get": operation}


def document() -> dict:
    """The OpenAPI 3.1 description of /api/v1."""
    lang = [_param("lang", "Language of messages.", {"enum": ["en", "es"]})]
    paths = {
        "/api/v1/search": {
            "get": {
                "summary": "Support near a place and now, grouped (in progress first).",
                "operationId": "search",
                "parameters": SEARCH_PARAMETERS,
                "responses": {
                    "200": {
                        "description": "Results by group, with the sources they come from.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Search"}}
                        },
                    },
                    **_errors(400),
                },
            }
        },
        "/api/v1/resources/{resource_id}": {
            "get": {
                "summary": "Everything known about one listing.",
                "operationId": "resource",
                "parameters": [
                    {
                        "name": "resource_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**53},
                    },
                    *lang,
                ],  # fmt: skip
                "responses": {
                    "200": _ok("resource", {"$ref": "#/components/schemas/Resource"}, "A listing"),
                    **_errors(400, 404),
                },
            }
        },
        "/api/v1/sources": {
            "get": {
                "summary": "Where the listings come from, with licence and attribution.",
                "operationId": "sources",
                "responses": {"200": _ok("sources", _list_of("Source"), "Sources"), **_errors(400)},
            }
        },
    }
    paths.update(_exports())
    paths.update(
        dict(
            [
                _vocabulary("/api/v1/programs", "programs", "Values of program=."),
                _vocabulary("/api/v1/kinds", "kinds", "Values of kind=."),
                _vocabulary("/api/v1/attendance", "attendance", "Values of attendance=."),
                _vocabulary("/api/v1/types", "types", "Values of type= and not=."),
                _vocabulary("/api/v1/accessibility", "types", "Accessibility features."),
            ]
        )
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Recovery Support Finder API",
            "version": "1.0.0",
            "description": (
                "Recovery peer support near a place and now: meetings, centers, lines and online "
                "spaces from published feeds. Free to use; each source's licence and attribution "
                "travel with the data (see /api/v1/sources). No key, no tracking."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Search": SEARCH, "Hit": HIT, "Resource": RESOURCE, "Source": SOURCE,
                "TypeClaim": TYPE_CLAIM, "Named": NAMED, "Error": ERROR, "Meeting": MEETING,
                "FeatureCollection": FEATURES,
            }
        },
    }  # fmt: skip


MEETING = {
    "type": "object",
    "required": ["slug", "name", "types", "attendance_option", "source"],
    "properties": {
        "slug": _S, "name": _S,
        "day": {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]},
        "time": _S, "end_time": _S, "timezone": _S, "types": _CODES,
        "attendance_option": {"enum": list(ATTENDANCE)}, "latitude": {"type": "number"},
        "longitude": {"type": "number"}, "source": _S, "license": _S, "attribution": _S,
    },
}  # fmt: skip
FEATURES = {
    "type": "object",
    "required": ["type", "features", "sources"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "summary": _S,
        "features": {
            "type": "array",
            "items": {"type": "object", "required": ["type", "geometry"]},
        },
        "sources": _list_of("Source"),
    },
}


def _content(media_type: str, schema: dict, description: str) -> dict:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _exports() -> dict:
    """The open data endpoints: the Meeting Guide feed and a search as GeoJSON or CSV."""
    feed = _list_of("Meeting")  # the spec's feed: an array of meetings
    source = _param("source", "Only this source's meetings (an id from /api/v1/sources).")
    region = _param(
        "region",
        "Only meetings whose source lists this region (one of their `regions`, any case).",
    )
    return {
        "/api/v1/meetings.json": {
            "get": {
                "summary": "The meetings as a Meeting Guide JSON feed, with each source's licence.",
                "operationId": "meetings",
                "parameters": [source, region],
                "responses": {
                    "200": _content("application/json", feed, "A Meeting Guide feed"),
                    **_errors(400),
                },
            }
        },
        "/api/v1/search.geojson": {
            "get": {
                "summary": "A search as GeoJSON (online listings have no geometry).",
                "operationId": "search_geojson",
                "parameters": SEARCH_PARAMETERS,
                "responses": {
                    "200": _content("application/geo+json", FEATURES, "A FeatureCollection"),
                    **_errors(400),
                },
            }
        },
        "/api/v1/search.csv": {
            "get": {
                "summary": "A search as CSV, with each row's licence and attribution.",
                "operationId": "search_csv",
                "parameters": SEARCH_PARAMETERS,
                "responses": {
                    "200": _content("text/csv", {"type": "string"}, "One listing a row"),
                    **_errors(400),
                },
            }
        },
    }


@bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document."""
    return jsonify(document())


@bp.get("/developers")
def api_page():
    """The API, for people: endpoints, parameters and an example."""
    return render_template("api.html", spec=document())
