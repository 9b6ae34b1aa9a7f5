"""The data-quality command (issue #13) over real bundled feeds."""


def test_quality_reports_each_source(runner, import_bundled):
    import_bundled("nwta")
    import_bundled("samhsa-otp")
    result = runner.invoke(args=["quality"])
    assert result.exit_code == 0, result.output
    nwta = result.output.split("nwta\n", 1)[1].split("samhsa-otp\n", 1)[0]
    assert "listings: meeting 613; attendance: in_person 613" in nwta
    assert "placed (not online-only): rooftop 547, zip 66" in nwta
    assert "18 pairs within the source" in nwta
    assert "over two 613" in nwta
    assert "feed: a bundled file (never refreshed)" in nwta
    otp = result.output.split("samhsa-otp\n", 1)[1]
    assert "rejected in the latest import: 1" in otp
    assert "1 × duplicate of" in otp


def test_quality_of_one_source_and_an_unknown_one(runner, import_bundled):
    import_bundled("michigan")
    result = runner.invoke(args=["quality", "michigan"])
    assert result.exit_code == 0 and result.output.startswith("michigan\n")
    result = runner.invoke(args=["quality", "nope"])
    assert result.exit_code == 2 and "no source nope" in result.output
