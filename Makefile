# Two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    set up .venv (first time) and run the main job
#   make test   set up .venv (first time) and run the tests
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-test.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

run: $(VENV)/.installed
	mkdir -p out
	$(VENV)/bin/aigic encode assets/fennec_bottle_sdxlturbo.png -o out/sample.aigic
	$(VENV)/bin/aigic inspect out/sample.aigic
	$(VENV)/bin/aigic decode out/sample.aigic -o out/sample_decoded.png
	$(VENV)/bin/aigic export out/sample.aigic out/layers

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(VENV)/bin/aigic bench $(or $(DIR),../shared/data/aigi_dev)

.PHONY: run test bench
