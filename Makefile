# Atelier: `make run` starts the site, `make test` runs the whole suite, `make bench` measures the engine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
STYLECORE_CACHE ?= var/cache/stylecore
BACKBONE := $(STYLECORE_CACHE)/vgg16_imagenet.pt $(STYLECORE_CACHE)/vgg16_hed.pt
CHROMIUM := /usr/bin/chromium

export STYLECORE_CACHE

.PHONY: run test bench venv backbone browser

run: $(BACKBONE)
	$(PY) -m scripts.run

test: $(BACKBONE) $(CHROMIUM)
	$(PY) -m pytest tests/

# Latency, memory and quality diagnostics into docs/benchmarks.md (the peer: pip install -r requirements-bench.txt).
bench: $(BACKBONE)
	$(PY) -m benchmarks bench --sizes 512 1024 2048 4096 --repeats 3

venv: $(STAMP)

backbone: $(BACKBONE)

browser: $(CHROMIUM)

# Re-installs only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements-dev.txt
	touch $@

# Order-only: a requirements change must not re-convert an existing backbone file.
$(BACKBONE) &: | $(STAMP)
	$(PY) -m stylecore backbone

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update && apt-get install -y chromium; \
	else \
		echo "Chromium is missing: install Debian's chromium package (apt-get install chromium)." >&2; exit 1; \
	fi
