# Atelier: `make run` starts the site, `make test` runs the whole suite, `make bench` measures the engine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
STYLECORE_CACHE ?= var/cache/stylecore
BACKBONE := $(STYLECORE_CACHE)/vgg16_imagenet.pt $(STYLECORE_CACHE)/vgg16_hed.pt
CHROMIUM := /usr/bin/chromium
# onnxruntime-web (package-lock.json) runs the fast presets in the browser; only the files the pages load are served:
# the WebAssembly build, and the WebGPU one (with its own WebAssembly fallback) for browsers that have a GPU adapter.
NPM_STAMP := node_modules/.atelier-installed
ORT_VENDOR := vendor/onnxruntime-web
ORT_FILES := $(addprefix $(ORT_VENDOR)/,ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm \
	ort.webgpu.min.mjs ort-wasm-simd-threaded.asyncify.mjs ort-wasm-simd-threaded.asyncify.wasm)

export STYLECORE_CACHE

.PHONY: run test bench venv backbone browser vendor

run: $(BACKBONE) $(ORT_FILES)
	$(PY) -m scripts.run

test: $(BACKBONE) $(CHROMIUM) $(ORT_FILES)
	$(PY) -m pytest tests/

# Latency, memory and quality diagnostics into docs/benchmarks.md (the peer: pip install -r requirements-bench.txt).
bench: $(BACKBONE)
	$(PY) -m benchmarks bench --sizes 512 1024 2048 4096 --repeats 3

venv: $(STAMP)

backbone: $(BACKBONE)

browser: $(CHROMIUM)

vendor: $(ORT_FILES)

# Re-installs only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements-dev.txt
	touch $@

# Order-only: a requirements change must not re-convert an existing backbone file.
$(BACKBONE) &: | $(STAMP)
	$(PY) -m stylecore backbone

# Re-installs only when node_modules is missing or the lockfile changed; exactly the locked versions.
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18 or later (apt-get install nodejs npm)." >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(ORT_VENDOR)/%: $(NPM_STAMP)
	@mkdir -p $(ORT_VENDOR)
	cp node_modules/onnxruntime-web/dist/$* $@

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update && apt-get install -y chromium; \
	else \
		echo "Chromium is missing: install Debian's chromium package (apt-get install chromium)." >&2; exit 1; \
	fi
