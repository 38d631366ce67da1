# Sight: dwa polecenia z README — `make run` i `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Pierwszy interpreter 3.12+ z: $(PYTHON), .python-version (pyenv), python3.13, python3.12, python3.
PYTHON ?= $(shell for p in "$$HOME/.pyenv/versions/$$(cat .python-version 2>/dev/null)/bin/python" python3.13 python3.12 python3; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v "$$p"; break; }; done)

.PHONY: run test install lint messages clean-data check bench

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Sight needs Python 3.12 or newer (Django 6). Install it, or run: make PYTHON=/path/to/python3.12 ..." >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m sight.devstack run

test: $(STAMP)
	$(PY) -m sight.devstack test $(ARGS)

bench: $(STAMP)
	$(PY) -m sight.devstack bench $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

check: $(STAMP)
	$(PY) -m sight.devstack manage check

messages: $(STAMP)
	$(PY) -m sight.devstack manage makemessages -l pl --ignore=.venv --ignore=.data
	$(PY) -m sight.devstack manage compilemessages --ignore=.venv

clean-data:
	rm -rf .data
