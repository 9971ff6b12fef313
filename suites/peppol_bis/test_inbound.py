"""Participant as receiver: valid documents are accepted; documents breaking named rules are
rejected, and the rejection names at least one of the rules actually broken.

The documents are built by ``harness.peppol`` from the EN 16931 model (never from templates);
a property-based campaign with the run's recorded seed and a fixed budget sends generated
valid documents too.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.peppol.judge import rule_ids_named
from harness.report.model import Outcome

pytestmark = [pytest.mark.profile("peppol-bis"), pytest.mark.role("receiver")]

#: examples per property-based campaign in a certification run (fixed: part of the suite digest)
CAMPAIGN_BUDGET = 10


def _deliver(driver: Any, evidence: Any, document: bytes, label: str) -> tuple[Any, list[str]]:
    doc_ref = evidence.put(document, media_type="application/xml", label=label)
    result = driver.deliver_inbound(document)
    refs = [doc_ref] + [evidence.put(x.data, media_type=x.media_type, label=x.label) for x in result.exchange]
    return result, refs


def _no_answer(checks: Any, req: str, result: Any, refs: list[str], scenario: str) -> bool:
    if result.no_traffic or result.unreachable:
        checks.record(req, Outcome.ERROR, result.error or "the participant did not answer",
                      evidence=refs, scenario=scenario, no_traffic=result.no_traffic)
        return True
    if result.api_problem:
        checks.failed("BIS-API-001", result.api_problem, evidence=refs, scenario=scenario)
        return True
    checks.passed("BIS-API-001", evidence=refs, scenario=scenario)
    return False


@pytest.mark.requirement("BIS-IN-001")
def test_valid_document_is_accepted(
    inbound_valid_case: tuple[str, str], peppol_driver: Any, evidence: Any, checks: Any, run_seed: int
) -> None:
    from harness.peppol.scenarios import build_document

    ruleset, scenario = inbound_valid_case
    document = build_document(scenario, ruleset, seed=run_seed)
    result, refs = _deliver(peppol_driver, evidence, document, f"{ruleset} {scenario}: valid document sent")
    if not _no_answer(checks, "BIS-IN-001", result, refs, scenario):
        checks.check(result.accepted, "BIS-IN-001",
                     f"valid {scenario} document ({ruleset}) was rejected: {result.message!r}"
                     f" (rule_ids={list(result.rule_ids)})", evidence=refs, scenario=scenario)
    checks.verify()


@pytest.mark.requirement("BIS-IN-002", "BIS-IN-003")
def test_invalid_document_is_rejected(
    inbound_invalid_case: tuple[str, str], peppol_driver: Any, evidence: Any, checks: Any, run_seed: int
) -> None:
    from harness.peppol.cases import mutated_document
    from harness.peppol.mutations import get_mutation

    ruleset, mutation_id = inbound_invalid_case
    mutation = get_mutation(mutation_id)
    document = mutated_document(mutation_id, ruleset, seed=run_seed)
    broken = sorted(rule_ids_named(mutation.declared))
    result, refs = _deliver(peppol_driver, evidence, document,
                            f"{ruleset} {mutation_id}: invalid document sent (breaks {', '.join(broken)})")
    if _no_answer(checks, "BIS-IN-002", result, refs, mutation_id):
        checks.verify()
        return
    if not checks.check(not result.accepted, "BIS-IN-002",
                        f"document breaking {', '.join(broken)} was accepted", evidence=refs,
                        scenario=mutation_id):
        checks.verify()
        return
    named = rule_ids_named(result.rule_ids)
    checks.check(bool(named & set(broken)), "BIS-IN-003",
                 f"rejection named {sorted(named) or 'no rule'}; the document breaks {broken}",
                 evidence=refs, scenario=mutation_id)
    checks.verify()


@pytest.mark.requirement("BIS-IN-001")
def test_generated_valid_documents_are_accepted(
    claimed_ruleset: str, peppol_driver: Any, evidence: Any, checks: Any, run_seed: int,
    conformance_run: Any,
) -> None:
    """Property: every valid document the model generates is accepted (recorded seed, fixed budget)."""
    from hypothesis import HealthCheck, given, seed, settings

    from harness.peppol.strategies import invoices
    from harness.peppol.ubl import to_ubl

    budget = conformance_run.campaign_budget or CAMPAIGN_BUDGET
    rejected: list[tuple[bytes, Any, list[str]]] = []

    @seed(run_seed)
    @settings(max_examples=budget, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(invoice=invoices(claimed_ruleset))
    def campaign(invoice: Any) -> None:
        document = to_ubl(invoice)
        result, refs = _deliver(peppol_driver, evidence, document,
                                f"{claimed_ruleset} generated document (campaign, seed {run_seed})")
        if result.no_traffic or result.unreachable or result.api_problem or not result.accepted:
            rejected.append((document, result, refs))
            raise AssertionError("rejected")

    from harness.reproducible import deterministic_generation

    try:
        with deterministic_generation():
            campaign()
    except AssertionError:
        document, result, refs = rejected[-1]  # the last failure is hypothesis' shrunk example
        if result.no_traffic or result.unreachable:
            checks.record("BIS-IN-001", Outcome.ERROR, result.error or "no answer", evidence=refs,
                          no_traffic=result.no_traffic)
        else:
            shrunk = evidence.put(document, media_type="application/xml",
                                  label=f"shrunk failing example (seed {run_seed})")
            checks.failed("BIS-IN-001",
                          f"a generated valid document ({claimed_ruleset}) was rejected:"
                          f" {result.message!r} (rule_ids={list(result.rule_ids)});"
                          f" minimal failing document {shrunk}", evidence=[shrunk, *refs])
    else:
        checks.passed("BIS-IN-001", f"{budget} generated documents accepted (seed {run_seed})")
    checks.verify()
