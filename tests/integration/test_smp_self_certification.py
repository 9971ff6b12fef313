"""Self-certification of profile peppol-smp (DESIGN.md "Self-certification").

The bundled reference participant (reference SMP + reference lookup participant) must come out
CONFORMANT; every known-bad variant of ``harness/reference/smp_variants.py`` (one fixed fault each,
of the SMP or of the AP) must come out NON_CONFORMANT on exactly its declared requirements. Each
case is a real ``conformance run`` in a subprocess: CLI, plugin, local runtime, the harness's SML
and SMP, the embedded participant, judges, report writer and signature, end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.reference.smp_variants import LOOKUP_VARIANTS, SMP_VARIANTS

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "participants" / "reference-smp.toml"
#: The same participant with its SMP served over HTTPS only (require_https = true).
REFERENCE_HTTPS = ROOT / "fixtures" / "participants" / "reference-smp-https.toml"
SEED = "20261127"
VARIANTS = {**SMP_VARIANTS, **LOOKUP_VARIANTS}


def conformance(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], check=False, capture_output=True,
        text=True, timeout=timeout, env=dict(os.environ),
    )  # fmt: skip


def run_participant(participant: Path, report_dir: Path) -> tuple[int, Path, dict[str, Any], str]:
    proc = conformance(
        "run", "--participant", str(participant), "--profile", "peppol-smp",
        "--report-dir", str(report_dir), "--seed", SEED,
    )  # fmt: skip
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert last.startswith("report: "), (
        f"last line must name the run folder:\n{proc.stdout}\n{proc.stderr}"
    )
    run_dir = Path(last.removeprefix("report: "))
    report = json.loads((run_dir / "report.json").read_text())
    return proc.returncode, run_dir, report, proc.stdout + proc.stderr


def statuses(report: dict[str, Any], status: str) -> set[str]:
    return {r["id"] for p in report["profiles"] for r in p["requirements"] if r["status"] == status}


def variant_file(tmp_path: Path, name: str) -> Path:
    base = REFERENCE_HTTPS if VARIANTS[name].https_only else REFERENCE
    text = base.read_text().replace('variant = "good"', f'variant = "{name}"')
    assert f'variant = "{name}"' in text
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def reference_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[int, Path, dict[str, Any], str]:
    return run_participant(REFERENCE, tmp_path_factory.mktemp("reports"))


def test_reference_smp_participant_is_conformant(
    reference_run: tuple[int, Path, dict[str, Any], str],
) -> None:
    code, run_dir, report, output = reference_run
    assert code == 0, output
    assert [(p["profile"], p["verdict"]) for p in report["profiles"]] == [
        ("peppol-smp", "CONFORMANT")
    ], output
    assert "peppol-smp: CONFORMANT" in output
    assert statuses(report, "failed") == set() and statuses(report, "inconclusive") == set()
    verify = conformance("report", "verify", str(run_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_reference_run_judges_every_requirement_with_evidence(
    reference_run: tuple[int, Path, dict[str, Any], str],
) -> None:
    from harness.requirements import own_requirements

    _, run_dir, report, _ = reference_run
    own = {r.id for r in own_requirements("peppol-smp")}
    passed = statuses(report, "passed")
    # SMP-TLS-001 applies only where the participant file requires HTTPS (the reference does not)
    assert passed == own - {"SMP-TLS-001"}
    assert statuses(report, "not-applicable") == {"SMP-TLS-001"}
    referenced = {e for c in report["checks"] for e in c["evidence"]}
    stored = {"sha256:" + p.name.split(".")[0] for p in (run_dir / "evidence" / "sha256").iterdir()}
    assert referenced and referenced <= stored
    media = {e["media_type"] for e in report["evidence"]}
    assert {"message/http", "application/json", "application/dns-message"} <= media
    assert report["meta"]["seed"] == int(SEED)


def test_reference_smp_over_https_is_conformant(tmp_path: Path) -> None:
    """The reference SMP served over HTTPS with a TLS certificate of the test PKI passes
    SMP-TLS-001 (TLS 1.2+, https references, nothing over plain HTTP)."""
    code, _, report, output = run_participant(REFERENCE_HTTPS, tmp_path / "reports")
    assert code == 0, output
    assert [p["verdict"] for p in report["profiles"]] == ["CONFORMANT"], output
    assert "SMP-TLS-001" in statuses(report, "passed")
    tls = [c for c in report["checks"] if c["requirements"] == ["SMP-TLS-001"]]
    assert tls and all(c["outcome"] == "pass" for c in tls)
    assert any(c["message"].startswith("served over TLSv1.") for c in tls)


def test_reference_run_leaves_no_test_participant_on_the_smp(
    reference_run: tuple[int, Path, dict[str, Any], str],
) -> None:
    """The SMP suite unpublishes every test participant it published (unpublishParticipant at the
    end of each process's session); the unpublish check's own participant is already gone."""
    _, _, report, _ = reference_run
    facts = report["meta"]["observed"]["peppol-smp cleanup"]
    assert facts and all(f["not_unpublished"] == [] for f in facts), facts
    removed = [p for f in facts for p in f["unpublished"]]
    for name in ("-Main", "-Awk.Ward~_-X", "-Redirected"):  # the session's publications
        assert any(p.endswith(name) for p in removed), (name, removed)
    assert not any(p.endswith("-Unpublished") for p in removed)  # its own test removed it
    assert len(removed) > 3  # and the round-trip campaign's participants


def test_lookup_run_saw_only_https_smp_urls_in_the_sml(
    reference_run: tuple[int, Path, dict[str, Any], str],
) -> None:
    """Peppol SML 1.3.0 2.1.1: the NAPTR records the harness's SML published for the receivers
    the AP was asked about carry https URLs (the reference SMPs are served over TLS)."""
    _, _, report, _ = reference_run
    facts = report["meta"]["observed"]["peppol-smp lookup NAPTR"]
    urls = [u for f in facts for u in f["smp_urls"]]
    assert urls and all(u.startswith("https://127.0.0.1:") for u in urls), facts


def test_no_private_key_reaches_the_run_folder(
    reference_run: tuple[int, Path, dict[str, Any], str],
) -> None:
    _, run_dir, _, _ = reference_run
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path


def expected_verdict(declared: frozenset[str]) -> tuple[str, int]:
    """NON_CONFORMANT (exit 12) when a declared requirement is a MUST; a variant that breaks only
    SHOULD requirements (e.g. LOOKUP-RED-002) is PARTIALLY_CONFORMANT (exit 10)."""
    from harness.requirements import own_requirements

    levels = {r.id: r.level.value for r in own_requirements("peppol-smp")}
    if any(levels[rid] == "MUST" for rid in declared):
        return "NON_CONFORMANT", 12
    return "PARTIALLY_CONFORMANT", 10


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_known_bad_variant_fails_exactly_its_declared_requirements(
    name: str, tmp_path: Path
) -> None:
    variant = VARIANTS[name]
    code, _, report, output = run_participant(variant_file(tmp_path, name), tmp_path / "reports")
    verdict, exit_code = expected_verdict(variant.declared)
    assert [p["verdict"] for p in report["profiles"]] == [verdict], output
    assert code == exit_code, output
    assert statuses(report, "failed") == set(variant.declared), output
    assert statuses(report, "inconclusive") == set(), output


def test_at_least_eight_known_bad_variants() -> None:
    assert len(VARIANTS) >= 8
    assert all(v.declared for v in VARIANTS.values())
    assert sum(expected_verdict(v.declared)[0] == "NON_CONFORMANT" for v in VARIANTS.values()) >= 8


def test_every_own_requirement_is_covered_by_a_variant() -> None:
    """Generated coverage: some known-bad variant makes each own requirement fail."""
    from harness.coverage import coverage

    rows = {row.requirement.id: row for row in coverage("peppol-smp").rows}
    assert {rid for rid, row in rows.items() if not row.covered} == set()
    assert rows["SMP-TLS-001"].covered_by == ("variant:plain-http-references",)


def test_accept_partial_maps_a_should_only_failure_to_exit_0(tmp_path: Path) -> None:
    """``--accept-partial``: PARTIALLY_CONFORMANT exits 0 instead of 10; the report still says so."""
    proc = conformance(
        "run", "--participant", str(variant_file(tmp_path, "ignores-redirect-certificate")),
        "--profile", "peppol-smp", "--report-dir", str(tmp_path / "r"), "--seed", SEED,
        "--accept-partial",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    run_dir = Path(proc.stdout.strip().splitlines()[-1].removeprefix("report: "))
    report = json.loads((run_dir / "report.json").read_text())
    assert [p["verdict"] for p in report["profiles"]] == ["PARTIALLY_CONFORMANT"]
