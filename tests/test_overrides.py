"""Local corrections (data/overrides.toml, issue #13): applied at every import, logged, flagged
when the source changes, and refused clearly when malformed."""

import pytest

from finder import create_app
from finder.errors import SourceFormatError
from finder.ingest.overrides import read_overrides
from finder.store import connect

RENAME = """
[[override]]
source = "sussexaa"
source_id = "last-call"
field = "name"
value = "Last Call (Lewes)"
was = "Last Call"
reason = "The group asked the office to add the town"
who = "Sussex County intergroup office"
date = 2026-11-30
"""


def overrides_file(tmp_path, text):
    path = tmp_path / "overrides.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        (RENAME.replace('who = "Sussex County intergroup office"\n', ""), "lacks who"),
        (RENAME.replace('field = "name"', 'field = "program"'), "changes 'program'"),
        ("[[override]\n", "overrides.toml"),
    ],
    ids=["no-who", "unknown-field", "not-toml"],
)
def test_malformed_corrections_are_refused_clearly(tmp_path, text, message):
    with pytest.raises(SourceFormatError, match=message):
        read_overrides(overrides_file(tmp_path, text))


def test_no_file_means_no_corrections(tmp_path):
    assert read_overrides(tmp_path / "missing.toml") == []


def query(db_path, sql):
    """Rows from the published file (a new connection: publishing replaces the file)."""
    db = connect(str(db_path))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def run(tmp_path, db_path, text, *args):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(db_path),
            "OVERRIDES": str(overrides_file(tmp_path, text)),
        }
    )
    return app.test_cli_runner().invoke(args=["import", "sussexaa", *args])


def test_a_correction_is_applied_logged_and_idempotent(tmp_path, db_path):
    result = run(tmp_path, db_path, RENAME)
    assert result.exit_code == 0, result.output
    assert "corrected: 1 ×" in result.output
    name = query(db_path, "select name from resources where source_id = 'last-call'")[0]
    assert name == ("Last Call (Lewes)",)
    logged = query(
        db_path, "select severity, field, reason from import_issues where source_id = 'last-call'"
    )
    assert logged == [
        (
            "corrected",
            "name",
            "name set to 'Last Call (Lewes)' by Sussex County intergroup office on 2026-11-30: "
            "The group asked the office to add the town (the source says 'Last Call')",
        )
    ]
    again = run(tmp_path, db_path, RENAME)
    assert "0 added, 0 updated" in again.output


def test_a_correction_is_flagged_when_the_source_changes(tmp_path, db_path):
    changed = RENAME.replace('was = "Last Call"', 'was = "Last Call Group"')
    result = run(tmp_path, db_path, changed)
    assert result.exit_code == 0
    assert "warning: 1 × the source changed name since the local correction" in result.output
    warning = query(
        db_path,
        "select reason from import_issues where severity = 'warning' and source_id = 'last-call'",
    )[0][0]
    assert "it now says 'Last Call'" in warning and "'Last Call Group'" in warning


def test_no_longer_meets_removes_the_listing_and_a_lost_listing_is_flagged(tmp_path, db_path):
    gone = """
[[override]]
source = "sussexaa"
source_id = "big-book-in-52-weeks"
field = "listed"
value = false
reason = "The church confirmed the group stopped meeting in September"
who = "Sussex County intergroup office"

[[override]]
source = "sussexaa"
source_id = "no-such-meeting"
field = "location.notes"
value = "Side door"
reason = "Reported by the group"
who = "Sussex County intergroup office"
"""
    assert run(tmp_path, db_path, "").exit_code == 0
    result = run(tmp_path, db_path, gone)
    assert result.exit_code == 0, result.output
    assert "1 removed" in result.output
    status = query(
        db_path, "select status from resources where source_id = 'big-book-in-52-weeks'"
    )[0]
    assert status == ("removed",)
    assert "local correction of location.notes for a listing not in this feed" in result.output
