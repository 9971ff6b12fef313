"""The campaign is reproducible and reports what it found."""

from __future__ import annotations

from harness.peppol.campaign import generate_cases, run_campaign
from harness.peppol.scenarios import RULESET_PINT_SG, scenarios_for
from harness.peppol.ubl import to_ubl


def test_same_seed_same_documents_other_seed_other_documents():
    first = [to_ubl(case[2]) for case in generate_cases(24, seed=5)]
    again = [to_ubl(case[2]) for case in generate_cases(24, seed=5)]
    other = [to_ubl(case[2]) for case in generate_cases(24, seed=6)]
    assert first == again
    assert first != other


def test_every_scenario_gets_its_share():
    cases = generate_cases(40, seed=1)
    scenarios = {scenario for _, scenario, _ in cases}
    assert len(cases) == 40
    assert len(scenarios) == len({(rs, s.id) for rs in ("peppol-ubl-3.0.19", RULESET_PINT_SG) for s in scenarios_for(rs)})


def test_small_campaign_is_clean_and_counts_everything():
    count = len(scenarios_for(RULESET_PINT_SG))
    result = run_campaign(count, seed=3, rulesets=[RULESET_PINT_SG], mutation_sample=1)
    assert result.ok, result.format()
    assert dict(result.per_scenario) == {s.id: 1 for s in scenarios_for(RULESET_PINT_SG)}
    assert sum(n for _, n in result.per_document_type) == count
    assert all(n >= 1 for _, n in result.mutation_runs)
    text = result.format()
    assert "documents per VAT category" in text and "replay: python -m harness.peppol.campaign" in text
    assert text.rstrip().endswith("result: OK")


def test_campaign_with_too_few_documents_reports_empty_scenarios():
    result = run_campaign(2, seed=3, rulesets=[RULESET_PINT_SG], mutation_sample=1)
    assert not result.ok
    assert len(result.empty_scenarios) == len(scenarios_for(RULESET_PINT_SG)) - 2
