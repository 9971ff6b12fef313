# Two entry points (see README):  make demo  |  make test
# Both create the virtual environment and install the harness on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Offline mirror of the pinned normative artefacts, when this checkout sits next to one.
MIRROR_DEFAULT := $(abspath $(wildcard ../shared/artefacts))
export CONFORMANCE_ARTEFACTS_MIRROR ?= $(MIRROR_DEFAULT)
SEED ?= 20261127

.PHONY: demo test test-unit campaign lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,docker]'
	@if [ -z "$$CONFORMANCE_ARTEFACTS_MIRROR" ]; then $(BIN)/conformance artefacts sync; fi
	touch $@

## The main job: certify the bundled reference participant (local endpoints, signed report).
demo: $(BIN)/.installed
	$(BIN)/conformance run --participant fixtures/participants/reference.toml --profile peppol-bis

## The project's tests (offline, on the artefact mirror), then the property-based campaign.
test: $(BIN)/.installed
	$(BIN)/python -m pytest -n 2 tests
	$(BIN)/python -m harness.peppol.campaign --count 2000 --seed $(SEED)

test-unit: $(BIN)/.installed
	$(BIN)/python -m pytest -n 2 tests/unit

campaign: $(BIN)/.installed
	$(BIN)/python -m harness.peppol.campaign --count 2000 --seed $(SEED)

lint: $(BIN)/.installed
	$(BIN)/ruff check harness suites tests benchmarks
	$(BIN)/mypy harness

clean:
	rm -rf $(VENV) build *.egg-info
