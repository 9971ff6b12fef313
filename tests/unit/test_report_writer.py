"""write_run_folder: the complete sealed folder, secret redaction, rewriting."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from harness.report.attest import SigningKey, seal, verify
from harness.report.builder import load_report
from harness.report.evidence import META_DIR
from harness.report.writer import write_run_folder
from tests.unit.test_report_support import SECRET, build_sample_report, write_sample_run


def test_folder_holds_every_projection_the_index_and_the_seal(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    written = write_sample_run(run_dir)
    for name in (
        "report.json",
        "report.html",
        "junit.xml",
        "ctrf.json",
        "evidence/index.json",
        "signing-key.pub",
        "attestation.json",
    ):
        assert (run_dir / name).is_file(), name
    assert list((run_dir / "allure-results").glob("*-result.json"))
    assert not (run_dir / META_DIR).exists()
    index = json.loads((run_dir / "evidence" / "index.json").read_text("utf-8"))["evidence"]
    assert [e["digest"] for e in index] == [e.digest for e in written.evidence]
    assert len(index) == 4
    assert written.signing is not None and written.signing.ephemeral
    assert load_report(run_dir) == written
    assert verify(run_dir).ok


def test_secrets_in_messages_are_redacted_from_every_file(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    report = build_sample_report(run_dir)
    leaky = replace(report.checks[0], message=f"participant echoed token {SECRET}")
    report = replace(report, checks=(leaky, *report.checks[1:]))
    write_run_folder(run_dir, report, SigningKey.generate(), secrets=[SECRET])
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "participant echoed token ***REDACTED***" in (run_dir / "report.json").read_text("utf-8")
    assert verify(run_dir).ok


def test_rewriting_a_folder_replaces_projections_and_reseals(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = write_sample_run(run_dir)
    stale = run_dir / "allure-results" / "stale-result.json"
    stale.write_text("{}")
    second_key = SigningKey.generate()
    second = write_run_folder(run_dir, first, second_key)
    assert not stale.exists()
    assert second.evidence == first.evidence  # the index survives a rewrite
    result = verify(run_dir, fingerprint=second_key.keyid)
    assert result.ok, result.problems


def test_seal_ignores_a_stale_temporary_attestation(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_sample_run(run_dir)
    (run_dir / ".attestation.json.tmp").write_text("half-written by an interrupted seal")
    seal(run_dir, SigningKey.generate())
    assert verify(run_dir).ok
