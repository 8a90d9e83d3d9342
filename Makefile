# Stockroom: `make run` to try it, `make test` to check it. Needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
TEST_PROCESSES ?= 2
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
MANAGE := $(BIN)/python manage.py

.PHONY: run setup test test-browser lint format bench bench-quick clean help

help:
	@echo "make run    - install, migrate, load demo data, start web + worker + beat"
	@echo "make test   - install test dependencies and run the whole test suite"
	@echo "make test-browser - only the browser smoke (Playwright + /usr/bin/chromium)"
	@echo "make lint   - ruff and a missing-migrations check"
	@echo "make bench  - run the benchmarks under bench/ (prints figures; admin pages at 1M stock items)"
	@echo "make bench-quick - admin page benchmark at 1/20 scale (var/bench-quick, a few minutes)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency pins change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) sync_schedules
	$(MANAGE) load_demo
	$(MANAGE) collectstatic --noinput -v 0

run: setup
	@echo ""
	@echo "  Stockroom is starting at http://127.0.0.1:$(PORT)/admin/"
	@echo "  Demo logins: admin/inventree (superuser), allaccess/nolimits, reader/readonly, engineer/partsonly"
	@echo "  Stop with Ctrl+C."
	@echo ""
	STOCK_OWNERSHIP_CONTROL=$${STOCK_OWNERSHIP_CONTROL:-true} PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho start -f Procfile -p $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) $(PYTEST_ARGS)

# Every admin page as every demo account in headless Chromium (skipped without Chromium)
test-browser: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -p no:xdist -m browser tests/browser $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	@for script in bench/[!_]*.py; do [ -e "$$script" ] || continue; echo "== $$script"; $(BIN)/python "$$script"; done

# 1/20 scale, 5 timed requests per page: figures only, never fails on time
bench-quick: $(VENV)/.installed-dev
	$(BIN)/python bench/admin_pages.py --quick --repeat 5 --warmup 1

clean:
	rm -rf $(VENV) var
