"""Where the project's files are: the checkout, and the bundled data beside the package."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
