"""Meeting Guide JSON (code4recovery spec; 12 Step Meeting List, TSML UI, Meeting Guide app)."""

import re
from collections.abc import Iterator
from pathlib import Path

from ..geo import country_of, normalise_state, parse_place_text
from ..schedule import duration
from ..vocabulary import normalise_type_code
from . import Rejected, SourceFormatError
from .common import RowError, read_json, text

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
MAX_MEETING_MINUTES = 6 * 60
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::\d{2})?\s*$")


def parse(path: str | Path) -> Iterator[dict | Rejected]:
    """Yield one normalised record (or a Rejected row) per meeting in a Meeting Guide feed."""
    rows = _read(Path(path))
    seen: dict[str, int] = {}
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield Rejected(None, "row is not a JSON object", row=index)
            continue
        source_id = str(row.get("slug") or row.get("id") or "").strip()
        if not source_id:
            yield Rejected(None, "no slug or id", row=index, field="slug")
            continue
        if source_id in seen:
            yield Rejected(
                source_id,
                f"duplicate slug (first at row {seen[source_id]})",
                row=index,
                field="slug",
            )
            continue
        seen[source_id] = index
        try:
            yield _record(row, source_id)
        except ValueError as error:
            yield Rejected(source_id, str(error), row=index, field=getattr(error, "field", None))


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
    if not name:
        raise RowError("name", "meeting has no name")
    schedules, by_appointment = _schedules(row, issues)
    types = _types(row.get("types"), issues)
    codes = {code for code, _ in types}
    conference_url = _conference_url(text(row.get("conference_url")), issues)
    conference_phone = _conference_phone(text(row.get("conference_phone")), issues)
    location = _location(row, issues)
    attendance = derive_attendance(
        bool(conference_url or conference_phone), "TC" in codes, _is_specific(location)
    )
    if location is not None and attendance == "online" and not _is_specific(location):
        location["virtual"] = True  # keep the area for its time zone, but there is nowhere to go
    return {
        "source_id": source_id,
        "kind": "meeting",
        "name": name,
        "description": text(row.get("notes")),
        "attendance": attendance,
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
        "feedback_url": _feedback_url(text(row.get("feedback_url"))),
        "updated": text(row.get("updated")) or None,
        "regions": _regions(row),
        "issues": issues,
    }


def derive_attendance(online: bool, temporarily_closed: bool, specific_place: bool) -> str:
    """Attendance as the Meeting Guide ecosystem derives it (TSML UI's attendance_option)."""
    in_person = specific_place and not temporarily_closed
    if online and in_person:
        return "hybrid"
    if online:
        return "online"
    return "in_person" if in_person else "inactive"


def _schedules(row: dict, issues: list) -> tuple[list[dict], bool]:
    days = row.get("day")
    if days in (None, "", []):
        return [], True  # the spec: no day means "by appointment"
    days = days if isinstance(days, list) else [days]
    start = _time(row.get("time"), "time")
    if start is None:
        raise RowError("time", "meeting has a day but no time")
    end = None
    if text(row.get("end_time")):
        try:
            end = _time(row.get("end_time"), "end_time")
        except RowError as error:
            issues.append(("repaired", "end_time", f"{error}; end time ignored"))
    if end and duration(start, end) > MAX_MEETING_MINUTES:
        # aasepia.json: "12:15" to "01:15" (a slip for 13:15) would be "in progress" for 13 hours
        issues.append(
            ("repaired", "end_time", f"{start}-{end} would last over 6 hours; end time ignored")
        )
        end = None
    schedules = []
    for day in days:
        try:
            day_number = int(str(day).strip())
        except ValueError:
            day_number = -1
        if not 0 <= day_number <= 6:
            raise RowError("day", f"day {day!r} is not 0 (Sunday) to 6 (Saturday)")
        schedules.append({"day": day_number, "time": start, "end_time": end})
    return schedules, False


def _time(value, field: str) -> str | None:
    raw = text(value)
    if not raw:
        return None
    match = _TIME.match(raw)
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise RowError(field, f"{field} {raw!r} is not a time (HH:MM)")
    hours = int(match.group(1)) % 24
    return f"{hours:02d}:{match.group(2)}"


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


def _feedback_url(url: str) -> str:
    """The source's own correction form for this meeting; only web links are kept."""
    return url if re.match(r"^https?://", url, re.I) else ""


def _conference_url(url: str, issues: list) -> str:
    if not url:
        return ""
    if not re.match(r"^https?://", url, re.I):
        issues.append(("repaired", "conference_url", f"{url[:60]!r} is not a web link; ignored"))
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
        "latitude": row.get("latitude"),
        "longitude": row.get("longitude"),
        "approximate": text(row.get("approximate")).lower() == "yes",
        "notes": text(row.get("location_notes")),
    }
    if not (location["source_id"] or location["latitude"] not in (None, "")):
        return None
    location["country"] = country_of(location) or ""  # from the record, never a default (#9)
    return location


def _street(formatted: str) -> str:
    first = formatted.split(",")[0].strip() if formatted else ""
    return first if re.match(r"^\d", first) else ""


def _is_specific(location: dict | None) -> bool:
    return bool(location) and not location["approximate"] and bool(location["address"])


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
    if isinstance(regions, list):
        return [text(r) for r in regions if text(r)]
    return [r for r in (text(row.get("region")), text(row.get("sub_region"))) if r]
