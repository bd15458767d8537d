# Two commands: `make run` and `make test`. Everything else is what they stand on.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/setup.cfg)
TEST_PLUGINS := $(wildcard tests/*_plugin/setup.cfg)
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

PYTEST_WORKERS ?= 2

.PHONY: run test test-matrix setup test-setup browser-deps migrate lint format bench clean \
	prod chaos soak backup-check

# The platform: core and every plugin under plugins/, editable.
$(STAMP): setup.cfg pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23" "setuptools>=64,<81" wheel
	$(BIN)/python -m pip install --quiet -e . $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

# The suite's extras (pytest, WebTest, ...) and the plugin distributions kept under tests/,
# installed as a third party's plugin would be. `make run` never needs or enables them.
$(TEST_STAMP): $(STAMP) $(TEST_PLUGINS)
	$(BIN)/python -m pip install --quiet -e ".[test]" $(foreach p,$(TEST_PLUGINS),-e $(dir $(p)))
	touch $(TEST_STAMP)

setup: $(STAMP)

test-setup: $(TEST_STAMP)

# Debian's Chromium for tests/browser (never `playwright install`: no browser downloads here).
# Installs only when missing and only as root; otherwise it just says so (the browser tests skip,
# or fail under CI=true).
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "browser-deps: chromium missing; as root: apt-get install chromium"; \
	  fi; }

var:
	mkdir -p var

migrate: setup var
	$(BIN)/totetaxi migrate development.ini

run: migrate
	$(BIN)/pserve development.ini

# Two pytest-xdist workers; every test runs on SQLite, those marked both_databases on PostgreSQL too.
test: lint browser-deps
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The full matrix: every test that uses a database on SQLite and on PostgreSQL.
test-matrix: lint browser-deps
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --matrix $(PYTEST_ARGS)

# The production topology rehearsed on this machine (deploy/rehearsal.py): production.ini's web,
# worker and beat under supervisord, with a PostgreSQL cluster, a Redis and the partners'
# stand-ins of its own on loopback (nothing shared is touched). Ctrl-C stops it all cleanly.
prod: test-setup
	$(BIN)/python deploy/rehearsal.py up

# Faults under load on a throwaway copy of that topology (deploy/chaos.py): Redis stopped, PostgreSQL
# restarted, a worker killed mid-task, webhooks twice and out of order; exits 1 when a check fails.
chaos: test-setup
	$(BIN)/python deploy/chaos.py

# Mixed load on the topology (bench/soak.py): RSS of the app's processes at start and end, p50/p99
# per minute. `make soak SOAK_ARGS="--duration 120"` for a shorter run.
SOAK_ARGS ?=
soak: test-setup
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

# pg_dump of a migrated database with bookings in it, pg_restore into a new one, compared.
backup-check: test-setup
	deploy/backup_restore_check.sh

bench: test-setup
	$(BIN)/python bench/core_overhead.py
	$(BIN)/python bench/notifications.py
	$(BIN)/python bench/logistics.py
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || true
	$(BIN)/python bench/http_load.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/crm_dashboard.py
	$(BIN)/python bench/live.py

# Style (ruff's rules, then its formatter: every file reads alike), then the import contracts of
# pyproject.toml (the core never imports a plugin, plugins are independent, plugins import only
# totetaxi_core.plugin_api). `make format` rewrites what `ruff format --check` refuses.
lint: test-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: test-setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache
