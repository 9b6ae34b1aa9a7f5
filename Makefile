# Two commands for a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB := data/finder.db
# The database is rebuilt when a bundled data file or the code that imports it (ingest, geo, the
# schema and the shared modules) is newer than it; a change to a view or a kernel does not.
SOURCES := $(shell find data -type f ! -name '*.db*' ! -path 'data/.*' 2>/dev/null) \
  $(shell find finder/ingest finder/geo -name '*.py') \
  $(wildcard finder/paths.py finder/vocabulary.py finder/schedule.py finder/store.py \
    finder/migrations.py finder/messages.py finder/errors.py)

.PHONY: run test db serve clean translations screenshots

# The site under gunicorn and Datasette; `make run PORT=5050 DATASETTE_PORT=8002` for other ports.
run: $(DB)
	$(BIN)/python scripts/serve.py --database $(DB) $(if $(PORT),--site-port $(PORT)) \
	  $(if $(DATASETTE_PORT),--datasette-port $(DATASETTE_PORT))

db: $(DB)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Tests and tools on top: pytest, hypothesis, ruff, Playwright with axe, import-linter.
$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Rebuilt when missing or older than any bundled source; written to a temporary file first.
$(DB): $(VENV)/.installed $(SOURCES)
	scripts/build_db.sh $(DB)

# After changing any text: collect it, merge it into the Spanish catalog, translate, compile.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k ParamError -k GeocodeError --no-location \
	  --sort-output --omit-header -o finder/translations/messages.pot .
	$(BIN)/pybabel update -i finder/translations/messages.pot -d finder/translations -l es \
	  --width 100 --ignore-obsolete
	$(BIN)/pybabel compile -d finder/translations

screenshots: $(DB) $(VENV)/.installed-dev
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) $(DB)
