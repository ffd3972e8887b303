# Two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    set up .venv (first time) and run the main job
#   make test   set up .venv (first time) and run the tests
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

# The venv takes ~7 GB (torch's CUDA libraries are most of it). pip keeps no download cache, and torch
# goes in first, so its ~3 GB of downloaded wheels are gone before the rest comes: the disk peaks
# near 9 GB instead of ~14 GB.
PIP := $(PY) -m pip install -q --no-cache-dir

$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	@df -Pk . $${TMPDIR:-/tmp} | awk 'NR>1 { printf "setup: %.1f GB free on %s; the venv needs ~7 GB, ~9 GB while it installs\n", $$4/1048576, $$6 }'
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) $$(grep -E '^(torch|torchvision)==' requirements.txt)
	$(PIP) -r requirements.txt -r requirements-test.txt
	$(PIP) --no-deps -e .
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
