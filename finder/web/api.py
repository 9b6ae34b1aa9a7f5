"""JSON API under /api: the same search the site runs, as data."""

from flask import Blueprint, jsonify, request

from finder.web.answers import answer_request, place_of
from finder.web.params import ParamError

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search_endpoint():
    """Support near a place and now: GET /api/search?q=19103&when=now&type=X."""
    try:
        answer = answer_request(request.args)
    except ParamError as error:
        return jsonify({"ok": False, "error": str(error)}), 400
    results = answer.results
    return jsonify(
        {
            "ok": True,
            "hint": answer.hint,
            "summary": answer.summary,
            "coverage": answer.coverage and answer.coverage.as_data(),
            "place": place_of(answer.found),
            "radius_km": round(results.radius_km, 3),
            "widened_from_km": results.widened_from_km and round(results.widened_from_km, 3),
            "totals": results.totals,
            "groups": answer.groups,
        }
    )
