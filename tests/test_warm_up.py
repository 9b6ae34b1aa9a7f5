"""After the warm-up that precedes "Search ready", no search compiles anything.

Run in a fresh process (kernels compiled by earlier tests would hide a gap): warm up, then a
diverse set of searches that the warm-up does not make, at ordinary times and on both DST
changes, counting the compiled versions of every kernel (a new one is a compile, or a load from
numba's disk cache: either is a stall on someone's search).
"""

import json
import subprocess
import sys

from finder.ingest.registry import import_source
from finder.store import connect, init_db

from .conftest import ROOT

SEARCHES = [
    f"/api/search?{query}"
    for query in (
        "q=19103",
        "q=19103&when=today&order=nearest&limit=100",
        "q=19103&when=at&day=friday&time=23:45&hours=8",
        "q=19103&attendance=hybrid&type=O&not=C",
        "q=Lubbock%2C+TX&kind=meeting&program=AA&radius=3&widen=no",
        "q=79401&when=any&kind=center&kind=warmline",
        "lat=40.7&lon=-73.9&when=now&attendance=online&program=NA",
        "tz=Europe/London&attendance=online",
        "tz=America/Los_Angeles&when=at&day=monday&time=06:00&attendance=online",
        "q=Philadelphia%2C+PA&when=today&kind=online_forum",
        "q=10001&radius=500&unit=km&order=soonest",
        "q=94110&when=any&attendance=in_person",
    )
] + ["/search?q=19103&when=today&lang=es", "/map?q=10001&when=any", "/lines?lang=es"]

PROGRAM = """
import json, sys
from numba.core.dispatcher import Dispatcher
from finder import create_app
from finder.search import kernels
from finder.web.serving import warm_up

def versions():
    return sum(len(k.overloads) for k in vars(kernels).values() if isinstance(k, Dispatcher))

counts = {"before warm-up": versions()}
for frozen in (None, "2026-11-01T01:30:00-04:00", "2026-03-08T01:59:00-05:00"):
    app = create_app({"DATABASE": sys.argv[1], "FROZEN_NOW": frozen})
    if frozen is None:
        warm_up(app)
    client = app.test_client()
    ready = versions()
    for path in json.loads(sys.argv[2]):
        assert client.get(path).status_code == 200, path
    counts[frozen or "now"] = versions() - ready
print(json.dumps(counts))
"""


def test_no_search_compiles_after_the_warm_up(tmp_path, registry, geocoder):
    database = tmp_path / "finder.db"
    db = connect(str(database))
    init_db(db)
    for source in ("aasepia", "nwta", "national-lines"):
        import_source(db, registry[source], geocoder)
    db.close()
    finished = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(database), json.dumps(SEARCHES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    counts = json.loads(finished.stdout.splitlines()[-1])
    assert counts.pop("before warm-up") == 0
    assert counts == {"now": 0, "2026-11-01T01:30:00-04:00": 0, "2026-03-08T01:59:00-05:00": 0}
