VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install test demo bench lint

# Two stamps: what the demo needs (the pipeline app and Delta), then every extra and the tests.
$(VENV)/.installed-runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[pipeline,delta]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-runtime
	$(PY) -m pip install -q -e '.[test,all]'
	touch $@

install: $(VENV)/.installed-test

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

demo: $(VENV)/.installed-runtime
	$(VENV)/bin/rest-connector demo

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check .
