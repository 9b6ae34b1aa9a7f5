"""Meeting Guide JSON parsing, on the real bundled feeds and on small broken files."""

import json

import pytest

from finder.importers import Rejected, SourceFormatError
from finder.importers.meeting_guide import derive_attendance, parse

from .conftest import DATA, FIXTURES

FEEDS = DATA / "meeting-guide"


def records(path):
    return [r for r in parse(path) if not isinstance(r, Rejected)]


@pytest.mark.parametrize(
    "feed, count",
    [
        ("aasepia.json", 2038),
        ("aasfmarin.json", 658),
        ("nwta.json", 613),
        ("al-anon.json", 360),
        ("kc.json", 206),
        ("sussexaa.json", 123),
        ("michigan-sample.json", 46),
    ],
)
def test_every_real_meeting_parses(feed, count):
    parsed = list(parse(FEEDS / feed))
    assert len(parsed) == count
    assert not [r for r in parsed if isinstance(r, Rejected)]


def test_sepia_meeting_fields():
    meeting = next(r for r in records(FEEDS / "aasepia.json") if r["name"] == "Chester-Woodlyn")
    assert meeting["schedules"] == [{"day": 0, "time": "00:00", "end_time": "01:00"}]
    assert meeting["location"]["postal_code"] == "19094"
    assert meeting["location"]["city"] == "Woodlyn"
    assert meeting["location"]["state"] == "PA"
    assert meeting["regions"] == ["Delaware County", "Woodlyn"]
    assert ("C", "Meeting Guide type C") in meeting["types"]
    assert meeting["attendance"] == "in_person"


def test_nwta_bracketed_types_and_dotted_state():
    parsed = records(FEEDS / "nwta.json")
    assert {code for r in parsed for code, _ in r["types"]} == {"O", "C"}
    dotted = [r for r in parsed if any(i[1] == "state" for i in r["issues"])]
    assert len(dotted) == 3 and all(r["location"]["state"] == "TX" for r in dotted)


def test_marin_online_meetings_have_no_place():
    online = [r for r in records(FEEDS / "aasfmarin.json") if r["attendance"] == "online"]
    assert len(online) > 400
    marin_city = next(r for r in online if r["source_id"] == "marin-city-fellowship-speaker-619")
    assert marin_city["location"]["virtual"] is True
    assert marin_city["timezone"] == "America/Los_Angeles"
    assert marin_city["conference_url"] == "https://zoom.us/j/530851127"


def test_al_anon_placeholder_links_removed():
    parents = next(r for r in records(FEEDS / "al-anon.json") if r["name"] == "25037 Par ents AFG")
    assert parents["conference_url"] == ""
    assert parents["conference_phone"] == ""
    reasons = {reason for _, _, reason in parents["issues"]}
    assert "placeholder meeting link removed" in reasons


def test_explicit_timezones_fixture():
    parsed = records(FIXTURES / "meeting_guide_timezones.json")
    assert [r["timezone"] for r in parsed] == ["America/Los_Angeles", "America/New_York"]


@pytest.mark.parametrize(
    "online, closed, place, expected",
    [
        (True, False, True, "hybrid"),
        (True, False, False, "online"),
        (True, True, True, "online"),
        (False, True, True, "inactive"),
        (False, False, True, "in_person"),
        (False, False, False, "inactive"),
    ],
)
def test_attendance_is_derived_like_meeting_guide(online, closed, place, expected):
    assert derive_attendance(online, closed, place) == expected


def write(tmp_path, rows):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(rows))
    return path


def test_day_array_gives_one_schedule_per_day(tmp_path):
    path = write(
        tmp_path,
        [
            {
                "slug": "a",
                "name": "A",
                "day": [1, 3],
                "time": "7:05",
                "end_time": "08:00",
                "formatted_address": "1 Main St, Dover, DE 19901",
            }
        ],
    )
    [meeting] = records(path)
    assert [s["day"] for s in meeting["schedules"]] == [1, 3]
    assert meeting["schedules"][0]["time"] == "07:05"


def test_broken_row_is_rejected_with_reason(tmp_path):
    rows = [
        {"slug": "good", "name": "Good", "day": 2, "time": "19:00"},
        {"slug": "bad", "name": "Bad", "day": 9, "time": "19:00"},
        {"slug": "late", "name": "Late", "day": 2, "time": "25:99"},
    ]
    parsed = list(parse(write(tmp_path, rows)))
    rejected = [r for r in parsed if isinstance(r, Rejected)]
    assert [(r.source_id, r.field) for r in rejected] == [("bad", "day"), ("late", "time")]
    assert "0 (Sunday) to 6 (Saturday)" in rejected[0].reason
    assert [r["source_id"] for r in parsed if isinstance(r, dict)] == ["good"]


def test_missing_day_means_by_appointment(tmp_path):
    [meeting] = records(write(tmp_path, [{"slug": "x", "name": "X"}]))
    assert meeting["by_appointment"] is True and meeting["schedules"] == []


def test_html_in_names_stays_text(tmp_path):
    [meeting] = records(
        write(
            tmp_path,
            [{"slug": "x", "name": "<b>Hope</b><script>x</script>", "day": 1, "time": "10:00"}],
        )
    )
    assert meeting["name"] == "<b>Hope</b><script>x</script>"


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"a": 1}', "JSON array"),
    ],
)
def test_unreadable_feed_raises(tmp_path, content, message):
    path = tmp_path / "feed.json"
    path.write_text(content)
    with pytest.raises(SourceFormatError, match=message):
        list(parse(path))


def test_implausible_end_time_is_ignored_with_a_reason():
    mustard = next(
        r
        for r in records(FEEDS / "aasepia.json")
        if r["name"] == "Mustard Seed 2.0" and r["schedules"][0]["day"] == 3
    )
    assert mustard["schedules"][0]["end_time"] is None  # the feed says 12:15 to 01:15
    assert any("would last over 6 hours" in reason for _, _, reason in mustard["issues"])
