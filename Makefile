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
	$(PY) app.py

# Browser tests drive Debian's chromium: installed here when apt-get can (root on Debian);
# elsewhere they are skipped with the reason printed.
chromium:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "note: chromium not installed (no apt-get or not root): browser tests will be skipped"; }

test: $(VENV)/.installed chromium
	$(PY) -m pytest -q -rs

demo: $(VENV)/.installed
	mkdir -p out
	$(VENV)/bin/aigic encode assets/fennec_bottle_sdxlturbo.png -o out/sample.aigic
	$(VENV)/bin/aigic inspect out/sample.aigic
	$(VENV)/bin/aigic decode out/sample.aigic -o out/sample_decoded.png
	$(VENV)/bin/aigic export out/sample.aigic out/layers

bench: $(VENV)/.installed
	$(VENV)/bin/aigic bench $(or $(DIR),../shared/data/aigi_dev)

.PHONY: run test bench demo chromium
