"""Self-certification: the harness tells right from wrong (DESIGN.md "Self-certification").

The bundled reference participant must come out CONFORMANT; every known-bad variant (one fixed
fault each) must come out NON_CONFORMANT on exactly its declared requirements and no others.
Each case is a real ``conformance run`` in a subprocess: CLI, plugin, local runtime, reference
endpoint, validator, report writer and signature, end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.reference.peppol_variants import VARIANTS

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "participants" / "reference.toml"
SEED = "20261127"


def conformance(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=cwd,
        timeout=timeout,
    )


def run_participant(participant: Path, report_dir: Path, *extra: str) -> tuple[int, Path, dict[str, Any], str]:
    proc = conformance(
        "run", "--participant", str(participant), "--profile", "peppol-bis",
        "--report-dir", str(report_dir), "--seed", SEED, "--campaign-budget", "3", *extra,
    )
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert last.startswith("report: "), f"last line must name the run folder:\n{proc.stdout}\n{proc.stderr}"
    run_dir = Path(last.removeprefix("report: "))
    assert run_dir.is_absolute() and run_dir.parent == report_dir.resolve()
    report = json.loads((run_dir / "report.json").read_text())
    return proc.returncode, run_dir, report, proc.stdout + proc.stderr


def failed_requirements(report: dict[str, Any]) -> set[str]:
    return {
        r["id"]
        for p in report["profiles"]
        for r in p["requirements"]
        if r["status"] == "failed"
    }


def variant_file(tmp_path: Path, name: str) -> Path:
    text = REFERENCE.read_text().replace('variant = "good"', f'variant = "{name}"')
    assert f'variant = "{name}"' in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, dict[str, Any], str]:
    return run_participant(REFERENCE, tmp_path_factory.mktemp("reports"))


def test_reference_participant_is_conformant(reference_run: tuple[int, Path, dict[str, Any], str]) -> None:
    code, run_dir, report, output = reference_run
    assert code == 0, output
    assert [p["verdict"] for p in report["profiles"]] == ["CONFORMANT"], output
    assert failed_requirements(report) == set()
    for name in ("report.json", "report.html", "junit.xml", "ctrf.json", "attestation.json", "signing-key.pub"):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "allure-results").iterdir())
    verify = conformance("report", "verify", str(run_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ephemeral key: proves integrity only, not who ran it" in verify.stdout + verify.stderr


def test_reference_run_checks_every_assert_and_keeps_evidence(
    reference_run: tuple[int, Path, dict[str, Any], str],
) -> None:
    _, run_dir, report, _ = reference_run
    outcomes = {c["outcome"] for c in report["checks"]}
    assert {"pass", "not-applicable"} <= outcomes and "fail" not in outcomes
    referenced = {e for c in report["checks"] for e in c["evidence"]}
    assert referenced, "checks must link their evidence"
    stored = {"sha256:" + p.name.split(".")[0] for p in (run_dir / "evidence" / "sha256").iterdir()}
    assert referenced <= stored
    assert all(c["replay"].startswith("conformance run --participant ") for c in report["checks"])
    assert report["meta"]["seed"] == int(SEED)


@pytest.mark.parametrize("name", sorted(n for n in VARIANTS if n != "good"))
def test_known_bad_variant_fails_exactly_its_declared_requirements(name: str, tmp_path: Path) -> None:
    variant = VARIANTS[name]
    code, _, report, output = run_participant(variant_file(tmp_path, name), tmp_path / "reports")
    assert [p["verdict"] for p in report["profiles"]] == ["NON_CONFORMANT"], output
    assert code == 12, output
    assert failed_requirements(report) == set(variant.declared), output


def test_at_least_ten_known_bad_variants() -> None:
    assert len([n for n in VARIANTS if n != "good"]) >= 10
