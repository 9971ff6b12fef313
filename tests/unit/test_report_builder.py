"""report.json: schema, round trip, determinism under reordering (pytest -n 2), loading."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.report.builder import (
    RunReport,
    SigningInfo,
    build_report,
    load_report,
    report_schema,
    validate_report_json,
)
from harness.report.errors import ReportError
from harness.report.model import CheckResult, RequirementStatus, Verdict
from tests.unit.test_report_support import (
    PROFILE,
    build_sample_report,
    catalogue,
    meta,
    write_sample_run,
)


@pytest.fixture
def sample(tmp_path: Path) -> RunReport:
    return build_sample_report(tmp_path / "run")


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = report_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_sample_report_validates_against_the_schema(sample: RunReport) -> None:
    assert validate_report_json(sample.to_json()) == []


def test_written_report_json_validates_and_has_signing(tmp_path: Path) -> None:
    write_sample_run(tmp_path / "run")
    document = json.loads((tmp_path / "run" / "report.json").read_text("utf-8"))
    assert validate_report_json(document) == []
    assert document["signing"]["ephemeral"] is True
    assert len(document["signing"]["keyid"]) == 64
    assert {e["path"].split("/")[1] for e in document["evidence"]} == {"sha256"}


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(verdict="MOSTLY_FINE"), "verdict"),
        (lambda d: d["checks"][0].update(outcome="passed"), "checks/0/outcome"),
        (lambda d: d["checks"][0].update(evidence=["md5:abc"]), "checks/0/evidence/0"),
        (lambda d: d["meta"].pop("seed"), "meta"),
        (lambda d: d.update(surprise=1), "(root)"),
        (lambda d: d["requirements"][0].update(level="MUSTNT"), "requirements/0/level"),
    ],
)
def test_schema_rejects_broken_reports(sample: RunReport, mutate: Any, where: str) -> None:
    document = sample.to_json()
    mutate(document)
    errors = validate_report_json(document)
    assert errors, "the schema accepted a broken report"
    assert any(e.startswith(where) for e in errors), errors


def test_round_trip_is_lossless(sample: RunReport) -> None:
    signed = replace(sample, signing=SigningInfo("c" * 64, ephemeral=False))
    again = RunReport.loads(signed.dumps())
    assert again == signed
    assert again.dumps() == signed.dumps()
    assert again.signing is not None and again.signing["keyid"] == "c" * 64
    assert again.signing.get("ephemeral") is False


def test_load_report_reads_a_folder_or_a_file(tmp_path: Path) -> None:
    written = write_sample_run(tmp_path / "run")
    assert load_report(tmp_path / "run") == written
    assert load_report(tmp_path / "run" / "report.json") == written


def test_load_report_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        load_report(tmp_path / "nowhere")
    (tmp_path / "report.json").write_text('{"schema_version": "1.0"}', encoding="utf-8")
    with pytest.raises(ReportError, match="not a valid report.json"):
        load_report(tmp_path)
    (tmp_path / "report.json").write_text('{"schema_version": "7.0"}', encoding="utf-8")
    with pytest.raises(ReportError, match="not supported"):
        load_report(tmp_path)


def _volatile_free(report: RunReport) -> dict[str, Any]:
    document = report.to_json()
    for key in ("run_id", "started", "finished"):
        document["meta"].pop(key)
    for c in document["checks"]:
        c.pop("duration", None)
    return document


def test_shuffled_checks_give_the_same_report(sample: RunReport) -> None:
    rng = random.Random(7)
    reference = sample.dumps()
    for _ in range(20):
        shuffled = list(sample.checks)
        rng.shuffle(shuffled)
        requirements = catalogue()
        rng.shuffle(requirements)
        again = build_report(
            sample.meta,
            requirements,
            {PROFILE: ("sender",)},
            shuffled,
            {"BIS-OUT-009": "no scenario needs attachments yet"},
            {},
            evidence=list(reversed(sample.evidence)),
        )
        assert again.dumps() == reference


def test_parallel_like_run_differs_only_in_run_id_timestamps_and_durations(
    sample: RunReport,
) -> None:
    """A -n 2 run: other run id and clock, other durations, checks arriving in worker order."""
    workers = [c for i, c in enumerate(sample.checks) if i % 2] + [
        c for i, c in enumerate(sample.checks) if not i % 2
    ]
    workers = [replace(c, duration=(c.duration or 0) + 1.5) for c in workers]
    parallel = build_report(
        meta(run_id="20261127T130000Z-ffffff", started="2026-11-27T13:00:00+00:00"),
        catalogue(),
        {PROFILE: ("sender",)},
        workers,
        {"BIS-OUT-009": "no scenario needs attachments yet"},
        {},
    )
    serial = build_report(
        sample.meta,
        catalogue(),
        {PROFILE: ("sender",)},
        list(sample.checks),
        {"BIS-OUT-009": "no scenario needs attachments yet"},
        {},
    )
    assert parallel.dumps() != serial.dumps()
    assert _volatile_free(parallel) == _volatile_free(serial)


def test_checks_are_sorted_by_test_then_requirements_then_location_then_message(
    sample: RunReport,
) -> None:
    keys = [(c.test, c.requirements, c.location or "", c.message) for c in sample.checks]
    assert keys == sorted(keys)


def test_requirement_results_point_at_their_checks(sample: RunReport) -> None:
    (profile,) = sample.profiles
    by_id = {r.requirement.id: r for r in profile.requirements}
    br = by_id["cen-ubl-1.3.16:BR-CO-15"]
    assert br.status is RequirementStatus.FAILED
    assert [sample.checks[i].requirements for i in br.checks] == [("cen-ubl-1.3.16:BR-CO-15",)]
    assert by_id["BIS-OUT-001"].status is RequirementStatus.INCONCLUSIVE
    assert sample.verdict is Verdict.NON_CONFORMANT
    assert sample.exit_code == 12


def test_not_tested_lists_requirements_with_their_reason(sample: RunReport) -> None:
    listed = {(p, r.requirement.id): r.reason for p, r in sample.not_tested()}
    assert listed == {(PROFILE, "BIS-OUT-009"): "no scenario needs attachments yet"}


def test_checks_by_test_groups_in_canonical_order(sample: RunReport) -> None:
    grouped = sample.checks_by_test()
    assert list(grouped) == sorted(grouped)
    assert sum(len(v) for v in grouped.values()) == len(sample.checks)
    assert all(isinstance(c, CheckResult) for v in grouped.values() for c in v)
