"""The same certification run through plain pytest (pytest11 entry point)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.test_self_certification import REFERENCE, conformance


def test_plain_pytest_runs_the_suites_and_writes_a_signed_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--participant", str(REFERENCE), "--profile", "peppol-bis",
         "--report-dir", str(tmp_path / "reports"), "--seed", "7", "--campaign-budget", "2",
         "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = list((tmp_path / "reports").iterdir())
    assert len(runs) == 1
    report = json.loads((runs[0] / "report.json").read_text())
    assert report["profiles"][0]["verdict"] == "CONFORMANT"
    assert report["meta"]["seed"] == 7
    assert any(c["test"].startswith("suites/peppol_bis/test_outbound.py::") for c in report["checks"])
    assert conformance("report", "verify", str(runs[0])).returncode == 0


def test_plain_pytest_keeps_pytest_exit_codes_for_a_bad_participant(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(REFERENCE.read_text().replace('variant = "good"', 'variant = "wrong-totals"'))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--participant", str(bad), "--report-dir", str(tmp_path / "r"),
         "--campaign-budget", "1", "-p", "no:cacheprovider", "-q"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]  # pytest's "tests failed", not our 12
    report = json.loads(next((tmp_path / "r").iterdir()).joinpath("report.json").read_text())
    assert report["profiles"][0]["verdict"] == "NON_CONFORMANT"
