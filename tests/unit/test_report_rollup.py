"""The verdict roll-up of DESIGN.md ("Requirements and verdicts"), rule by rule, and exit codes."""

from __future__ import annotations

import pytest

from harness.report.builder import build_report
from harness.report.model import (
    EXIT_CODES,
    Level,
    Outcome,
    RequirementStatus,
    Verdict,
    exit_code_for,
)
from tests.unit.test_report_support import PROFILE, check, meta, req

P, F, E, S, NA, W = (
    Outcome.PASS,
    Outcome.FAIL,
    Outcome.ERROR,
    Outcome.SKIP,
    Outcome.NOT_APPLICABLE,
    Outcome.WARNING,
)
MUST, SHOULD, MAY = Level.MUST, Level.SHOULD, Level.MAY


def status_of(level: Level, outcomes: list[Outcome], *, not_tested: str | None = None):
    report = build_report(
        meta(),
        [req("R-1", level), req("R-ANCHOR")],
        {PROFILE: ("sender",)},
        [check("R-1", o) for o in outcomes] + [check("R-ANCHOR", P)],
        {"R-1": not_tested} if not_tested else {},
        {},
    )
    (result,) = [r for r in report.profiles[0].requirements if r.requirement.id == "R-1"]
    return result


@pytest.mark.parametrize(
    ("level", "outcomes", "expected"),
    [
        # a requirement fails if any check verifying it fails
        (MUST, [F], RequirementStatus.FAILED),
        (MUST, [P, P, F], RequirementStatus.FAILED),
        (MUST, [E, F, P], RequirementStatus.FAILED),
        (SHOULD, [F], RequirementStatus.FAILED),
        # a SHOULD-level finding (warning) fails a SHOULD requirement
        (SHOULD, [P, W], RequirementStatus.FAILED),
        # inconclusive if none failed but one errored
        (MUST, [P, E], RequirementStatus.INCONCLUSIVE),
        (SHOULD, [E], RequirementStatus.INCONCLUSIVE),
        # claimed MUST with no check run
        (MUST, [], RequirementStatus.INCONCLUSIVE),
        (MUST, [S, S], RequirementStatus.INCONCLUSIVE),
        # SHOULD / MAY with no check run are merely not tested
        (SHOULD, [], RequirementStatus.NOT_TESTED),
        (MAY, [S], RequirementStatus.NOT_TESTED),
        # context never fired: not applicable, counted as run
        (MUST, [NA, NA], RequirementStatus.NOT_APPLICABLE),
        (MUST, [NA, P], RequirementStatus.PASSED),
        (MUST, [P, S], RequirementStatus.PASSED),
    ],
)
def test_requirement_status_truth_table(
    level: Level, outcomes: list[Outcome], expected: RequirementStatus
) -> None:
    assert status_of(level, outcomes).status is expected


def test_untested_claimed_must_carries_its_not_tested_reason() -> None:
    result = status_of(MUST, [], not_tested="the participant has no inbound endpoint")
    assert result.status is RequirementStatus.INCONCLUSIVE
    assert result.reason == "the participant has no inbound endpoint"
    assert result.checks == ()


def verdict_of(
    spec: list[tuple[Level, list[Outcome]]],
    *,
    no_traffic: list[str] | None = None,
    extra_checks: list = (),  # type: ignore[assignment]
):
    requirements = [req(f"R-{i}", level) for i, (level, _) in enumerate(spec)]
    checks = [check(f"R-{i}", o) for i, (_, outs) in enumerate(spec) for o in outs]
    report = build_report(
        meta(),
        requirements,
        {PROFILE: ("sender",)},
        checks + list(extra_checks),
        {},
        {PROFILE: no_traffic} if no_traffic else {},
    )
    return report


@pytest.mark.parametrize(
    ("spec", "no_traffic", "expected"),
    [
        ([(MUST, [P]), (SHOULD, [P]), (MAY, [P])], None, Verdict.CONFORMANT),
        # NON_CONFORMANT if any MUST requirement failed, whatever else happened
        ([(MUST, [F]), (MUST, [E]), (SHOULD, [F])], ["invoice-standard"], Verdict.NON_CONFORMANT),
        # else INCONCLUSIVE if any MUST requirement is inconclusive ...
        ([(MUST, [P]), (MUST, [E])], None, Verdict.INCONCLUSIVE),
        ([(MUST, [P]), (MUST, [])], None, Verdict.INCONCLUSIVE),
        # ... even when a SHOULD failed too
        ([(MUST, [E]), (SHOULD, [F])], None, Verdict.INCONCLUSIVE),
        # ... or a scenario saw NO_TRAFFIC
        ([(MUST, [P]), (SHOULD, [F])], ["credit-note"], Verdict.INCONCLUSIVE),
        # else PARTIALLY_CONFORMANT if a SHOULD requirement failed (SHOULD-only failure)
        ([(MUST, [P]), (SHOULD, [F])], None, Verdict.PARTIALLY_CONFORMANT),
        ([(MUST, [P]), (SHOULD, [W])], None, Verdict.PARTIALLY_CONFORMANT),
        # an inconclusive SHOULD or a failed MAY does not spoil a pass
        ([(MUST, [P]), (SHOULD, [E])], None, Verdict.CONFORMANT),
        ([(MUST, [P]), (MAY, [F])], None, Verdict.CONFORMANT),
        ([(MUST, [P]), (SHOULD, [])], None, Verdict.CONFORMANT),
    ],
)
def test_profile_verdict_truth_table(spec, no_traffic, expected: Verdict) -> None:
    report = verdict_of(spec, no_traffic=no_traffic)
    assert report.profiles[0].verdict is expected
    assert report.verdict is expected
    assert report.exit_code == EXIT_CODES[expected]
    if expected is not Verdict.CONFORMANT:
        assert report.reasons, "a verdict short of CONFORMANT must say why"


def test_no_traffic_check_makes_the_profile_inconclusive_and_names_the_scenario() -> None:
    silent = check(
        "R-1", S, scenario="inbound-valid", no_traffic=True, message="no traffic within 30 s"
    )
    report = verdict_of([(MUST, [P]), (MUST, [P])], extra_checks=[silent])
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.profiles[0].no_traffic_scenarios == ("inbound-valid",)
    assert any("inbound-valid" in r and "NO_TRAFFIC" in r for r in report.reasons)


def test_reasons_name_the_failed_must_requirement() -> None:
    report = verdict_of([(MUST, [P]), (MUST, [F])])
    assert report.reasons == (f"{PROFILE}: MUST requirement R-1 failed",)


def test_requirement_of_an_unclaimed_role_is_out_of_scope_unless_checked() -> None:
    requirements = [
        req("OUT-1", roles=("sender",)),
        req("IN-1", roles=("receiver",)),
        req("IN-2", roles=("receiver",)),
    ]
    report = build_report(
        meta(),
        requirements,
        {PROFILE: ("sender",)},
        [check("OUT-1", P), check("IN-2", F)],
        {},
        {},
    )
    ids = {r.requirement.id: r.status for r in report.profiles[0].requirements}
    assert "IN-1" not in ids  # receiver role not claimed, nothing ran: not in scope
    assert ids["IN-2"] is RequirementStatus.FAILED  # a check ran anyway: it counts
    assert report.verdict is Verdict.NON_CONFORMANT


def test_claimed_profile_where_nothing_ran_is_inconclusive() -> None:
    report = build_report(meta(), [req("R-1", SHOULD)], {PROFILE: ("sender",)}, [], {}, {})
    assert report.verdict is Verdict.INCONCLUSIVE
    assert any("no check ran" in r for r in report.reasons)


def test_check_citing_an_unknown_requirement_makes_the_profile_inconclusive() -> None:
    report = build_report(
        meta(), [req("R-1")], {PROFILE: ("sender",)}, [check("R-1", P), check("R-TYPO", P)], {}, {}
    )
    assert report.verdict is Verdict.INCONCLUSIVE
    assert any("R-TYPO" in r for r in report.reasons)


def test_run_claiming_no_profile_is_inconclusive() -> None:
    report = build_report(meta(), [req("R-1")], {}, [check("R-1", P)], {}, {})
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.exit_code == 11


def test_overall_verdict_is_the_worst_profile_verdict() -> None:
    requirements = [
        req("A-1", profile="peppol-bis"),
        req("B-1", profile="tradetrust"),
        req("B-2", SHOULD, profile="tradetrust"),
    ]
    checks = [
        check("A-1", P, profile="peppol-bis"),
        check("B-1", P, profile="tradetrust"),
        check("B-2", F, profile="tradetrust"),
    ]
    report = build_report(
        meta(), requirements, {"peppol-bis": ("sender",), "tradetrust": ("issuer",)}, checks, {}, {}
    )
    assert [(p.profile, p.verdict) for p in report.profiles] == [
        ("peppol-bis", Verdict.CONFORMANT),
        ("tradetrust", Verdict.PARTIALLY_CONFORMANT),
    ]
    assert report.verdict is Verdict.PARTIALLY_CONFORMANT
    assert report.reasons == ("tradetrust: SHOULD requirement B-2 failed",)


def test_check_without_profile_counts_for_the_profile_of_its_requirement() -> None:
    report = build_report(
        meta(),
        [req("R-1", profile="tradetrust")],
        {"tradetrust": ("issuer",)},
        [check("R-1", F, profile=None)],
        {},
        {},
    )
    assert report.verdict is Verdict.NON_CONFORMANT


@pytest.mark.parametrize(
    ("verdict", "accept_partial", "code"),
    [
        (Verdict.CONFORMANT, False, 0),
        (Verdict.PARTIALLY_CONFORMANT, False, 10),
        (Verdict.PARTIALLY_CONFORMANT, True, 0),
        (Verdict.INCONCLUSIVE, False, 11),
        (Verdict.INCONCLUSIVE, True, 11),
        (Verdict.NON_CONFORMANT, False, 12),
        (Verdict.NON_CONFORMANT, True, 12),
        (Verdict.CONFORMANT, True, 0),
    ],
)
def test_exit_code_mapping(verdict: Verdict, accept_partial: bool, code: int) -> None:
    assert exit_code_for(verdict, accept_partial=accept_partial) == code


def test_accept_partial_is_recorded_in_the_report_exit_code() -> None:
    spec = [(MUST, [P]), (SHOULD, [F])]
    requirements = [req(f"R-{i}", level) for i, (level, _) in enumerate(spec)]
    checks = [check(f"R-{i}", o) for i, (_, outs) in enumerate(spec) for o in outs]
    report = build_report(
        meta(), requirements, {PROFILE: ("sender",)}, checks, {}, {}, accept_partial=True
    )
    assert report.verdict is Verdict.PARTIALLY_CONFORMANT
    assert report.exit_code == 0
