# Two commands: `make run` and `make test`. Everything else is what they stand on.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/setup.cfg)
TEST_PLUGINS := $(wildcard tests/*_plugin/setup.cfg)
STAMP := $(VENV)/.installed

.PHONY: run test setup migrate lint bench clean ci

$(STAMP): setup.cfg pyproject.toml $(PLUGINS) $(TEST_PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23" "setuptools>=64,<81" wheel
	$(BIN)/python -m pip install --quiet -e ".[test]" $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

setup: $(STAMP)

var:
	mkdir -p var

migrate: setup var
	$(BIN)/totetaxi migrate development.ini

run: migrate
	$(BIN)/pserve development.ini

# The example plugins under tests/ are installed for the suite only (they prove plugins from
# outside the repository work); `make run` never enables them.
test: setup
	$(BIN)/python -m pip install --quiet $(foreach p,$(TEST_PLUGINS),-e $(dir $(p)))
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m pip install --quiet $(foreach p,$(TEST_PLUGINS),-e $(dir $(p)))
	$(BIN)/python bench/core_overhead.py

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache
