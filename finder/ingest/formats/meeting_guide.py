"""Meeting Guide JSON (code4recovery spec; 12 Step Meeting List, TSML UI, Meeting Guide app)."""

import re
from collections.abc import Iterator
from pathlib import Path

from finder.errors import SourceFormatError, TimeFormatError
from finder.geo.offline import country_of, normalise_state, parse_place_text
from finder.ingest.formats import Rejected
from finder.ingest.formats.common import (
    COUNTRY_NAMES,
    WEEKDAY_NAMES,
    RowError,
    check_sizes,
    fold,
    read_json,
    temporarily_closed,
    text,
)
from finder.ingest.prepare import web_link
from finder.schedule import parse_time, settle_end
from finder.vocabulary import normalise_type_code

# Conference providers the Meeting Guide ecosystem recognises as joinable online meetings.
CONFERENCE_HOSTS = (
    "zoom.us",
    "zoom.com",
    "meet.google.com",
    "teams.microsoft.com",
    "teams.live.com",
    "webex.com",
    "gotomeeting.com",
    "gotomeet.me",
    "skype.com",
    "discord.gg",
    "discord.com",
    "whereby.com",
    "meet.jit.si",
    "freeconferencecall.com",
    "bluejeans.com",
    "signal.group",
    "chat.whatsapp.com",
    "facebook.com",
    "meet.goto.com",
    "app.gotomeeting.com",
    "us02web.zoom.us",
)
_PLACEHOLDER = re.compile(r"1234567890|123 ?4567 ?890|0000000000")
# A location named "Virtual Only" or "Online (Zoom)" with no street address is not a place to go.
_VIRTUAL_PLACE = re.compile(r"\b(virtual|online|zoom|remote)\b", re.I)
_HOUSE_NUMBER = re.compile(r"(?<![\w-])\d+[A-Za-z]?(?![\w-])")
ATTENDANCE_OPTIONS = ("in_person", "hybrid", "online", "inactive")
# TSML UI: an address of fewer parts than "street, city, state ZIP, country" is approximate.
FULL_ADDRESS_PARTS = 4


def parse(path: str | Path) -> Iterator[dict | Rejected]:
    """Yield one normalised record (or a Rejected row) per meeting in a Meeting Guide feed."""
    rows = _read(Path(path))
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield Rejected(None, "row is not a JSON object", row=index)
            continue
        source_id = str(row.get("slug") or row.get("id") or "").strip()
        if not source_id:
            yield Rejected(None, "no slug or id", row=index, field="slug")
            continue
        try:
            check_sizes(row)
            yield _record(row, source_id)
        except RowError as error:
            yield Rejected(source_id, str(error), row=index, field=error.field)


def office_phone(path: str | Path) -> str | None:
    """The office line of the service entity behind the feed: the spec has no feed-level fields,
    but each meeting may carry ``entity_phone`` ("the phone number of the service entity
    responsible for the listing"); when every meeting that gives one gives the same, that is the
    source's office line. None when none does, or they differ (a feed of several entities)."""
    rows = _read(Path(path))
    phones = {
        str(r["entity_phone"]).strip()
        for r in rows
        if isinstance(r, dict) and r.get("entity_phone")
    }
    return phones.pop() if len(phones) == 1 else None


def _read(path: Path) -> list:
    data = read_json(path)
    if isinstance(data, dict) and isinstance(data.get("meetings"), list):
        data = data["meetings"]
    if not isinstance(data, list):
        raise SourceFormatError(f"{path.name}: a Meeting Guide feed is a JSON array of meetings")
    return data


def _record(row: dict, source_id: str) -> dict:
    issues: list[tuple[str, str, str]] = []
    name = text(row.get("name"))
    if not name and text(row.get("group")):
        # the spec: "some areas use group names instead"; TSML UI lists such a meeting
        name = text(row.get("group"))
        issues.append(("repaired", "name", "meeting has no name; its group's name used"))
    if not name:
        raise RowError("name", "meeting has no name")
    schedules, by_appointment = _schedules(row, issues)
    types = _types(row.get("types"), issues)
    codes = {code for code, _ in types}
    conference_url = _conference_url(
        web_link(row.get("conference_url"), "conference_url", issues), issues
    )
    conference_phone = _conference_phone(text(row.get("conference_phone")), issues)
    location = _location(row, issues)
    attendance, attendance_note = _attendance(
        row, bool(conference_url or conference_phone), "TC" in codes, location, issues
    )
    if location is not None and attendance == "online":
        location["virtual"] = True  # keep the area for its time zone, but there is nowhere to go
    return {
        "source_id": source_id,
        "kind": "meeting",
        "name": name,
        "description": text(row.get("notes")),
        "attendance": attendance,
        "attendance_note": attendance_note,
        "location": location,
        "organization": _group(row),
        "schedules": schedules,
        "by_appointment": by_appointment,
        "timezone": text(row.get("timezone")) or None,
        "types": types,
        "conference_url": conference_url,
        "conference_url_notes": text(row.get("conference_url_notes")),
        "conference_phone": conference_phone,
        "conference_phone_notes": text(row.get("conference_phone_notes")),
        "url": text(row.get("url")),
        "feedback_url": text(row.get("feedback_url")),
        "updated": text(row.get("updated")) or None,
        "regions": _regions(row),
        "issues": issues,
    }


def _attendance(
    row: dict, online: bool, closed_for_now: bool, location: dict | None, issues: list
) -> tuple[str, str]:
    """(attendance, why): the feed's ``attendance_option`` when given, else inferred."""
    stated = text(row.get("attendance_option")).lower()
    if stated in ATTENDANCE_OPTIONS:
        return stated, f"the feed's attendance_option {stated!r}"
    if stated:
        issues.append(
            ("repaired", "attendance_option", f"unknown attendance_option {stated!r}; inferred")
        )
    approximate = location is None or location["approximate"]
    if not online and approximate and _VIRTUAL_PLACE.search(text(row.get("location"))):
        place = text(row.get("location"))
        return "online", f"inferred: the place is named {place!r} and no street address is given"
    return derive_attendance(online, closed_for_now, not approximate)


def derive_attendance(online: bool, closed_for_now: bool, at_address: bool) -> tuple[str, str]:
    """(attendance, why) when the feed does not say: from the links, type TC and the address.

    As TSML UI: online with a link or dial-in; in person at a full (not approximate) address
    unless temporarily closed (type TC). Unlike it, a meeting with neither is never "inactive":
    only the source says that (TC with no online option). An approximate address with no online
    option is taken as in person at an approximate place.
    """
    if closed_for_now:
        return temporarily_closed(online, "type TC")
    if online and at_address:
        return "hybrid", "inferred: an online option and a full street address"
    if online:
        return "online", "inferred: an online option and no full street address"
    if at_address:
        return "in_person", "inferred: a full street address and no online option"
    return "in_person", "inferred: no online option; the address is approximate"


def _schedules(row: dict, issues: list) -> tuple[list[dict], bool]:
    days = row.get("day")
    if days in (None, "", []):
        return [], True  # the spec: no day means "by appointment"
    days = days if isinstance(days, list) else [days]
    if len(days) > 7:
        raise RowError("day", f"day lists {len(days)} days; a week has 7")
    start = _time(row.get("time"), "time")
    if start is None:
        raise RowError("time", "meeting has a day but no time")
    end = None
    if text(row.get("end_time")):
        try:
            end = _time(row.get("end_time"), "end_time")
        except RowError as error:
            issues.append(("repaired", "end_time", f"{error}; end time ignored"))
    end, changed = settle_end(start, end)
    if changed:
        issues.append(("repaired", "end_time", changed))
    schedules = []
    for day in days:
        written = str(day).strip()
        try:
            day_number = int(written)
        except ValueError:  # a day's English name, as Google Sheet feeds write it
            day_number = WEEKDAY_NAMES.get(written.lower(), -1)
        if not 0 <= day_number <= 6:
            raise RowError("day", f"day {day!r} is not 0 (Sunday) to 6 (Saturday)")
        schedule = {"day": day_number, "time": start, "end_time": end}
        if schedule not in schedules:
            schedules.append(schedule)
    return schedules, False


def _time(value, field: str) -> str | None:
    raw = text(value)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except TimeFormatError as error:
        raise RowError(field, f"{field} {error}") from None


def _types(value, issues: list) -> list[tuple[str, str]]:
    if value is None:
        return []
    raw = value if isinstance(value, list) else re.split(r"[,;]", str(value))
    found: dict[str, str] = {}
    for item in raw:
        item = text(item)
        if not item:
            continue
        code = normalise_type_code(item)
        if code is None:
            issues.append(("repaired", "types", f"unknown type code {item!r} ignored"))
        elif code not in found:
            found[code] = f"Meeting Guide type {item}"
    return list(found.items())


def _conference_url(url: str, issues: list) -> str:
    if not url:
        return ""
    if _PLACEHOLDER.search(url):
        issues.append(("repaired", "conference_url", "placeholder meeting link removed"))
        return ""
    host = re.sub(r"^https?://([^/?#]+).*$", r"\1", url, flags=re.I).lower()
    if not any(host == h or host.endswith("." + h) for h in CONFERENCE_HOSTS):
        issues.append(
            (
                "repaired",
                "conference_url",
                f"{host} is not a recognised meeting service; kept as the meeting's web link",
            )
        )
    return url


def _conference_phone(phone: str, issues: list) -> str:
    if phone and _PLACEHOLDER.search(re.sub(r"[^0-9 ]", "", phone)):
        issues.append(("repaired", "conference_phone", "placeholder dial-in number removed"))
        return ""
    return phone


def _location(row: dict, issues: list) -> dict | None:
    formatted = text(row.get("formatted_address"))
    parsed = parse_place_text(formatted) if formatted else {}
    state_raw = text(row.get("state")) or parsed.get("state")
    state = normalise_state(state_raw)
    if state_raw and state and state_raw != state and len(state_raw) <= 4:
        issues.append(("repaired", "state", f"state {state_raw!r} read as {state}"))
    location = {
        "source_id": text(row.get("location_id"))
        or formatted
        or " ".join(text(row.get(k)) for k in ("location", "address", "city", "state")).strip(),
        "name": text(row.get("location")),
        "address": text(row.get("address")) or _street(formatted),
        "city": text(row.get("city")) or parsed.get("city", ""),
        "state": state or state_raw or "",  # a province abroad ("AB") is kept as written
        "postal_code": text(row.get("postal_code")) or parsed.get("postalcode", ""),
        "country": text(row.get("country")),
        "county": text(row.get("county")),
        "formatted_address": formatted,
        # as given: the geocoder judges them and notes why it replaces them
        **_position(row),
        "approximate": _approximate(row, formatted),
        "notes": text(row.get("location_notes")),
    }
    if not (location["source_id"] or location["latitude"] not in (None, "")):
        return None
    location["country"] = country_of(location) or ""  # from the record, never a default (#9)
    return location


def _position(row: dict) -> dict:
    """latitude and longitude, or TSML UI's "coordinates": "lat,lng" (Google Sheet feeds)."""
    if row.get("latitude") in (None, "") and row.get("longitude") in (None, ""):
        parts = text(row.get("coordinates")).split(",")
        if len(parts) == 2:
            return {"latitude": parts[0].strip(), "longitude": parts[1].strip()}
    return {"latitude": row.get("latitude"), "longitude": row.get("longitude")}


def _street(formatted: str) -> str:
    """The street line of a formatted address: the first part before the city with a house
    number, wherever it stands ("1 Main St", "Torstraße 1", after a building's name)."""
    parts = [p.strip() for p in formatted.split(",") if p.strip()]
    candidates = parts[:-2] or parts[:1]
    return next((p for p in candidates if _HOUSE_NUMBER.search(p)), "")


def _approximate(row: dict, formatted: str) -> bool:
    """The feed's ``approximate`` (yes/no) when given, else TSML UI's rule on the address.

    TSML UI counts "street, city, state ZIP, country" (four parts) as a full address; feeds that
    leave the country off ("1 Main St, Dover, DE 19901") are counted without it, so a full
    address is three parts before any country, or two where the first has a house number
    (Europe has no states: "Torstraße 1, 10119 Berlin, Germany").
    """
    stated = row.get("approximate")
    if isinstance(stated, bool):
        return stated
    if text(stated).lower() in ("yes", "no"):
        return text(stated).lower() == "yes"
    if formatted:
        parts = [p.strip() for p in formatted.split(",") if p.strip()]
    else:
        state_zip = " ".join(text(row.get(k)) for k in ("state", "postal_code")).strip()
        parts = [text(p) for p in (row.get("address"), row.get("city"), state_zip) if text(p)]
    if parts and fold(parts[-1]) in COUNTRY_NAMES:
        parts = parts[:-1]
    street_and_town = len(parts) == 2 and bool(_HOUSE_NUMBER.search(parts[0]))
    return len(parts) < FULL_ADDRESS_PARTS - 1 and not street_and_town


def _group(row: dict) -> dict | None:
    name = text(row.get("group"))
    if not name:
        return None
    return {
        "source_id": text(row.get("group_id")) or name,
        "name": name,
        "description": text(row.get("group_notes")),
    }


def _regions(row: dict) -> list[str]:
    regions = row.get("regions")
    if isinstance(regions, str):  # a Google Sheet's "Illinois > Chicago > Wicker Park"
        regions = regions.split(">")
    if isinstance(regions, list):
        return [text(r) for r in regions if text(r)]
    return [r for r in (text(row.get("region")), text(row.get("sub_region"))) if r]
