"""Shared test configuration: offline artefact mirror and pytester."""

from __future__ import annotations

import os
from pathlib import Path

pytest_plugins = ["pytester"]

_MIRROR_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "shared" / "artefacts",
    Path("/work/shared/artefacts"),
)
if not os.environ.get("CONFORMANCE_ARTEFACTS_MIRROR"):
    for _candidate in _MIRROR_CANDIDATES:
        if (_candidate / "MANIFEST.json").is_file():
            os.environ["CONFORMANCE_ARTEFACTS_MIRROR"] = str(_candidate)
            break
