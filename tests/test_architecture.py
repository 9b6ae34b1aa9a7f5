"""The four floors hold (issue #10): import-linter's contracts, and a core that loads no Flask."""

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_import_contracts_are_kept():
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_the_core_imports_without_flask_and_the_summary_without_numba():
    code = (
        "import sys, finder, finder.search, finder.ingest.load, finder.ingest.registry, "
        "finder.geo.where, finder.search.describe\n"
        "loaded = [m for m in ('flask', 'werkzeug', 'numba') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "import finder.search.engine\n"
        "assert 'flask' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
