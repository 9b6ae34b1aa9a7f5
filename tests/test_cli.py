"""The flask CLI commands maintainers run."""

import pytest

from finder import create_app

from .conftest import DATA

COMMANDS = ("init-db", "import", "import-file", "build")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(runner, name):
    result = runner.invoke(args=[name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def small_registry(tmp_path, extra=""):
    path = tmp_path / "sources.toml"
    path.write_text(f'''
[[source]]
id = "sussexaa"
name = "Sussex County AA"
format = "meeting_guide"
path = "{DATA / "meeting-guide" / "sussexaa.json"}"
program = "AA"

[[source]]
id = "michigan"
name = "Michigan sample"
format = "meeting_guide"
path = "{DATA / "meeting-guide" / "michigan-sample.json"}"
program = "AA"
{extra}''')
    return path


def cli(tmp_path, registry, database):
    app = create_app({"TESTING": True, "DATABASE": str(database), "SOURCES": str(registry)})
    return app.test_cli_runner()


def test_build_reports_each_source_and_writes_the_database(tmp_path):
    database = tmp_path / "built.db"
    result = cli(tmp_path, small_registry(tmp_path), database).invoke(args=["build"])
    assert result.exit_code == 0, result.output
    assert "sussexaa: 123 in, 123 added" in result.output
    assert "michigan: 46 in, 46 added" in result.output
    assert "geocode precision: rooftop" in result.output
    assert database.exists() and not (tmp_path / "built.db.tmp").exists()


def test_second_import_reports_no_changes(tmp_path):
    runner = cli(tmp_path, small_registry(tmp_path), tmp_path / "f.db")
    runner.invoke(args=["import", "sussexaa"])
    result = runner.invoke(args=["import", "sussexaa"])
    assert "0 added, 0 updated, 123 unchanged, 0 removed" in result.output


def test_unknown_source_is_a_usage_error(tmp_path):
    result = cli(tmp_path, small_registry(tmp_path), tmp_path / "f.db").invoke(
        args=["import", "nope"]
    )
    assert result.exit_code == 2
    assert "unknown source nope; known: sussexaa, michigan" in result.output


def test_broken_source_fails_clearly_and_changes_nothing(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"slug": "a", "name": "A", "day": 1, "time": "10:00"},')
    registry = small_registry(
        tmp_path,
        f'''
[[source]]
id = "broken"
name = "Broken"
format = "meeting_guide"
path = "{broken}"
''',
    )
    database = tmp_path / "f.db"
    runner = cli(tmp_path, registry, database)
    runner.invoke(args=["import", "sussexaa"])
    before = database.read_bytes()
    result = runner.invoke(args=["import", "broken"])
    assert result.exit_code == 1
    assert "broken: import failed, nothing changed: broken.json: not valid JSON" in result.output
    assert database.read_bytes() == before


def test_failed_build_keeps_the_old_database(tmp_path):
    database = tmp_path / "f.db"
    database.write_bytes(b"previous")
    registry = small_registry(
        tmp_path,
        """
[[source]]
id = "missing"
name = "Missing"
format = "meeting_guide"
path = "nowhere.json"
""",
    )
    result = cli(tmp_path, registry, database).invoke(args=["build"])
    assert result.exit_code == 1
    assert "missing" in result.output and "does not exist" in result.output
    assert database.read_bytes() == b"previous"


def test_registry_with_unknown_format_is_refused(tmp_path):
    registry = small_registry(
        tmp_path,
        """
[[source]]
id = "x"
name = "X"
format = "geojson"
path = "x.json"
""",
    )
    result = cli(tmp_path, registry, tmp_path / "f.db").invoke(args=["import", "--all"])
    assert result.exit_code == 1
    assert "unknown format 'geojson'" in result.output


def test_import_file_outside_the_registry(tmp_path):
    runner = cli(tmp_path, small_registry(tmp_path), tmp_path / "f.db")
    result = runner.invoke(
        args=[
            "import-file",
            "--format",
            "meeting_guide",
            "--id",
            "kc",
            "--program",
            "AA",
            str(DATA / "meeting-guide" / "kc.json"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "kc: 206 in, 206 added" in result.output


def test_import_file_will_not_silently_replace_a_registered_source(tmp_path):
    runner = cli(tmp_path, small_registry(tmp_path), tmp_path / "f.db")
    feed = str(DATA / "meeting-guide" / "michigan-sample.json")
    refused = runner.invoke(
        args=["import-file", "--format", "meeting_guide", "--id", "sussexaa", feed]
    )
    assert refused.exit_code == 2 and "is a registered source" in refused.output
    bad_id = runner.invoke(
        args=["import-file", "--format", "meeting_guide", "--id", "Bad id!", feed]
    )
    assert bad_id.exit_code == 2 and "--id must be lowercase" in bad_id.output
    allowed = runner.invoke(
        args=["import-file", "--format", "meeting_guide", "--id", "sussexaa", "--replace", feed]
    )
    assert allowed.exit_code == 0 and "46 added" in allowed.output
