# Kefu's two commands: `make run` and `make test`. Everything they need is set up here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= decoration
export KEFU_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test install install-test system-deps lint messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

## make run: virtualenv, install, migrate SQLite, load the profile with demo data, serve UI + API + jobs.
run: $(VENV)/.installed system-deps-run
	$(BIN)/kefu migrate --noinput
	$(BIN)/kefu init --profile $(PROFILE) --demo --if-new
	$(BIN)/kefu serve --port $${KEFU_PORT:-8000}

## make test: install what tests need (Debian chromium, CJK fonts included) and run the whole suite:
## SQLite always (unless KEFU_TEST_SQLITE=0), PostgreSQL too when KEFU_TEST_DATABASE_URL is set.
## One pytest-xdist worker per core (KEFU_TEST_WORKERS overrides): serial, the two suites took most of CI's 90 minutes.
test: $(VENV)/.installed-test system-deps
	$(BIN)/ruff check .
	@if [ "$${KEFU_TEST_SQLITE:-1}" != "0" ]; then \
		echo "== test suite on SQLite"; \
		env -u KEFU_DATABASE_URL $(BIN)/pytest -q -n $${KEFU_TEST_WORKERS:-auto} || exit $$?; \
	fi
	@if [ -n "$${KEFU_TEST_DATABASE_URL:-}" ]; then \
		echo "== test suite on $${KEFU_TEST_DATABASE_URL%%:*}"; \
		KEFU_DATABASE_URL="$$KEFU_TEST_DATABASE_URL" $(BIN)/pytest -q -n $${KEFU_TEST_WORKERS:-auto} || exit $$?; \
	fi

system-deps:
	@bash scripts/system-deps.sh test

system-deps-run:
	@bash scripts/system-deps.sh run

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make messages: refresh the English catalogue after changing Chinese source strings.
messages: $(VENV)/.installed
	cd src/kefu && export KEFU_DATA_DIR="$${KEFU_DATA_DIR:-$(CURDIR)/var}" && \
		../../$(BIN)/kefu makemessages -l en --no-obsolete --add-location file && ../../$(BIN)/kefu compilemessages -l en
