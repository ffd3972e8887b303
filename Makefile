# Two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run        set up .venv (first time) and run the main job
#   make test       set up .venv (first time), lint, and run every test (what CI runs)
#   make test-fast  the edit-test loop: lint and the tests not marked slow (a few minutes)
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

# The venv takes ~7 GB (torch's CUDA libraries are most of it). pip keeps no download cache (a second
# copy of ~3 GB of wheels), and torch goes in first, so its downloaded wheels are gone before the rest
# come. Measured on a fresh clone: the whole `make test` peaked at 7.0 GB of disk.
PIP := $(PY) -m pip install -q --no-cache-dir

$(VENV)/.installed: requirements.txt requirements-test.txt requirements-nodeps.txt pyproject.toml
	@df -Pk . $${TMPDIR:-/tmp} | awk 'NR>1 && !seen[$$6]++ { printf "setup: %.1f GB free on %s; the venv needs ~7 GB\n", $$4/1048576, $$6 }'
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) $$(grep -E '^(torch|torchvision)==' requirements.txt)
	$(PIP) -r requirements.txt -r requirements-test.txt
	$(PIP) --no-deps -r requirements-nodeps.txt
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

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint chromium
	$(PY) -m pytest -q -rs --durations=25

test-fast: lint
	$(PY) -m pytest -q -rs -m "not slow" --durations=10

demo: $(VENV)/.installed
	mkdir -p out
	$(VENV)/bin/aigic encode assets/fennec_bottle_sdxlturbo.png -o out/sample.aigic
	$(VENV)/bin/aigic inspect out/sample.aigic
	$(VENV)/bin/aigic decode out/sample.aigic -o out/sample_decoded.png
	$(VENV)/bin/aigic export out/sample.aigic out/layers

bench: $(VENV)/.installed
	$(VENV)/bin/aigic bench $(or $(DIR),../shared/data/aigi_dev)

.PHONY: run lint test test-fast bench demo chromium
