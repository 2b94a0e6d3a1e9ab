# The two commands a new user types: `make run` (the platform and its scenario, left running;
# `make run ARGS=--stop` stops it afterwards) and `make test` (the tests). The tests run on a
# test stack of their own (`.stack-test/`, every port + 50), so they never touch a platform
# that `make run` left running; `make down` stops both.
# Both set up everything themselves: virtual environment, Python packages, Kafka jars,
# Keycloak, the Postgres cluster and the topics. Ports and state dirs: README ("Ports").

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test check chaos bench up down status topics contracts venv browser asyncapi screenshots

run: venv
	$(PY) -m ops run $(ARGS)

test: venv browser asyncapi
	$(PY) -m deploy.local --tests up
	$(PY) -m pytest

# The portal's browser tests (tests/e2e/browser): Debian's Chromium and chromedriver, installed
# when missing (no browser is downloaded at run time), and axe-core from npm, by its lock file.
browser:
	command -v chromedriver >/dev/null || apt-get install -y -q chromium chromium-driver \
		|| (apt-get update -q && apt-get install -y -q chromium chromium-driver)
	test -f tests/e2e/browser/node_modules/axe-core/axe.min.js \
		|| npm ci --prefix tests/e2e/browser --no-audit --no-fund

# The AsyncAPI Initiative's parser, which tests/unit/test_asyncapi_documents.py runs on
# schemas/asyncapi/: from npm, by its lock file.
asyncapi:
	test -f tests/unit/asyncapi/node_modules/@asyncapi/parser/package.json \
		|| npm ci --prefix tests/unit/asyncapi --no-audit --no-fund --ignore-scripts

# A PNG of each of the portal's pages (the consent centre in English and German) in
# docs/screenshots/, taken by the browser tests on the test stack.
screenshots: venv browser
	$(PY) -m deploy.local --tests up
	PORTAL_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/e2e/browser/test_pages.py

# Lint (ruff), types (mypy over services/, schemas/, harness/ and benchmarks/, and what they
# import of deploy/ and ops/; strict for the runtime, the domain modules and the contracts) and
# the import floors of docs/architecture.md (import-linter). CI runs it before the tests.
check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The reliability tests' full form (docs/reliability.md): over 20,000 inputs a run while
# services are killed, the broker and the database restarted, a replica lost; thousands of
# bad inputs; the security checks. About 6 minutes. Crash figures go to
# $$ADVOCACY_CHAOS_FIGURES (default: figures.json in pytest's tmp dir).
chaos: venv
	$(PY) -m deploy.local --tests up
	ADVOCACY_FULL_RUN=1 $(PY) -m pytest tests/e2e/crash tests/e2e/bad_input tests/integration/security

# Benchmarks (not part of `make test`): about half an hour on two cores (the 10M-entry ledger, a year of metrics); figures in bench/results.json.
# The redirect's load generator is wrk, from Debian's packages.
bench: venv
	command -v wrk >/dev/null || apt-get install -y -q wrk
	$(PY) -m deploy.local up
	$(PY) -m benchmarks $(ARGS)

up: venv
	$(PY) -m deploy.local up

# Both stacks, the platform's and the tests'; ARGS=--purge deletes their data too.
down: venv
	$(PY) -m deploy.local down $(ARGS)
	$(PY) -m deploy.local --tests down $(ARGS)

status: venv
	$(PY) -m deploy.local status

topics: venv
	$(PY) -m deploy.local topics

contracts: venv
	$(PY) -m services.export

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@
