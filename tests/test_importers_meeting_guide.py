"""Meeting Guide JSON parsing, on the real bundled feeds and on small broken files."""

import json

import pytest

from finder.errors import SourceFormatError
from finder.ingest.formats import Rejected
from finder.ingest.formats.meeting_guide import derive_attendance, parse

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
    "online, closed, at_address, expected",
    [
        (True, False, True, "hybrid"),
        (True, False, False, "online"),
        (True, True, True, "online"),
        (False, True, True, "inactive"),
        (False, True, False, "inactive"),
        (False, False, True, "in_person"),
        # issue #9: an approximate address is an approximate place, never "temporarily closed"
        (False, False, False, "in_person"),
    ],
)
def test_attendance_is_inferred_like_meeting_guide(online, closed, at_address, expected):
    attendance, why = derive_attendance(online, closed, at_address)
    assert attendance == expected
    assert why.startswith("inferred") or "TC" in why


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


def test_am_pm_slip_in_an_end_time_is_read_as_afternoon():
    mustard = next(
        r
        for r in records(FEEDS / "aasepia.json")
        if r["name"] == "Mustard Seed 2.0" and r["schedules"][0]["day"] == 3
    )
    assert mustard["schedules"][0]["end_time"] == "13:15"  # the feed says 12:15 to 01:15
    assert any("AM/PM slip" in reason for _, _, reason in mustard["issues"])


def meeting(**fields):
    """A Meeting Guide row as the spec describes it (github.com/code4recovery/spec)."""
    return {"slug": "m", "name": "Fictional Group", "day": 2, "time": "19:00", **fields}


FULL_ADDRESS = "10 Example Street, Springfield, IL 62701, USA"


@pytest.mark.parametrize(
    "fields, attendance, approximate",
    [
        # the feed's attendance_option decides, whatever the address looks like
        ({"attendance_option": "in_person", "formatted_address": "Springfield, IL"},
         "in_person", True),
        ({"attendance_option": "inactive", "formatted_address": FULL_ADDRESS}, "inactive", False),
        ({"attendance_option": "online", "formatted_address": FULL_ADDRESS,
          "conference_url": "https://zoom.us/j/1"}, "online", False),
        ({"attendance_option": "hybrid", "formatted_address": FULL_ADDRESS,
          "conference_url": "https://zoom.us/j/1"}, "hybrid", False),
        # approximate: yes/no decides over the address's shape
        ({"approximate": "yes", "formatted_address": FULL_ADDRESS}, "in_person", True),
        ({"approximate": "no", "formatted_address": "Springfield, IL"}, "in_person", False),
        # a building name first, and no house number: still a full address, still meeting
        ({"formatted_address": "Grace Church Hall, Main Street, Springfield, IL 62701, USA"},
         "in_person", False),
        ({"formatted_address": "Lakeside Hospital, Springfield, IL 62701, USA"},
         "in_person", False),
        ({"address": "Grace Church", "city": "Springfield", "state": "IL"}, "in_person", False),
        # a street and a town, as European addresses are written
        ({"formatted_address": "Torstraße 1, 10119 Berlin, Germany"}, "in_person", False),
        # a city alone: an approximate place, not "temporarily not meeting"
        ({"formatted_address": "Springfield, IL"}, "in_person", True),
        # ... unless the place is named as online (aasepia.json: "Virtual Only", no link)
        ({"formatted_address": "Springfield, IL, USA", "location": "Virtual Only"}, "online", True),
        # type TC without an online option is the source saying "temporarily closed"
        ({"types": ["TC"], "formatted_address": FULL_ADDRESS}, "inactive", False),
        ({"types": ["TC"], "formatted_address": FULL_ADDRESS,
          "conference_url": "https://zoom.us/j/1"}, "online", False),
    ],
)  # fmt: skip
def test_attendance_follows_the_feed(tmp_path, fields, attendance, approximate):
    [record] = records(write(tmp_path, [meeting(**fields)]))
    assert record["attendance"] == attendance
    assert record["location"]["approximate"] is approximate
    assert record["attendance_note"]


def test_unknown_attendance_option_is_reported_and_inferred(tmp_path):
    [record] = records(
        write(tmp_path, [meeting(attendance_option="sometimes", formatted_address=FULL_ADDRESS)])
    )
    assert record["attendance"] == "in_person"
    assert any("attendance_option" in reason for _, _, reason in record["issues"])


@pytest.mark.parametrize(
    "time, end_time, expected",
    [
        ("7:30 PM", "8:30 PM", ("19:30", "20:30")),
        ("11:00 AM", "noon", ("11:00", "12:00")),
        ("7pm", "", ("19:00", None)),
        ("19:00:00", "20:00:00", ("19:00", "20:00")),
        ("00:00", "23:59", ("00:00", "23:59")),  # a 24-hour online room keeps its end
        ("23:00", "01:00", ("23:00", "01:00")),  # crosses midnight
        ("09:00", "21:00", ("09:00", "21:00")),  # a marathon keeps its length
        ("19:00", "19:00", ("19:00", None)),  # an end equal to the start says nothing
    ],
)
def test_times_as_published(tmp_path, time, end_time, expected):
    [record] = records(write(tmp_path, [meeting(time=time, end_time=end_time)]))
    schedule = record["schedules"][0]
    assert (schedule["time"], schedule["end_time"]) == expected


def test_twelve_hour_feed_is_not_rejected(tmp_path):
    rows = [
        meeting(slug=f"m{n}", time=t) for n, t in enumerate(["7:00 PM", "7:30pm", "12:00 noon"])
    ]
    parsed = list(parse(write(tmp_path, rows)))
    assert [r["schedules"][0]["time"] for r in parsed] == ["19:00", "19:30", "12:00"]


def test_script_link_is_never_a_join_link(tmp_path):
    [record] = records(
        write(
            tmp_path,
            [meeting(conference_url="javascript:alert(1)", formatted_address=FULL_ADDRESS)],
        )
    )
    assert record["conference_url"] == ""
    assert record["attendance"] == "in_person"
    assert any("not a web address" in reason for _, _, reason in record["issues"])


@pytest.mark.parametrize(
    "formatted, street",
    [
        ("1 Main St, Dover, DE 19901, USA", "1 Main St"),
        ("St John's Baptist Church, 1232 Tasker Street, Philadelphia, PA 19148, USA",
         "1232 Tasker Street"),
        ("Torstraße 1, 10119 Berlin, Germany", "Torstraße 1"),
        ("Herringbone Lane & Station Avenue, Bensalem Township, PA, 19020, USA", ""),
        ("Philadelphia, PA 19103", ""),
    ],
)  # fmt: skip
def test_street_line_of_a_formatted_address(tmp_path, formatted, street):
    [record] = records(write(tmp_path, [meeting(formatted_address=formatted)]))
    assert record["location"]["address"] == street


@pytest.mark.parametrize(
    "fields, regions",
    [
        (
            {"regions": ["Illinois", "Chicago", "Wicker Park"]},
            ["Illinois", "Chicago", "Wicker Park"],
        ),
        ({"regions": "Illinois > Chicago > Wicker Park"}, ["Illinois", "Chicago", "Wicker Park"]),
        ({"regions": "Downtown"}, ["Downtown"]),
        ({"region": "Downtown", "sub_region": "Old Town"}, ["Downtown", "Old Town"]),
        ({}, []),
    ],
)
def test_regions_as_the_spec_and_google_sheets_write_them(tmp_path, fields, regions):
    [record] = records(write(tmp_path, [meeting(**fields)]))
    assert record["regions"] == regions


@pytest.mark.parametrize(
    "fields, position",
    [
        ({"coordinates": "41.9466,-87.7534"}, ("41.9466", "-87.7534")),
        ({"coordinates": "41.9466, -87.7534"}, ("41.9466", "-87.7534")),
        ({"coordinates": "1,2", "latitude": 41.9, "longitude": -87.7}, (41.9, -87.7)),
        ({"coordinates": "Chicago"}, (None, None)),
        ({"latitude": 41.9, "longitude": -87.7}, (41.9, -87.7)),
    ],
)
def test_tsml_ui_coordinates_give_the_position(tmp_path, fields, position):
    row = meeting(formatted_address=FULL_ADDRESS, **fields)
    [record] = records(write(tmp_path, [row]))
    assert (record["location"]["latitude"], record["location"]["longitude"]) == position


def test_a_meeting_without_a_name_is_listed_under_its_groups(tmp_path):
    rows = [meeting(name="", group="Serenity Seekers"), meeting(slug="n", name=" ")]
    parsed = list(parse(write(tmp_path, rows)))
    assert parsed[0]["name"] == "Serenity Seekers"
    assert ("repaired", "name", "meeting has no name; its group's name used") in parsed[0]["issues"]
    assert isinstance(parsed[1], Rejected) and parsed[1].field == "name"


@pytest.mark.parametrize(
    "day, days",
    [(1, [1]), ("1", [1]), ([0, "6"], [0, 6]), ("Monday", [1]), (["sun", "Saturday"], [0, 6])],
)
def test_days_as_numbers_or_english_names(tmp_path, day, days):
    [record] = records(write(tmp_path, [meeting(day=day)]))
    assert [s["day"] for s in record["schedules"]] == days


@pytest.mark.parametrize("day", [7, "-1", "Lunes", "Mo", 1.5])
def test_a_day_that_is_no_day_rejects_the_row(tmp_path, day):
    [rejected] = parse(write(tmp_path, [meeting(day=day)]))
    assert isinstance(rejected, Rejected) and rejected.field == "day"
