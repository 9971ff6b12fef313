"""A parallel run reports what a serial run reports; a sealed real run folder detects tampering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_self_certification import REFERENCE, conformance, run_participant

VOLATILE_META = {"run_id", "started", "finished", "environment", "command"}


def normalise(report: dict[str, Any]) -> dict[str, Any]:
    """Drop what may differ between runs: run id, timestamps, durations, order."""
    out = json.loads(json.dumps(report))
    for key in VOLATILE_META:
        out["meta"].pop(key, None)
    # Endpoints observed: one per worker, each on its own ephemeral port with its own log and
    # pid. What must agree is *what* was observed (kind, endpoint, variant, health answer).
    stable = {"kind", "endpoint", "variant", "health", "runtime"}
    out["meta"]["observed"] = {
        key: sorted({json.dumps({k: v for k, v in item.items() if k in stable}, sort_keys=True) for item in values})
        for key, values in out["meta"].get("observed", {}).items()
    }
    out.pop("signing", None)
    for check in out["checks"]:
        check.pop("duration", None)
    out["checks"].sort(key=lambda c: json.dumps(c, sort_keys=True))
    return out


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    base = tmp_path_factory.mktemp("par")
    code1, run1, rep1, out1 = run_participant(REFERENCE, base / "serial")
    code2, run2, rep2, out2 = run_participant(REFERENCE, base / "parallel", "--", "-n", "2")
    assert code1 == 0, out1
    assert code2 == 0, out2
    return run1, rep1, rep2


def test_parallel_run_gives_the_same_report(serial_and_parallel: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, serial, parallel = serial_and_parallel
    a, b = normalise(serial), normalise(parallel)
    assert a["profiles"] == b["profiles"]
    assert len(a["checks"]) == len(b["checks"])
    assert a == b


def _tamper_targets(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.rglob("*") if p.is_file() and p.name != "attestation.json")


def test_changing_any_byte_of_any_file_of_a_real_run_is_detected(
    serial_and_parallel: tuple[Path, dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    run_dir = serial_and_parallel[0]
    targets = _tamper_targets(run_dir)
    assert len(targets) > 20
    for target in targets:
        copy = tmp_path / "copy"
        shutil.copytree(run_dir, copy)
        victim = copy / target.relative_to(run_dir)
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
        proc = conformance("report", "verify", str(copy))
        rel = target.relative_to(run_dir).as_posix()
        assert proc.returncode == 1, f"tampering with {rel} went unnoticed"
        assert rel in proc.stdout + proc.stderr, f"verify must name {rel}"
        shutil.rmtree(copy)


def test_resigned_with_a_foreign_key_fails_against_the_trusted_key(
    serial_and_parallel: tuple[Path, dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    from harness.report.attest import load_signing_key, seal

    run_dir = serial_and_parallel[0]
    trusted = tmp_path / "trusted.pub"
    shutil.copy(run_dir / "signing-key.pub", trusted)
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "attestation.json").unlink()
    (copy / "signing-key.pub").unlink()
    seal(copy, load_signing_key(None))
    assert conformance("report", "verify", str(copy)).returncode == 0  # intact, but by whom?
    proc = conformance("report", "verify", str(copy), "--trusted-key", str(trusted))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert conformance("report", "verify", str(run_dir), "--trusted-key", str(trusted)).returncode == 0
