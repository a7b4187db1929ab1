# Two commands: `make up` runs the platform, `make test` runs the whole suite. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed

.PHONY: install up test test-slow protos protos-check bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# tensorflow-serving-api declares a dependency on the full `tensorflow` package, which would sit beside
# tensorflow-cpu; it is pure generated protobuf code, so it is installed without its dependencies.
$(STAMP): $(PY) pyproject.toml $(CONSTRAINTS)
	$(PIP) install -c $(CONSTRAINTS) -e '.[serve,train,dev]'
	$(PIP) install -c $(CONSTRAINTS) --no-deps tensorflow-serving-api
	touch $(STAMP)

install: $(STAMP)

up: install
	$(PY) -m servectl up

test: install
	$(PY) -m pytest -m "not slow" -q

test-slow: install
	$(PY) -m pytest -m slow -q

protos: install
	$(PY) -m protos.generate

protos-check: install
	$(PY) -m protos.generate --check

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
