"""The site's pages: home, results, map, listing details, 24/7 lines, privacy, sources.

Every page is complete without JavaScript; scripts only add "use my location" and the map.
"""

import re
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from finder.geo.positions import distance_km
from finder.geo.where import YOUR_LOCATION
from finder.ingest import failures
from finder.search.coverage import MIN_MEETINGS, NATIONAL_FINDERS, covered_states
from finder.search.query import GROUPS, KM_PER_MILE
from finder.vocabulary import (
    ATTENDANCE_NAMES,
    FAMILY_PROGRAMS,
    KINDS,
    N_,
    PROGRAMS,
    TYPE_EXPLANATIONS,
    types,
)
from finder.web import i18n, reports
from finder.web import week as this_week
from finder.web.answers import answer_request, get_coverage, now
from finder.web.calendar import calendar_response, listing_calendar
from finder.web.cards import card_lines, card_parts
from finder.web.directions import directions
from finder.web.fragments import page_part
from finder.web.i18n import gettext
from finder.web.kept import kept
from finder.web.listing import (
    STALE_AFTER_DAYS,
    fetch_listing,
    freshness,
    is_approximate,
    next_times,
    one_card_each,
    spanish_first,
    weekly_times,
)
from finder.web.params import MAX_LIMIT, ParamError, check_names
from finder.web.state import get_db, get_memo

bp = Blueprint("views", __name__)

GROUP_TITLES = {
    "in_progress": N_("In progress now"),
    "starting_soon": N_("Starting soon"),
    "online_now": N_("Online now"),
    "open_now": N_("Open now"),
    "later": N_("Later today"),
    "nearby": N_("Listings"),
}
# For a chosen day and time, "now" is that moment.
AT_TITLES = {
    **GROUP_TITLES,
    "in_progress": N_("In progress at that time"),
    "online_now": N_("Online at that time"),
    "open_now": N_("Open at that time"),
    "later": N_("Later that day"),
}
# The choices offered as checkboxes; any other code still works in the URL.
NEEDS = ("X", "ASL", "LOOP", "BA")
MUST_HAVE = ("O", "BE", "W", "M", "LGBTQ", "Y", "S", "X", "ASL", "LOOP", "BA")
LEAVE_OUT = ("C", "SM", "M", "W")
RADII_MILES = (1, 5, 10, 25, 50)
LINE_KINDS = ("crisis_line", "helpline", "warmline", "online_forum", "online_directory")
# The lines page's sections, in order; a listing goes in the first that takes it (issue #11).
LINE_SECTIONS = (
    (N_("Crisis: call or text any time"), lambda listing: listing["kind"] == "crisis_line"),
    (N_("For families and friends"), lambda listing: listing["program"] in FAMILY_PROGRAMS),
    (N_("Helplines: information and referral"), lambda listing: listing["kind"] == "helpline"),
    (N_("Talk to a peer"), lambda listing: listing["kind"] == "warmline"),
    (N_("Online meetings and forums"), lambda _listing: True),
)
SPANISH = "S"  # Meeting Guide's type for meetings held in Spanish
PAGE_STEP = 25
# How static/map.js names the map's markers (issue #11), with {slots} it fills in.
MARKER_WORDS = {
    "here": N_("You searched here: %(place)s"),
    "one": N_("%(number)s: %(name)s, at %(place)s"),
    "meetings_at": N_("%(count)s meetings at %(place)s"),
    "listings_at": N_("%(count)s listings at %(place)s"),
    "meetings_near": N_("%(count)s meetings near %(place)s"),
    "listings_near": N_("%(count)s listings near %(place)s"),
    "numbers": N_("numbers %(numbers)s in the list"),
}
MARKER_SLOTS = {name: f"{{{name}}}" for name in ("place", "number", "name", "count", "numbers")}
ONLINE_FIRST = 3  # online meetings shown above the local ones' later groups (issue #11)


# The parameters the search form shows (its fields' names); not lat and lon, which it does not.
FORM_FIELDS = ("q", "when", "day", "time", "attendance", "type", "kind", "program", "radius", "not",
               "order")  # fmt: skip


def form_values(args) -> tuple:
    """What a search form shows of a request's parameters: the key it is kept under."""
    return tuple((name, tuple(args.getlist(name))) for name in FORM_FIELDS)


def page_helpers() -> dict:
    """Functions for templates, as the environment's globals: macros imported without a page's
    context (built once, not per page) can call them too."""
    return {
        "link": link,
        "switch_language": switch_language,
        "languages": i18n.LANGUAGES,
        "kind_name": lambda kind: gettext(KINDS.get(kind, kind)),
        "program_name": program_name,
        "attendance_name": lambda value: gettext(ATTENDANCE_NAMES.get(value, value)),
        "type_name": type_name,
        "dial_in_text": i18n.dial_in_text,
        "source_language": i18n.source_language,
        "lang_of": i18n.lang_attribute,
        "listed_text": i18n.listed_text,
        "national_finder": lambda program: next(
            f["url"] for f in NATIONAL_FINDERS if f["program"] == program
        ),
        "distance": i18n.distance,
        "chosen_language": i18n.chosen_language,
        "week_url": lambda: link("views.week_page", **this_week.without_when(request.args)),
        "directions": directions,
        "card_parts": card_parts,
        "card_lines": card_lines,
        "page_part": page_part,
        "form_values": form_values,
    }


def register_filters(state) -> None:
    state.app.jinja_env.filters.update(
        type_label=type_name,
        program_label=program_name,
        type_choice=lambda code: (code, type_name(code)),
        kind_choice=lambda kind: (kind, gettext(KINDS[kind])),
        weekday=i18n.weekday,
        clock=i18n.clock,
        day_and_clock=i18n.day_and_clock,
        date_text=i18n.date_text,
        number=i18n.number,
        sms_href=sms_href,
    )


bp.record_once(register_filters)
bp.record_once(lambda state: state.app.jinja_env.globals.update(page_helpers()))


def link(endpoint: str, **values) -> str:
    """url_for that keeps a language chosen with ?lang=."""
    lang = i18n.chosen_language()
    if lang and "lang" not in values:
        values["lang"] = lang
    return url_for(endpoint, **values)


def switch_language(lang: str) -> str:
    """This page, with the same parameters, in another language."""
    args = MultiDict(request.args)
    args["lang"] = lang
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


_TEXT_KEYWORD = re.compile(r"^(?:text\s+)?[\"“]?(\w+)[\"”]?\s+to\s+([\d-]+)$", re.I)


def sms_href(value: str) -> str | None:
    """An sms: link for "988" or "Text HOME to 741741" (keyword as the message), else None."""
    if re.fullmatch(r"[\d-]{3,15}", value):
        return "sms:" + value.replace("-", "")
    if match := _TEXT_KEYWORD.match(value.strip()):
        return f"sms:{match.group(2).replace('-', '')}?&body={match.group(1)}"
    return None


def program_name(program: str) -> str:
    return gettext(PROGRAMS[program]) if program in PROGRAMS else program


def type_name(code: str) -> str:
    entry = types().get(code)
    return entry[i18n.language()] if entry else code


@bp.get("/")
def index():
    """One question: where are you? With quick choices for when, how and access needs."""
    return render_template(
        "index.html", args=request.args, needs=NEEDS, day_choices=i18n.day_choices(now(), None)
    )


@bp.get("/search")
def search_page():
    """Grouped results for a GET form; a bad parameter is shown next to the form (400)."""
    return _results_page("search.html")


@bp.get("/map")
def map_page():
    """The same search's places in its area on a map, numbered as in the list beside it (the
    list is the page without JavaScript)."""
    return _results_page("map.html", _map_context)


def _results_page(template: str, more=None):
    if request.args.get("when") == "week":  # the form's "This week": a list of its own
        return redirect(url_for("views.week_page", **this_week.without_when(request.args)))
    # Cards show open "no longer meets" reports: a new report is a new page at once.
    return kept(lambda: _results(template, more), reports.version())


def _results(template: str, more=None):
    try:
        answer = answer_request(request.args, i18n.wording())
    except ParamError as error:
        message = gettext(error.template, **error.values)
        context = {**_form_context(None), "choices": _place_choices(error)}
        return render_template("search.html", error=message, **context), 400
    all_online_url = _all_online_url(answer)
    context = {
        "answer": answer,
        "titles": AT_TITLES if answer.found.query.when == "at" else GROUP_TITLES,
        "suggestions": _suggestions(answer),
        "more_url": _more_url(answer),
        "map_items": _located(answer),
        "cards": _cards(answer, all_online_url),
        "all_online_url": all_online_url,
        "spanish_only_url": _spanish_only_url(answer),
        "did_you_mean": _other_towns(answer, request.endpoint),
        **_form_context(answer),
    }
    return render_template(template, **{**context, **(more(answer) if more else {})})


def _place_choices(error: ParamError) -> list[tuple[str, str]]:
    """The towns a person can choose from when a town's name alone was not enough."""
    candidates = getattr(error.__cause__, "candidates", ())
    return [(label, _with({"q": label})) for label in candidates]


def _other_towns(answer, endpoint: str) -> list[tuple[str, str]]:
    """ "Did you mean": the other towns of the name typed, each a link to this page there."""
    place = answer.found.place
    alternatives = place.alternatives if place else ()
    return [(label, _with({"q": label}, endpoint=endpoint)) for label in alternatives]


def _cards(answer, all_online_url: str | None) -> dict[str, list[dict]]:
    """Each group's results as cards: one per meeting group and place, with its weekly times;
    online now cut to the first few when a link shows them all (the search also wants places
    to go)."""
    ids = [item["id"] for group in GROUPS for item in answer.groups[group]]
    times = get_memo("weekly").each(ids, lambda wanted: weekly_times(get_db(), wanted), [])
    cards = {group: one_card_each(answer.groups[group], times) for group in GROUPS}
    if i18n.language() == "es":
        cards = {group: spanish_first(found) for group, found in cards.items()}
    if all_online_url:
        cards["online_now"] = cards["online_now"][:ONLINE_FIRST]
    return cards


def _spanish_only_url(answer) -> str | None:
    """On Spanish pages, when the search has meetings in Spanish among others: the same search
    for those only, one tap away (issue #11)."""
    if i18n.language() != "es" or SPANISH in answer.found.query.include_types:
        return None
    codes = {t["code"] for items in answer.groups.values() for item in items for t in item["types"]}
    if SPANISH not in codes:
        return None
    return _with({"type": [*request.args.getlist("type"), SPANISH]})


def _all_online_url(answer) -> str | None:
    """ "Show all N online meetings": the same search, online only, when some were cut."""
    query = answer.found.query
    if not (query.has_point and "in_person" in query.attendance and query.online):
        return None
    if answer.results.totals["online_now"] <= ONLINE_FIRST:
        return None
    return _with({"attendance": "online"})


def _form_context(answer) -> dict:
    found = answer.found if answer else None
    return {
        "day_choices": i18n.day_choices(now(), found.zone if found else None),
        # The radius the summary states, for the form's "automatic" choice (issue #11).
        "searched_miles": answer.results.radius_km / KM_PER_MILE if answer else None,
        "args": request.args,
        "needs": NEEDS,
        "must_have": MUST_HAVE,
        "leave_out": LEAVE_OUT,
        "radii": RADII_MILES,
        "kinds": KINDS,
        "programs": PROGRAMS,
    }


def _with(changes: dict, drop: tuple = (), endpoint: str = "views.search_page") -> str:
    """The current search with some parameters changed or removed."""
    args = MultiDict(request.args)
    for name in drop:
        args.poplist(name)
    for name, value in changes.items():
        args.setlist(name, value if isinstance(value, list) else [value])
    return url_for(endpoint, **args.to_dict(flat=False))


def _suggestions(answer) -> list[tuple[str, str]]:
    """What to widen when nothing matched, as (text, link)."""
    if any(answer.results.totals.values()):
        return []
    query = answer.found.query
    found = []
    if query.has_point:
        miles = max(25, round(answer.results.radius_km / KM_PER_MILE * 3))
        if miles <= 300:
            found.append(
                (
                    gettext("Search within %(miles)s miles", miles=miles),
                    _with({"radius": miles, "unit": "mi"}),
                )
            )
    if query.when != "any":
        found.append(
            (gettext("Show listings at any time"), _with({"when": "any"}, ("day", "time")))
        )
    if request.args.get("attendance"):
        found.append((gettext("Include in-person and online"), _with({}, ("attendance",))))
    if query.include_types or query.exclude_types or query.programs:
        found.append((gettext("Remove the filters"), _with({}, ("type", "not", "program"))))
    return found


def _more_url(answer) -> str | None:
    """A link to more results when a group was cut at the limit."""
    limit = answer.found.query.limit
    cut = any(answer.results.totals[g] > len(answer.groups[g]) for g in GROUPS)
    if not cut or limit >= MAX_LIMIT:
        return None
    return _with({"limit": min(limit + PAGE_STEP, MAX_LIMIT)})


def _located(answer) -> list[dict]:
    """Results with a place to pin in the area searched, once each (an online group's hybrid
    meeting across the country is in the results, but not on this area's map)."""
    query = answer.found.query
    seen, items = set(), []
    for group in GROUPS:
        for item in answer.groups[group]:
            if item.get("latitude") is None or item["id"] in seen:
                continue
            seen.add(item["id"])
            if not query.has_point or _km_from(query, item) <= answer.results.radius_km:
                items.append(item)
    return items


@bp.get("/week")
def week_page():
    """A place's week, each group once with its days and times, ready to print (issue #12)."""
    try:
        args = this_week.week_args(request.args)
        answer = answer_request(args, i18n.wording())
    except ParamError as error:
        message = gettext(error.template, **error.values)
        return render_template("week.html", error=message, **_form_context(None)), 400
    week = this_week.week_of(answer, get_db())
    return render_template(
        "week.html",
        answer=answer,
        week=week,
        by_day=request.args.get("order") != "nearest",
        range_text=this_week.range_text(week),
        zone_text=this_week.zone_text(week),
        data_as_of=this_week.data_as_of(week),
        time_text=this_week.time_text,
        day_heading=this_week.day_heading,
        order_url=lambda order: link(
            "views.week_page", **{**args.to_dict(flat=False), "order": order}
        ),
        calendar_url=url_for("views.search_calendar", **args.to_dict(flat=False)),
        results_url=url_for("views.search_page", **this_week.without_when(request.args)),
        **{**_form_context(answer), "args": args},
    )


@bp.get("/search.ics")
def search_calendar():
    """A search's listings with weekly times as one calendar (at most 100, nearest first for a
    week), each with its source's licence."""
    try:
        check_names(request.args)
        answer = answer_request(request.args, i18n.wording())
    except ParamError as error:  # said next to the search form, as on the results page
        message = gettext(error.template, **error.values)
        return render_template("search.html", error=message, **_form_context(None)), 400
    return calendar_response(
        lambda: this_week.search_calendar(answer, get_db(), now()),
        "search.ics",
        gettext("Nothing this search found has weekly times."),
    )


def _km_from(query, item: dict) -> float:
    if item["distance_km"] is not None:
        return item["distance_km"]
    return distance_km(query.latitude, query.longitude, item["latitude"], item["longitude"])


def _map_context(answer) -> dict:
    """The map page's list (one card per group and place, numbered) and its markers' data."""
    located = _located(answer)
    cards = one_card_each(located, weekly_times(get_db(), [item["id"] for item in located]))
    return {
        "tile_url": current_app.config["TILE_URL"],
        "map_items": cards,
        "map_data": map_data(answer, cards, _place_names(cards)),
    }


def map_data(answer, cards: list[dict], places: dict[int, str]) -> dict:
    """What static/map.js draws: the searched place, each card's marker with its list number
    and place name, and the words for the markers' names in the page's language."""
    place = answer.found.place
    _ = gettext if place and place.label == YOUR_LOCATION else str
    return {
        "here": place and {"lat": place.latitude, "lon": place.longitude, "label": _(place.label)},
        "places": [
            {
                "n": number,
                "name": card["name"],
                "href": link("views.resource", resource_id=card["id"]),
                "lat": card["latitude"],
                "lon": card["longitude"],
                "place": places.get(card["id"]) or card["name"],
                "meeting": card["kind"] == "meeting",
            }
            for number, card in enumerate(cards, 1)
        ],
        "words": {key: gettext(template) % MARKER_SLOTS for key, template in MARKER_WORDS.items()},
    }


def _place_names(cards: list[dict]) -> dict[int, str]:
    """Listing id -> what its place is called: the venue's name, else its street address."""
    ids = [card["id"] for card in cards]
    if not ids:
        return {}
    rows = get_db().query(
        "select r.id, l.name from resources r join locations l on l.id = r.location_id "
        f"where r.id in ({', '.join('?' * len(ids))})",
        ids,
    )
    names = {row["id"]: row["name"] for row in rows if row["name"]}
    streets = {card["id"]: (card["address"] or "").split(",")[0] for card in cards}
    return {id_: names.get(id_) or streets[id_] for id_ in ids}


@bp.get("/resource/<int:resource_id>")
def resource(resource_id: int):
    """Everything known about one listing."""
    listing = _listing_or_404(resource_id)
    explained = [t for t in listing["types"] if t["code"] in TYPE_EXPLANATIONS]
    status = 410 if listing["status"] != "active" else 200
    moment = now()
    dates = (listing["updated"], listing["last_verified"], listing["source_as_of"])
    return render_template(
        "resource.html",
        listing=listing,
        listed=freshness(*dates, moment),
        times=next_times(listing, moment),
        explained=explained,
        explanations=TYPE_EXPLANATIONS,
        approximate=is_approximate(listing),
        accessibility=[t for t in listing["types"] if t["category"] == "accessibility"],
        other_types=[t for t in listing["types"] if t["category"] != "accessibility"],
    ), status


@bp.get("/resource/<int:resource_id>.ics")
def resource_calendar(resource_id: int):
    """Add to calendar: weekly events at the listing's local times."""
    listing = _listing_or_404(resource_id)
    page = url_for("views.resource", resource_id=resource_id, _external=True)
    return calendar_response(
        lambda: listing_calendar(listing, now(), page),
        f"listing-{resource_id}.ics",
        gettext("This listing has no weekly times to add to a calendar."),
    )


@bp.route("/resource/<int:resource_id>/report", methods=["GET", "POST"])
def report(resource_id: int):
    """How to get a listing corrected: by the source that publishes it, or our short form."""
    listing = _listing_or_404(resource_id)
    if request.method == "POST":
        return reports.receive(listing)
    return reports.form_page(listing)


@bp.get("/resource/<int:resource_id>/report/sent")
def report_sent(resource_id: int):
    """A report was received (Post/Redirect/Get)."""
    return reports.sent_page(_listing_or_404(resource_id))


bp.record_once(lambda state: state.app.jinja_env.globals.update(reports.page_helpers()))


def _listing_or_404(resource_id: int) -> dict:
    listing = fetch_listing(get_db(), resource_id)
    if listing is None:
        abort(404, description=gettext("There is no listing with that number."))
    return listing


@bp.get("/lines")
def lines():
    """Support at any hour, from anywhere: 24/7 lines, warmlines and online spaces."""
    marks = ", ".join("?" * len(LINE_KINDS))
    db = get_db()
    rows = db.query(
        f"select id from resources where status = 'active' and kind in ({marks}) "
        "order by always_open desc, kind = 'crisis_line' desc, name",
        LINE_KINDS,
    )
    listings = [fetch_listing(db, row["id"]) for row in rows]
    return render_template("lines.html", sections=_line_sections(listings))


def _line_sections(listings: list[dict]) -> list[tuple[str, list[dict]]]:
    """The lines page's sections that have listings, each with its listings in order."""
    sections: dict[str, list[dict]] = {heading: [] for heading, _takes in LINE_SECTIONS}
    for listing in listings:
        heading = next(heading for heading, takes in LINE_SECTIONS if takes(listing))
        sections[heading].append(listing)
    return [(heading, found) for heading, found in sections.items() if found]


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html", tile_url=current_app.config["TILE_URL"])


def _failing_feeds(db) -> list[dict]:
    """Live feeds whose last refresh failed (their listings are from the last good copy): as the
    served file records them, or as recorded beside it by a later refresh that published nothing
    because every source failed."""
    last = {
        row["source"]: row
        for row in db.query(
            "select s.id as source, s.name, s.as_of, f.last_attempt, f.last_error "
            "from sources s left join feed_health f on f.source = s.id"
        )
    }
    for source, attempt in failures.recorded(current_app.config["DATABASE"]).items():
        if row := last.get(source):
            error = attempt.get("last_error") or "failed"
            row.update(last_attempt=attempt["last_attempt"], last_error=error)
    return sorted((r for r in last.values() if r["last_error"]), key=lambda r: r["name"])


@bp.get("/about")
def about():
    """What the directory holds, by kind and source, with each source's license."""
    db = get_db()
    # Peer support first; professional treatment (complementary, not peer-run) last.
    kinds = db.query(
        "select kind, count(*) as n from resources where status = 'active' "
        "group by kind order by kind = 'treatment', n desc"
    )
    sources = db.query(
        "select s.id, s.name, s.attribution, s.license, s.as_of, count(r.id) as n "
        "from sources s left join resources r on r.source = s.id and r.status = 'active' "
        "group by s.id order by s.name"
    )
    return render_template(
        "about.html",
        kinds=list(kinds),
        sources=list(sources),
        failing=_failing_feeds(db),
        covered=covered_states(get_coverage()),
        stale_after_days=STALE_AFTER_DAYS,
        min_meetings=MIN_MEETINGS,
    )
