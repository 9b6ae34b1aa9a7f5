"""The "report a problem" form (issue #13): a listing's own source first, then our short form.

A report is a POST carrying a token signed with a key kept in the reports database (so every
gunicorn worker and every restart agrees on it) and tied to the listing; a browser that says the
form came from another site is refused too. Each client may send ``REPORTS_PER_HOUR`` reports
an hour, counted in this process's memory under a salted hash of its address that is never
written anywhere. A field people never see catches form-filling robots. Nothing about the
reporter is stored except a contact they type in. After a report: a confirmation page
(Post/Redirect/Get).
"""

import hashlib
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from flask import current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from finder import reports
from finder.web.i18n import gettext, number
from finder.web.state import get_db, get_memo

TOKEN_MAX_AGE = 24 * 3600  # seconds a form stays valid: a page left open overnight still works
PER_HOUR = 10
HONEYPOT = "website"  # the field people never see; robots fill in fields called "website"
MAX_CLIENTS = 10_000  # clients remembered by the rate limit before the oldest are forgotten


@dataclass
class RateLimit:
    """At most ``per_hour`` events per client in any hour, remembered in memory only."""

    per_hour: int
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    seen: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one event for the client; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        key = hashlib.blake2b(client.encode(), key=self.salt, digest_size=16).digest()
        with self.lock:
            times = self.seen.pop(key, None) or deque()
            while times and times[0] <= now - 3600:
                times.popleft()
            allowed = len(times) < self.per_hour
            if allowed:
                times.append(now)
            self.seen[key] = times  # most recent last
            while len(self.seen) > MAX_CLIENTS:
                self.seen.popitem(last=False)
        return allowed


def _limiter() -> RateLimit:
    state = current_app.extensions.setdefault("reports", {})
    if "limit" not in state:
        per_hour = int(current_app.config.get("REPORTS_PER_HOUR") or PER_HOUR)
        state["limit"] = RateLimit(per_hour)
    return state["limit"]


def reports_path() -> Path:
    """The reports database: FINDER_REPORTS_DATABASE, else ``reports.db`` beside the directory."""
    configured = current_app.config.get("REPORTS_DATABASE")
    return Path(configured) if configured else _beside(current_app.config["DATABASE"])


@lru_cache(maxsize=16)
def _beside(database: str) -> Path:
    return reports.default_path(database)  # resolving the path is a system call or more


def _client_address() -> str:
    # Behind a reverse proxy every request comes from the proxy: the proxy names the client in
    # the header REPORTS_CLIENT_HEADER (e.g. X-Real-IP), when configured.
    header = current_app.config.get("REPORTS_CLIENT_HEADER")
    forwarded = request.headers.get(header, "") if header else ""
    return forwarded.split(",")[-1].strip() or request.remote_addr or "unknown"


def _serializer(store) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(reports.form_secret(store), salt="report-form")


def _token(store, listing: dict) -> str:
    return _serializer(store).dumps({"listing": listing["id"]})


def _token_is_valid(store, listing: dict, token: str) -> bool:
    try:
        payload = _serializer(store).loads(token, max_age=TOKEN_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return False
    return isinstance(payload, dict) and payload.get("listing") == listing["id"]


def form_page(listing: dict, values=None, errors=None, notice=None, status: int = 200):
    """The page: the source's own channel, then our form (with what was typed, on an error)."""
    try:
        store = reports.open_store(reports_path())
        try:
            token = _token(store, listing)
        finally:
            store.close()
    except reports.ReportsUnavailable:
        current_app.logger.exception("the reports database is unavailable")
        token = None  # the page still says how to tell the source
    return render_template(
        "report.html",
        listing=listing,
        token=token,
        values=values or {},
        errors=errors or {},
        notice=notice,
        problems=reports.PROBLEMS,
        max_details=reports.MAX_DETAILS,
        max_contact=reports.MAX_CONTACT,
        honeypot=HONEYPOT,
    ), status


def receive(listing: dict):
    """A posted report: checked, stored, then a redirect to the confirmation page."""
    values = {name: request.form.get(name, "") for name in ("what", "details", "contact")}
    if not _limiter().allow(_client_address()):
        notice = gettext(
            "You have sent several reports in a short time, so we cannot take another one just "
            "now. Thank you for them. Please try again in an hour, or tell the source directly."
        )
        page, status = form_page(listing, values, notice=notice, status=429)
        return page, status, {"Retry-After": "3600"}
    if not _from_this_site(listing):
        notice = gettext(
            "This form has expired or did not come from this site, so it was not sent. "
            "Please check what you wrote and send it again."
        )
        return form_page(listing, values, notice=notice, status=400)
    if request.form.get(HONEYPOT):
        return _sent(listing)  # a robot: it is told nothing, and nothing is stored
    errors = check_report(values)
    if errors:
        return form_page(listing, values, errors=errors, status=400)
    return _store(listing, values)


def _from_this_site(listing: dict) -> bool:
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    try:
        store = reports.open_store(reports_path())
    except reports.ReportsUnavailable:
        return False
    try:
        return _token_is_valid(store, listing, request.form.get("token", ""))
    finally:
        store.close()


def check_report(values: dict) -> dict[str, str]:
    """What is wrong with a report's fields, by field name (empty when it can be stored)."""
    errors = {}
    details, contact = values["details"].strip(), values["contact"].strip()
    if values["what"] not in reports.PROBLEMS:
        errors["what"] = gettext("Choose what is wrong with the listing.")
    if len(details) > reports.MAX_DETAILS:
        errors["details"] = gettext(
            "The description is %(length)s characters long; please shorten it to "
            "%(most)s or fewer.",
            length=number(len(details)),
            most=number(reports.MAX_DETAILS),
        )
    elif values["what"] == "other" and not details:
        errors["details"] = gettext("Say what is wrong, since you chose “Something else”.")
    if len(contact) > reports.MAX_CONTACT:
        errors["contact"] = gettext(
            "The contact is longer than %(most)s characters; give one email address or phone "
            "number.",
            most=reports.MAX_CONTACT,
        )
    return errors


def _store(listing: dict, values: dict):
    report = reports.NewReport(
        resource_id=listing["id"],
        source=listing["source"],
        source_id=listing["source_id"],
        listing_name=listing["name"],
        site_url=_site_url(listing),
        problem=values["what"],
        details=values["details"].strip(),
        contact=values["contact"].strip() or None,
    )
    try:
        store = reports.open_store(reports_path())
        try:
            reports.add_report(store, report)
        finally:
            store.close()
    except reports.ReportsUnavailable:
        current_app.logger.exception("a report could not be stored")
        notice = gettext(
            "We could not save your report just now. Please try again later, or tell the "
            "source directly."
        )
        return form_page(listing, values, notice=notice, status=503)
    return _sent(listing)


def _site_url(listing: dict) -> str:
    base = current_app.config.get("SITE_URL")
    if base:
        return f"{base.rstrip('/')}/resource/{listing['id']}"
    return url_for("views.resource", resource_id=listing["id"], _external=True)


def _sent(listing: dict):
    lang = request.args.get("lang") or request.form.get("lang")
    target = url_for(
        "views.report_sent", resource_id=listing["id"], **({"lang": lang} if lang else {})
    )
    return redirect(target, code=303)


def sent_page(listing: dict):
    """Thank you: what happens to the report, and what the reader can do meanwhile."""
    return render_template("report_sent.html", listing=listing)


def reported_gone(listing: dict) -> str | None:
    """The date someone first reported this listing no longer meets (still open), else None."""
    return _gone_by_id().get(listing["id"])


def _gone_by_id() -> dict[int, str]:
    """Open "no longer meets" reports by the current number of their listing, matched by source
    and source id, which a rebuild keeps: read once per request, or once per generation and
    version of the reports file when its version can be told (a results page read them anew
    every time)."""
    here = g._get_current_object()  # one look-up of the request's globals: a card each
    found = here.get("reported_gone")
    if found is None:
        found = here.reported_gone = _gone_for(version())
    return found


def version() -> tuple | None:
    """The reports file's version (finder.reports.version), once per request."""
    here = g._get_current_object()
    if "reports_version" not in here:
        here.reports_version = reports.version(reports_path())
    return here.reports_version


def _gone_for(reports_version: tuple | None) -> dict[int, str]:
    if reports_version is None:
        return _read_gone()
    memo = get_memo("reported-gone", 1)
    found = memo.get(reports_version)
    return found if found is not None else memo.put(reports_version, _read_gone())


def _read_gone() -> dict[int, str]:
    store = reports.open_existing(reports_path())
    if store is None:
        return {}
    try:
        gone = reports.open_gone_reports(store)
    finally:
        store.close()
    if not gone:
        return {}
    marks = ", ".join("(?, ?)" for _ in gone)
    pairs = [value for key in gone for value in key]
    rows = get_db().execute(
        f"select id, source, source_id from resources where (source, source_id) in ({marks})",
        pairs,
    )
    return {row[0]: gone[(row[1], row[2])][:10] for row in rows.fetchall()}


def raw_data_url(listing: dict) -> str | None:
    """The listing's row in Datasette, when FINDER_DATASETTE_URL says where it runs."""
    base = current_app.config.get("DATASETTE_URL")
    if not base:
        return None
    database = quote(Path(current_app.config["DATABASE"]).stem)
    return f"{base.rstrip('/')}/{database}/resources/{listing['id']}"


def page_helpers() -> dict:
    """For templates: the caution of an open "no longer meets" report, the raw-data link."""
    return {"reported_gone": reported_gone, "raw_data_url": raw_data_url}
