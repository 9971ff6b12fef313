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


class _RejectsMultiLineDocuments:
    """A stand-in validator: a document with two or more lines breaks rule X-1."""

    class _Assert:
        id, flag, location, text, ruleset = "X-1", "fatal", "/Invoice[1]", "one line only", "test-rules"

    class _Result:
        def __init__(self, valid: bool) -> None:
            self.valid = valid
            self.failed_asserts = () if valid else (_RejectsMultiLineDocuments._Assert(),)

    def validate(self, data: bytes, *, name: str = "", rulesets: object = None) -> object:
        from harness.peppol.inspect import document_facts

        return self._Result(document_facts(data).line_count < 2)


def test_invalid_documents_are_reported_with_a_shrunk_example(monkeypatch):
    from harness.peppol import validation

    monkeypatch.setattr(validation, "get_validator", lambda: _RejectsMultiLineDocuments())
    count = 3 * len(scenarios_for(RULESET_PINT_SG))
    result = run_campaign(count, seed=3, rulesets=[RULESET_PINT_SG], mutation_sample=1)
    assert not result.ok and result.invalid
    assert all("test-rules:X-1" in failure.problems[0] for failure in result.invalid)
    # Hypothesis shrinks the first failure to the smallest document that still breaks the rule.
    assert result.minimal_failure is not None
    from harness.peppol.inspect import document_facts

    assert document_facts(result.minimal_failure.encode()).line_count == 2
    assert "minimal failing document" in result.format()
