# The two commands a new user types: `make run` (the platform and its scenario; `make run
# ARGS=--stop` stops it afterwards) and `make test` (the tests).
# Both set up everything themselves: virtual environment, Python packages, Kafka jars,
# the Postgres cluster and the topics.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test up down status topics contracts venv

run: venv
	$(PY) -m ops run $(ARGS)

test: venv
	$(PY) -m deploy.local up
	$(PY) -m pytest

up: venv
	$(PY) -m deploy.local up

down: venv
	$(PY) -m deploy.local down

status: venv
	$(PY) -m deploy.local status

topics: venv
	$(PY) -m deploy.local topics

contracts: venv
	$(PY) -m schemas.export

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@
