from __future__ import annotations

import pytest

from harness.plugin.recorder import CheckRecorder, ConformanceFailure
from harness.report.model import Outcome


def _rec() -> CheckRecorder:
    return CheckRecorder(test="suites/x/test_a.py::test_b", profile="peppol-bis", replay="conformance run ...")


def test_verify_passes_when_every_check_passed() -> None:
    rec = _rec()
    rec.passed("BIS-OUT-001")
    rec.record("cen-ubl-1.3.14.1:BR-01", Outcome.NOT_APPLICABLE)
    rec.verify()
    assert [c.outcome for c in rec.checks] == [Outcome.PASS, Outcome.NOT_APPLICABLE]
    assert all(c.replay == "conformance run ..." and c.profile == "peppol-bis" for c in rec.checks)


def test_verify_names_each_failed_requirement_and_location() -> None:
    rec = _rec()
    rec.failed("cen-ubl-1.3.14.1:BR-CO-15", "TaxInclusiveAmount wrong", location="/Invoice[1]")
    rec.check(False, "BIS-OUT-003", "not the scenario")
    with pytest.raises(ConformanceFailure) as info:
        rec.verify()
    text = str(info.value)
    assert "2 check(s) failed" in text
    assert "cen-ubl-1.3.14.1:BR-CO-15 at /Invoice[1]: TaxInclusiveAmount wrong" in text
    assert "BIS-OUT-003" in text


def test_errors_also_fail_verification() -> None:
    rec = _rec()
    rec.errored("BIS-IN-001", "participant unreachable")
    with pytest.raises(ConformanceFailure, match="1 errored"):
        rec.verify()
