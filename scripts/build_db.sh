#!/usr/bin/env bash
# Rebuild the database from every source in data/sources.toml (a build artifact, never committed).
# Usage: scripts/build_db.sh [data/finder.db]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
"$BIN/flask" --app finder build --output "${1:-data/finder.db}"
