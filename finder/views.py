"""HTML pages: the overview and a first search page (server-rendered, no JavaScript).

The full site (map, detail pages, Spanish, browser accessibility checks) is issue #4.
"""

from datetime import datetime

from flask import Blueprint, render_template, request

from .db import get_db
from .params import ParamError
from .results import answer_request
from .vocabulary import KINDS, PROGRAMS

bp = Blueprint("views", __name__)

GROUP_TITLES = {
    "in_progress": "In progress now",
    "starting_soon": "Starting soon",
    "online_now": "Online now",
    "open_now": "Open now",
    "later": "Later",
    "nearby": "Nearby",
}
NEEDS = {"X": "Wheelchair access", "ASL": "American Sign Language", "LOOP": "Hearing loop",
         "BA": "Childcare"}  # fmt: skip


@bp.get("/")
def index():
    """The search form, and what the directory holds by kind and source."""
    db = get_db()
    # Peer support first; professional treatment (complementary, not peer-run) last.
    kinds = db.query(
        "select kind, count(*) as n from resources where status = 'active' "
        "group by kind order by kind = 'treatment', n desc"
    )
    sources = db.query(
        "select s.id, s.name, s.attribution, s.license, s.last_imported, count(r.id) as n "
        "from sources s left join resources r on r.source = s.id and r.status = 'active' "
        "group by s.id order by s.name"
    )
    return render_template(
        "index.html",
        kinds=list(kinds),
        sources=list(sources),
        kind_names=KINDS,
        args=request.args,
        needs=NEEDS,
    )


@bp.get("/search")
def search_page():
    """Results for the search form; a bad parameter is shown next to the form (400)."""
    try:
        answer = answer_request(request.args)
    except ParamError as error:
        return render_template("search.html", error=str(error), args=request.args, needs=NEEDS), 400
    return render_template(
        "search.html",
        answer=answer,
        args=request.args,
        needs=NEEDS,
        titles=GROUP_TITLES,
        kind_names=KINDS,
        programs=PROGRAMS,
        when_text=when_text,
    )


def when_text(item: dict) -> str:
    """ "7:00 PM EST, started 5 min ago" / "starts in 25 min" / "" for untimed listings."""
    if "start" not in item:
        return "Open 24/7" if item["kind"] != "meeting" else ""
    start = datetime.fromisoformat(item["start"])
    clock = start.strftime("%a %I:%M %p").replace(" 0", " ") + f" {item['zone']}"
    until, end = item["minutes_until_start"], item["minutes_until_end"]
    if until >= 1:
        return f"{clock}, starts in {_minutes(until)}"
    if until > -1:
        return f"{clock}, starting now, ends in {_minutes(end)}"
    return f"{clock}, started {_minutes(-until)} ago, ends in {_minutes(end)}"


def _minutes(value: float) -> str:
    value = round(value)
    if value < 60:
        return f"{value} min"
    hours, minutes = divmod(value, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
