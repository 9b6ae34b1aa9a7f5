"""Referral sheets (issue #12): listings picked from a search, on one printable page.

The selection lives in the URL only (``/referral?id=12&id=40&lang=es``): nothing about the
person it is for is asked for, stored or logged. The share link and its QR code (drawn here by
segno, no third-party request) reopen the same sheet.
"""

import re
from urllib.parse import quote

import segno
from flask import Blueprint, abort, render_template, request, url_for

from finder.vocabulary import N_
from finder.web.answers import now
from finder.web.calendar import calendar_of, calendar_response
from finder.web.i18n import chosen_language, gettext, language
from finder.web.listing import fetch_listing, freshness, next_times
from finder.web.params import ParamError, check_names
from finder.web.state import get_db, get_memo

bp = Blueprint("referral", __name__)

MAX_LISTINGS = 8  # what fits on one Letter or A4 page
# What to expect, in one line, by kind (meetings by whether they are open or closed).
EXPECT = {
    "O": N_("Open meeting: anyone may come, and you can just listen."),
    "C": N_("Closed meeting: for people who want help with their own use; you can just listen."),
    "meeting": N_("A free meeting of people in recovery; you can just listen."),
    "center": N_("A place to drop in for recovery support and activities."),
    "peer_organization": N_("Support from people with lived experience."),
    "warmline": N_("Call to talk with a peer; you do not need to be in crisis."),
    "helpline": N_("Call for information and referrals."),
    "crisis_line": N_("Call or text at any hour if you are in crisis."),
    "online_forum": N_("An online group you can join from anywhere."),
    "online_directory": N_("A list of online meetings you can join from anywhere."),
    "treatment": N_("Professional treatment (not peer-run)."),
}


# A US ZIP code in an address or postal code ("PA 19103", "35630-1465"): the last one given.
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")


def fallback_helpers() -> dict:
    """What a card, a listing page and a sheet show when a listing has no phone of its own."""
    return {"source_office": source_office, "zip_of": zip_of}


bp.record_once(lambda state: state.app.jinja_env.globals.update(fallback_helpers()))


def source_office(source_id: str) -> dict | None:
    """The office line of a listing's source (registry or feed), with the name it is listed
    under, or None; read once per database generation."""
    memo = get_memo("source_offices", 1)
    offices = memo.get("all")
    if offices is None:
        rows = get_db().query(
            "select id, coalesce(short_name, name) as name, office_phone as phone from sources "
            "where office_phone is not null and office_phone != ''"
        )
        offices = {row["id"]: {**row, "href": _tel(row["phone"])} for row in rows}
        memo.put("all", offices)
    return offices.get(source_id)


def _tel(phone: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", phone)


def zip_of(listing: dict) -> str | None:
    """A listing's ZIP code, from its postal code or else its address text (a result card has
    only the address)."""
    for text in (listing.get("postal_code"), listing.get("address")):
        found = _ZIP.findall(text or "")
        if found:
            return found[-1]
    return None


def chosen_ids(args) -> list[int]:
    """The listing numbers in the URL, once each, in order; ParamError for anything else."""
    check_names(args, ("id", "lang"))
    ids: list[int] = []
    for raw in args.getlist("id"):
        if not raw.isdigit() or not 0 < int(raw) < 2**63:
            raise ParamError("id must be a listing number, like id=12.")
        if int(raw) not in ids:
            ids.append(int(raw))
    if len(ids) > MAX_LISTINGS:
        raise ParamError("A referral sheet holds at most %(most)s listings.", most=MAX_LISTINGS)
    return ids


def sheet_entry(listing: dict, moment) -> dict:
    """What the sheet prints for one listing."""
    codes = {t["code"] for t in listing["types"]}
    expect = next(
        (EXPECT[c] for c in ("O", "C") if c in codes and listing["kind"] == "meeting"), None
    )
    phones = [c for c in listing["contacts"] if c["kind"] in ("voice", "text")]
    return {
        "listing": listing,
        "office": None if phones else source_office(listing["source"]),
        "expect": expect or EXPECT.get(listing["kind"]),
        "times": next_times(listing, moment),
        "phones": phones,
        "listed": freshness(
            listing["updated"], listing["last_verified"], listing["source_as_of"], moment
        ),
        "accessibility": [t for t in listing["types"] if t["category"] == "accessibility"],
    }


@bp.get("/referral.ics")
def sheet_calendar():
    """The sheet's listings as one calendar: weekly events in each listing's own zone."""
    try:
        ids = chosen_ids(request.args)
    except ParamError as error:
        abort(400, description=gettext(error.template, **error.values))
    db = get_db()
    listings = [_listing_or_404(db, i) for i in ids]
    pages = [url_for("views.resource", resource_id=i, _external=True) for i in ids]
    return calendar_response(
        lambda: calendar_of(list(zip(listings, pages, strict=True)), now()),
        "referral.ics",
        gettext("None of these listings has weekly times."),
    )


def _listing_or_404(db, resource_id: int) -> dict:
    listing = fetch_listing(db, resource_id)
    if listing is None:
        abort(
            404,
            description=gettext("There is no listing with the number %(ids)s.", ids=resource_id),
        )
    return listing


@bp.get("/referral")
def sheet():
    """One printable page of chosen listings, in the language chosen on the sheet."""
    try:
        ids = chosen_ids(request.args)
    except ParamError as error:
        message = gettext(error.template, **error.values)
        return render_template("referral.html", entries=[], error=message), 400
    db, moment = get_db(), now()
    listings = [_listing_or_404(db, i) for i in ids]
    share = url_for("referral.sheet", id=ids, lang=chosen_language() or language(), _external=True)
    return render_template(
        "referral.html",
        entries=[sheet_entry(listing, moment) for listing in listings],
        ids=ids,
        share_url=share,
        qr_code=segno.make(share, error="m").svg_data_uri(scale=3, border=2),
        text_href="sms:?&body=" + quote(share, safe=""),
        calendar_url=url_for("referral.sheet_calendar", id=ids),
        without=lambda i: url_for(
            "referral.sheet", id=[x for x in ids if x != i], lang=chosen_language()
        ),
        today=moment,
    )
