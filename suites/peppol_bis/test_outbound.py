"""Participant as sender: for each catalogue scenario, the document it produces must be that
scenario's document and must pass every rule of the rule sets it claims.

Each applied Schematron assert is its own check (fired -> fail, held -> pass, context absent ->
not-applicable), with the document and the location as evidence.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.peppol.judge import judge_validation
from harness.report.model import Outcome

pytestmark = [pytest.mark.profile("peppol-bis"), pytest.mark.role("sender")]


@pytest.mark.requirement("BIS-OUT-001", "BIS-OUT-002", "BIS-OUT-003", "BIS-API-001")
def test_document_for_scenario(
    outbound_case: tuple[str, str], peppol_driver: Any, validator: Any, evidence: Any, checks: Any
) -> None:
    from harness.peppol.inspect import document_facts
    from harness.peppol.rulesets import expand
    from harness.peppol.scenarios import check_document

    ruleset, scenario = outbound_case
    result = peppol_driver.produce_document(scenario, ruleset)
    exchange = [evidence.put(x.data, media_type=x.media_type, label=x.label) for x in result.exchange]
    if result.no_traffic:
        checks.record("BIS-OUT-001", Outcome.ERROR, result.error or "no document arrived",
                      evidence=exchange, scenario=scenario, no_traffic=True)
        checks.verify()
    if result.api_problem:
        checks.failed("BIS-API-001", result.api_problem, evidence=exchange, scenario=scenario)
    elif result.document is not None:
        checks.passed("BIS-API-001", evidence=exchange, scenario=scenario)
    if result.document is None:
        outcome = Outcome.ERROR if result.unreachable else Outcome.FAIL
        checks.record("BIS-OUT-001", outcome, result.error or "no document produced",
                      evidence=exchange, scenario=scenario)
        checks.verify()
        return
    checks.passed("BIS-OUT-001", evidence=exchange, scenario=scenario)
    doc = evidence.put(result.document, media_type="application/xml",
                       label=f"{ruleset} {scenario}: document produced by the participant")
    label = f"document sha256:{doc.split(':', 1)[1][:12]} for scenario {scenario}"

    validation = validator.validate(result.document, name=f"{scenario}.xml", rulesets=expand([ruleset]))
    if validation.error:
        checks.failed("BIS-OUT-002", f"{label}: {validation.error}", evidence=[doc], scenario=scenario)
        checks.verify()
        return
    checks.passed("BIS-OUT-002", evidence=[doc], scenario=scenario)
    for j in judge_validation(validation, document_label=label):
        checks.record(j.requirement, j.outcome, j.message, evidence=[doc] if j.outcome is not Outcome.NOT_APPLICABLE else [],
                      scenario=scenario, location=j.location)

    mismatches = check_document(scenario, ruleset, document_facts(result.document))
    checks.check(not mismatches, "BIS-OUT-003",
                 f"{label} is not the scenario asked for: " + "; ".join(mismatches),
                 evidence=[doc], scenario=scenario)
    checks.verify()


@pytest.mark.requirement("BIS-OUT-004")
def test_scenarios_yield_distinct_documents(
    claimed_ruleset: str, peppol_driver: Any, evidence: Any, checks: Any
) -> None:
    from harness.peppol.scenarios import scenarios_for

    scenarios = [s.id for s in scenarios_for(claimed_ruleset)][:2]
    if len(scenarios) < 2:
        pytest.skip(f"rule set {claimed_ruleset} has fewer than two scenarios")
    docs: dict[str, bytes] = {}
    refs: list[str] = []
    for scenario in scenarios:
        result = peppol_driver.produce_document(scenario, claimed_ruleset)
        refs += [evidence.put(x.data, media_type=x.media_type, label=x.label) for x in result.exchange]
        if result.document is None:
            checks.record("BIS-OUT-004", Outcome.ERROR if result.unreachable or result.no_traffic else Outcome.SKIP,
                          f"scenario {scenario}: no document ({result.error})", evidence=refs,
                          no_traffic=result.no_traffic, scenario=scenario)
            checks.verify()
            return
        docs[scenario] = result.document
    a, b = scenarios
    checks.check(docs[a] != docs[b], "BIS-OUT-004",
                 f"scenarios {a} and {b} returned byte-identical documents", evidence=refs)
    checks.verify()
