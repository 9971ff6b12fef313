"""The scenario catalogue: each scenario builds a valid document that is that scenario and no other."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError, UntrustedInputError
from harness.peppol.inspect import document_facts
from harness.peppol.model import DocumentKind
from harness.peppol.scenarios import (
    RULESET_BIS,
    RULESET_PINT_SG,
    all_scenarios,
    build_document,
    build_invoice,
    check_document,
    get_scenario,
    scenario_ids,
    scenarios_for,
    validation_rulesets,
)

REQUIRED = {
    "invoice-standard", "credit-note", "allowances-charges", "vat-S", "vat-Z", "vat-E", "vat-AE",
    "vat-K", "vat-G", "vat-O", "foreign-currency", "pint-sg-gst", "pint-sg-zero-rated",
    "pint-sg-credit-note",
}
CASES = [(s.id, rs) for s in all_scenarios() for rs in s.rulesets]
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def validator():
    from harness.peppol.validation import get_validator

    return get_validator()


def test_catalogue_has_the_required_scenarios():
    assert REQUIRED <= set(scenario_ids())
    assert {s.id for s in scenarios_for(RULESET_BIS)} | {s.id for s in scenarios_for(RULESET_PINT_SG)} == set(scenario_ids())
    assert scenarios_for("cen-cii-1.3.16") == ()


def test_unknown_scenario_is_a_config_error_listing_the_ids():
    with pytest.raises(ConfigError) as info:
        get_scenario("no-such-scenario")
    assert "invoice-standard" in str(info.value) and "pint-sg-gst" in str(info.value)


def test_scenario_under_a_rule_set_it_does_not_apply_to_is_a_config_error():
    with pytest.raises(ConfigError, match="does not apply"):
        build_invoice("pint-sg-gst", RULESET_BIS)
    with pytest.raises(ConfigError):
        validation_rulesets("cen-ubl-1.3.16")


def test_build_is_deterministic_for_a_seed():
    assert build_document("vat-mixed", RULESET_BIS, seed=11) == build_document("vat-mixed", RULESET_BIS, seed=11)
    assert build_document("vat-mixed", RULESET_BIS, seed=11) != build_document("vat-mixed", RULESET_BIS, seed=12)


@pytest.mark.parametrize(("scenario_id", "ruleset"), CASES)
def test_scenario_document_is_valid_and_is_that_scenario_only(scenario_id: str, ruleset: str, validator):
    for seed in SEEDS:
        data = build_document(scenario_id, ruleset, seed=seed)
        result = validator.validate(data, name=f"{scenario_id}-{seed}.xml", rulesets=list(validation_rulesets(ruleset)))
        errors = [f"{fa.ruleset}:{fa.id} {fa.location} {fa.text}" for fa in result.failed_asserts if fa.flag in ("fatal", "error")]
        assert result.valid and not errors, errors
        facts = document_facts(data)
        assert check_document(scenario_id, ruleset, facts) == ()
        others = [
            other.id
            for other in all_scenarios()
            if other.id != scenario_id and not other.expectation.mismatches(facts)
        ]
        assert others == [], f"{scenario_id} (seed {seed}) also matches {others}"


def test_check_document_says_what_differs_in_plain_words():
    credit_note = document_facts(build_document("credit-note", RULESET_BIS))
    problems = check_document("invoice-standard", RULESET_BIS, credit_note)
    assert any("expected a invoice (Invoice), got root element 'CreditNote'" in p for p in problems)
    sg = document_facts(build_document("pint-sg-gst", RULESET_PINT_SG))
    problems = check_document("vat-AE", RULESET_BIS, sg)
    assert any("specification identifier (BT-24)" in p for p in problems)
    assert any("VAT breakdown categories (BT-118) AE, got SR" in p for p in problems)


def test_document_facts_reads_the_terms():
    invoice = build_invoice("pint-sg-foreign-currency", RULESET_PINT_SG, seed=1)
    from harness.peppol.ubl import to_ubl

    facts = document_facts(to_ubl(invoice))
    assert facts.kind is DocumentKind.INVOICE and facts.root == "Invoice"
    assert (facts.currency, facts.tax_currency, facts.foreign_currency) == (invoice.currency, "SGD", True)
    assert facts.vat_categories == {"SR"} and facts.uuid_present
    assert facts.line_count == len(invoice.lines)
    assert facts.customization_id == invoice.customization_id


def test_document_facts_of_a_non_ubl_document_has_no_kind():
    facts = document_facts(b"<Order xmlns='urn:example'/>")
    assert facts.kind is None and facts.root == "Order" and facts.line_count == 0


def test_document_facts_refuses_malformed_xml():
    with pytest.raises(UntrustedInputError):
        document_facts(b"<Invoice", name="broken.xml")
