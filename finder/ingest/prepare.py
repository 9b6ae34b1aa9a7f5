"""The ingest rules every format shares, applied once: a normalised record becomes rows or is
rejected with its reason.

Importers read their format; everything that does not depend on the format is decided here:
what a usable record is, which links may become ``href``s, which phone numbers can be dialled,
the position (geocoding) and the time zone, and how attendance is inferred when the source does
not say. Each decision that changes or infers a value is reported as an issue.
"""

import hashlib
import html
import html.entities
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
from geopy.geocoders.base import Geocoder
from phonenumbers import shortnumberinfo

from finder.errors import RecordRejected
from finder.geo.offline import (
    Geocode,
    country_of,
    normalise_postcode,
    normalise_state,
    resolve_position,
    timezone_for,
    valid_timezone,
)
from finder.geo.positions import read_position
from finder.schedule import schedule_row
from finder.vocabulary import ATTENDANCE, KINDS

Issue = tuple[str, str, str]  # (severity, field, reason)

WEB_LINK_FIELDS = ("url", "conference_url", "feedback_url")
TEXT_FIELDS = ("conference_url_notes", "conference_phone_notes", "hours_text", "languages_text")
DIALLED_KINDS = ("voice", "fax", "tty", "hotline")
_WEB_LINK = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?", re.I)
# A dial string: the number, then pauses (",") and the digits typed after connecting.
_POST_DIAL = re.compile(r"[,;pw]", re.I)
# Sampling each month's 1st and 15th tells whether two zones keep the same clock all year.
VIRTUAL_SUFFIX = " (online: no place to go)"
_SAMPLE_DAYS = [(month, day) for month in range(1, 13) for day in (1, 15)]
# Feeds carry text from web pages and WordPress: character references ("Men&#8217;s", "GR's &amp;
# friends") and tags ("<br>", "<ul><li>"; HSDS allows HTML in descriptions). What we show is plain
# text, so the references are read and the tags of HTML's common elements dropped. Only
# references ending in ";" count: "&reg" can begin a word.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A tag is an element's name and attributes written name=value: "<a href=x>" is a tag, "<A New
# Beginning>" and "<Big Book>" are names. Possessive quantifiers: no backtracking, so a long run
# of spaces after "<a" costs linear time (with backtracking, 20,000 spaces took 0.7 s).
_ATTRIBUTE = r"""\s++[\w:-]++\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'<>]++)"""
_ATTRIBUTES = rf"(?:{_ATTRIBUTE})*+\s*+/?>"
_BREAK_TAG = re.compile(
    r"</?(?:br|p|div|li|ul|ol|dl|dt|dd|tr|table|h[1-6]|blockquote|section)" + _ATTRIBUTES, re.I
)
_INLINE_TAG = re.compile(
    r"</?(?:em|strong|span|font|small|big|sup|sub|abbr|center|td|th|tbody|thead|img|hr|wbr)"
    rf"{_ATTRIBUTES}|<[abisu](?:{_ATTRIBUTE})++\s*+/?>|</[abisu]>",
    re.I,
)
# "<b>" without attributes is a tag only where "</b>" closes it: "Room <A>" is a room's name.
_BARE_LETTER_TAG = re.compile(r"<([abisu])>", re.I)
_SPACES = re.compile(r"[ \t\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Fields that are identifiers, not words: never rewritten.
_NOT_TEXT = {"source_id", "issues", "test_entry"}


@dataclass
class Prepared:
    """A record turned into rows, ready to write, and what was repaired on the way."""

    source_id: str
    resource: dict
    location: dict | None
    organization: dict | None
    schedules: list[dict]
    types: list[tuple[str, str]]
    contacts: list[dict]
    service_areas: list[dict]
    content_hash: str
    issues: list[Issue] = field(default_factory=list)

    @property
    def precision(self) -> str:
        """How precisely the listing is placed ("none" without a location)."""
        return self.location["geocode_precision"] if self.location else "none"


@dataclass(frozen=True)
class Placed:
    """A record's location row and the facts the time-zone rule needs about it."""

    row: dict
    geocode: Geocode
    stated_position: tuple[float, float] | None  # the feed's own coordinates, if a position


def prepare(record: dict, source: dict, geocoder: Geocoder, geocodes: dict) -> Prepared:
    """Validate one record, geocode it and resolve its time zone.

    :param record: a normalised record as an importer yields it (see ``finder.ingest.formats``)
    :param source: the source's registry entry (``default_timezone``, ``single_zone``, ...)
    :param geocoder: a geopy geocoder for records without trustworthy coordinates
    :param geocodes: a cache of positions by location, shared over one import
    :raises RecordRejected: the record cannot be listed (the reason says why)
    """
    issues: list[Issue] = list(record.get("issues") or [])
    record = _without_markup(record, issues)
    source_id, name, kind = _identity(record)
    placed = _place(record.get("location"), geocoder, geocodes)
    location = placed.row if placed else None
    if placed and placed.geocode.issue:
        issues.append(("repaired", "coordinates", placed.geocode.issue))
    region = (location["country"] or None) if location else None
    zone, zone_source = _zone(record, placed, source, issues)
    if location is not None:
        location["timezone"], location["timezone_source"] = zone, zone_source
    links = {key: web_link(record.get(key), key, issues) for key in WEB_LINK_FIELDS}
    links["conference_phone"] = dial_in(record.get("conference_phone"), region, issues)
    attendance, attendance_note = _attendance(record, location, links, source)
    resource = {
        "kind": kind,
        "name": name,
        "program": record.get("program") or source.get("program"),
        "description": record.get("description") or "",
        "attendance": attendance,
        "attendance_note": attendance_note,
        "timezone": zone,
        "timezone_source": zone_source,
        "always_open": int(bool(record.get("always_open"))),
        "by_appointment": int(bool(record.get("by_appointment"))),
        "regions": json.dumps(record.get("regions") or []),
        "languages": json.dumps(record.get("languages") or []),
        **links,
        **{key: record.get(key) or "" for key in TEXT_FIELDS},
        "updated": record.get("updated"),
        "last_verified": record.get("last_verified"),
    }
    schedules = [schedule_row(s) for s in record.get("schedules") or []]
    if schedules and zone is None:
        raise RecordRejected(
            "no time zone: the record names none, the source has no default_timezone and its "
            "place does not tell; its times cannot be placed",
            "timezone",
        )
    types = sorted({code: claim for code, claim in record.get("types") or []}.items())
    contacts = _contacts(record.get("contacts") or [], region, issues)
    areas = [_area_row(a) for a in record.get("service_areas") or []]
    organization = _organization_row(record.get("organization"), issues)
    content = [resource, location, organization, schedules, types, contacts, areas]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return Prepared(
        source_id, resource, location, organization, schedules, types, contacts, areas, digest,
        issues,
    )  # fmt: skip


def plain_text(value: str) -> str:
    """Text as a reader should see it: character references read, HTML tags gone (a block's
    edge or a <br> becomes a line break), runs of spaces one space, at most one blank line."""
    return _tidy(_unmarked(value))


def _unmarked(value: str) -> str:
    for _ in range(3):  # "&amp;#8217;" was escaped twice
        decoded = _REFERENCE.sub(_character, value)
        if decoded == value:
            break
        value = decoded
    for letter in {m.group(1).lower() for m in _BARE_LETTER_TAG.finditer(value)}:
        if f"</{letter}>" in value.lower():
            value = re.sub(f"<{letter}>", "", value, flags=re.I)
    value = _INLINE_TAG.sub(lambda m: " " if m.group().lower()[1:3] in ("td", "th") else "", value)
    return _BREAK_TAG.sub("\n", value)


def _character(reference: re.Match) -> str:
    """The character a reference names; a name HTML does not define stays as written."""
    written = reference.group()
    if written[1] == "#":
        return html.unescape(written)
    return html.entities.html5.get(written[1:], written)


def _tidy(value: str) -> str:
    lines = "\n".join(line.strip() for line in _SPACES.sub(" ", value).split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()


def _without_markup(record: dict, issues: list[Issue]) -> dict:
    """The record with its texts made plain, and one issue naming the fields that changed."""
    changed: list[str] = []

    def plain(value, field_name: str):
        if isinstance(value, str):
            if "&" not in value and "<" not in value:
                return value
            unmarked = _unmarked(value)
            if unmarked == value:
                return value
            if field_name not in changed:
                changed.append(field_name)
            return _tidy(unmarked)
        if isinstance(value, dict):
            return {k: v if k in _NOT_TEXT else plain(v, k) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(plain(item, field_name) for item in value)
        if isinstance(value, list):
            return [plain(item, field_name) for item in value]
        return value

    cleaned = {k: v if k in _NOT_TEXT else plain(v, k) for k, v in record.items()}
    if changed:
        reason = "HTML markup or character references made plain text"
        issues.append(("repaired", ", ".join(changed), reason))
    return cleaned


def _identity(record: dict) -> tuple[str, str, str]:
    """(source id, name, kind), or RecordRejected."""
    source_id = str(record.get("source_id") or "").strip()
    name = str(record.get("name") or "").strip()
    if record.get("test_entry"):
        raise RecordRejected("the source marks this entry as test data; not listed")
    if not source_id or not name:
        raise RecordRejected("record has no id or no name")
    kind = record.get("kind")
    if kind not in KINDS:
        raise RecordRejected(f"unknown kind {kind!r}", "kind")
    attendance = record.get("attendance")
    if attendance is not None and attendance not in ATTENDANCE:
        raise RecordRejected(f"unknown attendance {attendance!r}", "attendance")
    return source_id, name, kind


# ---- links and numbers ----


def web_link(value, field_name: str, issues: list[Issue]) -> str:
    """An http(s) address with a host, or '' with an issue (javascript:, data:, bare words)."""
    url = str(value or "").strip()
    if not url:
        return ""
    if not _WEB_LINK.fullmatch(url):
        issues.append(
            ("repaired", field_name, f"{field_name} {url[:80]!r} is not a web address; ignored")
        )
        return ""
    return url


def dial_in(value, region: str | None, issues: list[Issue]) -> str:
    """A dial-in as '+E164' plus its typed digits (',,123#'), or '' with an issue.

    A string holding two dial strings run together keeps the most complete one when both call
    the same number, else the first, and says so: two numbers are never linked as one.
    """
    raw = re.sub(r"\s+", " ", str(value or "")).strip()
    if not raw:
        return ""
    pieces = [p for p in re.split(r"(?<=[#\d,])\s*(?=\+\d)", raw) if p.strip()]
    dialled = []
    for piece in pieces:
        dial, guessed = _dial_string(piece, region)
        dialled.append((dial, piece))
        if guessed:
            number = dial.split(",")[0]
            issues.append(
                (
                    "repaired",
                    "conference_phone",
                    f"{piece[:30]!r} has no country code; read as {number}",
                )
            )
    usable = [(d, piece) for d, piece in dialled if d]
    if not usable:
        issues.append(
            ("repaired", "conference_phone", f"dial-in {raw[:60]!r} is not a phone number; ignored")
        )
        return ""
    if len(pieces) > 1:
        numbers = {d.split(",")[0] for d, _ in usable}
        chosen = (
            max(usable, key=lambda pair: len(pair[0]))[0] if len(numbers) == 1 else usable[0][0]
        )
        issues.append(
            (
                "repaired",
                "conference_phone",
                f"dial-in {raw[:80]!r} runs {len(pieces)} dial strings together; kept {chosen!r}",
            )
        )
        return chosen
    return usable[0][0]


def _dial_string(piece: str, region: str | None) -> tuple[str, bool]:
    """('+16465588656,,901964988#', whether its country was guessed) from one dial string, or
    ('', False) if its number is not valid."""
    split = _POST_DIAL.search(piece)
    number, typed = (piece[: split.start()], piece[split.start() :]) if split else (piece, "")
    parsed, guessed = _valid_number(number, region)
    if parsed is None:
        return "", False
    typed = re.sub(r"[^0-9#*,]", "", typed.replace(";", ",").lower().replace("p", ","))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) + typed, guessed


def _valid_number(number: str, region: str | None) -> tuple:
    """A valid number, reading "+3017158592" (a plus before a national number with no country
    code, as aasepia.json has for Zoom's US dial-ins) as the region's when only that is valid."""
    for guessed, candidate in ((False, number), (True, number.strip().removeprefix("+"))):
        parsed = _parse_number(candidate, region)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            return parsed, guessed
    return None, False


def _parse_number(number: str, region: str | None):
    try:
        return phonenumbers.parse(number, region or "US")
    except phonenumbers.NumberParseException:
        return None


def phone_number(value: str, region: str | None) -> str | None:
    """A dialable number written the way its country writes it, or None if it is not one.

    Numbers of the searcher's country (or with no country known: US) are written nationally
    ("(800) 662-4357"), others internationally; short codes valid in the region ("988",
    "211") are kept as they are.
    """
    parsed = _parse_number(value, region)
    if parsed is None:
        return None
    if phonenumbers.is_valid_number(parsed):
        home = phonenumbers.region_code_for_number(parsed) == (region or "US")
        style = phonenumbers.PhoneNumberFormat
        return phonenumbers.format_number(parsed, style.NATIONAL if home else style.INTERNATIONAL)
    if shortnumberinfo.is_valid_short_number_for_region(parsed, region or "US"):
        return phonenumbers.national_significant_number(parsed)
    return None


def _contacts(contacts: list[dict], region: str | None, issues: list[Issue]) -> list[dict]:
    """Contact rows; dialled numbers validated and written one way, unreadable ones dropped."""
    rows = []
    for contact in contacts:
        row = {k: str(contact.get(k) or "").strip() for k in ("kind", "value", "extension")}
        row["description"] = str(contact.get("description") or "").strip()
        if not row["value"]:
            continue
        if row["kind"] in DIALLED_KINDS:
            number = phone_number(row["value"], region)
            if number is None:
                issues.append(
                    (
                        "repaired",
                        "contacts",
                        f"{row['value'][:40]!r} is not a phone number; dropped",
                    )
                )
                continue
            row["value"] = number
        rows.append(row)
    return rows


# ---- place and time zone ----


def _place(location: dict | None, geocoder: Geocoder, geocodes: dict) -> Placed | None:
    """The location row with its trusted position, geocoding each distinct place once."""
    if not location:
        return None
    parts = ("source_id", "address", "city", "state", "postal_code", "latitude", "longitude")
    key = (*(str(location.get(k)) for k in parts), bool(location.get("virtual")))
    if key not in geocodes:
        if location.get("virtual"):
            geocodes[key] = Geocode(None, None, "none", "", "online meeting: no place to go")
        else:
            geocodes[key] = resolve_position(location, geocoder)
    found = geocodes[key]
    row = {
        k: (location.get(k) or "")
        for k in (
            "name", "address", "city", "country", "formatted_address", "notes", "transportation",
            "accessibility_text",
        )
    }  # fmt: skip
    row["source_id"] = str(location.get("source_id") or "|".join(key[1:5]))
    if location.get("virtual"):
        # An online meeting's stated area has no position; it must not share a row with an
        # in-person meeting at the same address, or one would unplace the other.
        row["source_id"] += VIRTUAL_SUFFIX
    row["state"] = normalise_state(location.get("state")) or (location.get("state") or "")
    row["country"] = country_of(location) or ""
    row["postal_code"] = (
        normalise_postcode(location.get("postal_code"), row["country"] or None) or ""
    )
    row.update(
        latitude=found.latitude,
        longitude=found.longitude,
        geocode_precision=found.precision,
        geocode_source=found.source,
        geocode_note=found.note,
    )
    stated, _ = read_position(location.get("latitude"), location.get("longitude"))
    return Placed(row, found, stated)


def _zone(
    record: dict, placed: Placed | None, source: dict, issues: list[Issue]
) -> tuple[str | None, str]:
    """The record's IANA zone and where it came from (README "Time zones").

    The record's own zone; else the source's zone (a single-zone source keeps it even where a
    place's coordinates fall in a zone with another clock, and says so); else the zone at the
    coordinates (an online meeting's stated area too); else its ZIP or state.
    """
    stated = record.get("timezone")
    if zone := valid_timezone(stated):
        return _unless_legacy(zone, placed, issues)
    if stated:
        issues.append(("repaired", "timezone", f"time zone {stated!r} is not an IANA zone"))
    by_place, how = _place_zone(placed)
    source_zone = valid_timezone(source.get("default_timezone"))
    if source_zone is None:
        return by_place, how
    if by_place and how == "coordinates" and not same_clock(by_place, source_zone):
        if not source.get("single_zone", True):
            return by_place, how
        issues.append(
            (
                "repaired",
                "timezone",
                f"the place's coordinates are in {by_place}, whose clock differs from the "
                f"source's {source_zone}; the source's zone kept",
            )
        )
    return source_zone, "source"


def _unless_legacy(zone: str, placed: Placed | None, issues: list[Issue]) -> tuple[str, str]:
    """A stated zone, unless it is a legacy name of no place ("EST" keeps no daylight saving,
    "CET") whose clock differs from the place's zone: feeds write "EST" for New York."""
    if "/" in zone:
        return zone, "feed"
    by_place, how = _place_zone(placed)
    if by_place is None or same_clock(zone, by_place):
        return zone, "feed"
    reason = f"time zone {zone!r} names no place and its clock differs from the place's"
    issues.append(("repaired", "timezone", f"{reason} {by_place}; the place's zone used"))
    return by_place, how


def _place_zone(placed: Placed | None) -> tuple[str | None, str]:
    if placed is None:
        return None, "unknown"
    row = placed.row
    lat, lon = row["latitude"], row["longitude"]
    if lat is None and placed.stated_position:  # an online meeting's area still tells its zone
        lat, lon = placed.stated_position
    return timezone_for(
        None, lat, lon, row["state"] or None, row["postal_code"] or None, row["country"] or None
    )


@cache
def same_clock(zone_a: str, zone_b: str, year: int = 2026) -> bool:
    """Whether two zones show the same wall-clock time through a year (New_York and Detroit)."""
    a, b = ZoneInfo(zone_a), ZoneInfo(zone_b)
    return all(
        datetime(year, month, day, 12, tzinfo=a).utcoffset()
        == datetime(year, month, day, 12, tzinfo=b).utcoffset()
        for month, day in _SAMPLE_DAYS
    )


# ---- attendance ----


def _attendance(record: dict, location: dict | None, links: dict, source: dict) -> tuple[str, str]:
    """(attendance, why): as the source states it, else inferred (never 'inactive')."""
    stated = record.get("attendance")
    if stated:
        return stated, record.get("attendance_note") or f"stated by the source ({source['id']})"
    online = bool(links["conference_url"] or links["conference_phone"])
    in_person = location is not None and location.get("latitude") is not None
    if online and in_person:
        return "hybrid", "inferred: an online link or dial-in and a place"
    if online:
        return "online", "inferred: an online link or dial-in and no place"
    if location is None:
        return "online", "inferred: no place to go (a line, a forum or an online service)"
    return "in_person", "inferred: a place and no online link"


# ---- other rows ----


def _area_row(area: dict) -> dict:
    return {
        **{k: area.get(k) or "" for k in ("kind", "code", "name", "state", "description")},
        "geometry": json.dumps(area["geometry"]) if area.get("geometry") else None,
    }


def _organization_row(organization: dict | None, issues: list[Issue]) -> dict | None:
    if not organization or not organization.get("name"):
        return None
    return {
        "source_id": str(organization.get("source_id") or organization["name"]),
        **{k: organization.get(k) or "" for k in ("name", "description")},
        "url": web_link(organization.get("url"), "organization url", issues),
    }
