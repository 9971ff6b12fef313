"""Shared fixtures of the official-suite tests: one warm validator per process (worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.artefacts.store import ArtefactStore
    from harness.peppol.validation import DocumentValidator


@pytest.fixture(scope="session")
def store() -> ArtefactStore:
    from harness.artefacts.store import ArtefactStore

    return ArtefactStore.default()


@pytest.fixture(scope="session")
def validator() -> DocumentValidator:
    """The process-wide validator: stylesheets compile once and stay warm for every test."""
    from harness.peppol.validation import get_validator

    return get_validator()
