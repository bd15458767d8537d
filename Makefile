# Two commands: `make run` and `make test`. Everything else is what they stand on.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/setup.cfg)
TEST_PLUGINS := $(wildcard tests/*_plugin/setup.cfg)
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test setup test-setup migrate lint bench clean

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

var:
	mkdir -p var

migrate: setup var
	$(BIN)/totetaxi migrate development.ini

run: migrate
	$(BIN)/pserve development.ini

test: test-setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: test-setup
	$(BIN)/python bench/core_overhead.py

lint: test-setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache
