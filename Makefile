# Two entry points (see README):  make demo  |  make test
# Both create the virtual environment and install the harness on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Offline mirror of the pinned normative artefacts, when this checkout sits next to one (or the
# machine has one at /work/shared/artefacts); otherwise the pinned files are downloaded.
MIRROR_DEFAULT := $(patsubst %/MANIFEST.json,%,$(firstword $(wildcard $(abspath ../shared/artefacts)/MANIFEST.json /work/shared/artefacts/MANIFEST.json)))
export CONFORMANCE_ARTEFACTS_MIRROR ?= $(MIRROR_DEFAULT)
SEED ?= 20261127

.PHONY: demo test test-unit campaign artefacts lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,docker]'
	touch $@

# Without a mirror, fetch (and verify by SHA-256) the pinned artefacts into the cache; files
# already there are only verified.
artefacts: $(BIN)/.installed
	@if [ -z "$$CONFORMANCE_ARTEFACTS_MIRROR" ]; then $(BIN)/conformance artefacts sync; \
	else echo "artefact mirror: $$CONFORMANCE_ARTEFACTS_MIRROR"; fi

## The main job: certify the bundled reference participant (local endpoints, signed report).
demo: artefacts
	$(BIN)/conformance run --participant fixtures/participants/reference.toml --profile peppol-bis

## The project's tests (offline, on the artefact mirror), then the property-based campaign.
test: artefacts
	$(BIN)/python -m pytest -n 2 tests
	$(BIN)/python -m harness.peppol.campaign --count 2000 --seed $(SEED)

test-unit: $(BIN)/.installed
	$(BIN)/python -m pytest -n 2 tests/unit

campaign: artefacts
	$(BIN)/python -m harness.peppol.campaign --count 2000 --seed $(SEED)

lint: $(BIN)/.installed
	$(BIN)/ruff check harness suites tests benchmarks
	$(BIN)/mypy harness

clean:
	rm -rf $(VENV) build *.egg-info
