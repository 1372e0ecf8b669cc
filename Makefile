# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Pytest markers that need Docker or real iconik credentials: never runnable here.
MARKERS := not image_tests and not requires_creds

.PHONY: soak install test lint unit demo emulator image-smoke clean bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Every test: unit (no network), emulator contract tests, end-to-end and the CDK standard suite.
# The standard suite leaves configs in $$TMPDIR/airbyte-test: keep them in build/ and remove them.
test: lint
	mkdir -p build/tmp
	TMPDIR=$(CURDIR)/build/tmp $(PY) -m pytest -m "$(MARKERS)" -q; rc=$$?; rm -rf build/tmp; exit $$rc

unit: $(STAMP)
	$(PY) -m pytest unit_tests -q

# The full reliability runs (20 fault seeds, crash loops, every bad-input case through the real executables,
# 200,000-record load); figures are printed and written to build/reliability-figures.json.
soak: $(STAMP)
	SOAK=1 $(PY) -m reliability_tests.soak

demo: $(STAMP)
	$(PY) -m tools.demo

# What the Docker image does, replayed without Docker: install steps in a fresh venv, then `spec`.
image-smoke: $(STAMP)
	$(PY) -m tools.image_smoke

# Benchmarks against the emulator (bench/README.md); --full runs the issue's sizes.
bench: $(STAMP)
	$(PY) -m bench --quick

emulator: $(STAMP)
	$(PY) -m iconik_emulator --port 8765 --assets 2000 --seed 7

clean:
	rm -rf $(VENV) build demo-bucket .pytest_cache .ruff_cache
