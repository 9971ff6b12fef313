"""Property-based: generated invoices are valid under the official rules and are their scenario."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.peppol.calculator import calculate
from harness.peppol.inspect import document_facts
from harness.peppol.model import Invoice
from harness.peppol.scenarios import (
    RULESET_BIS,
    RULESET_PINT_SG,
    check_document,
    validation_rulesets,
)
from harness.peppol.strategies import invoices, scenario_invoices
from harness.peppol.ubl import to_ubl

_VALIDATING = settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def validator():
    from harness.peppol.validation import get_validator

    return get_validator()


@pytest.mark.parametrize("ruleset", [RULESET_BIS, RULESET_PINT_SG])
def test_generated_documents_validate_clean_and_are_their_scenario(ruleset: str, validator):
    @_VALIDATING
    @given(scenario_invoices(ruleset))
    def check(pair: tuple[str, Invoice]) -> None:
        scenario_id, invoice = pair
        data = to_ubl(invoice)
        result = validator.validate(data, name=f"{scenario_id}.xml", rulesets=list(validation_rulesets(ruleset)))
        errors = [f"{fa.ruleset}:{fa.id} {fa.text}" for fa in result.failed_asserts if fa.flag in ("fatal", "error")]
        assert result.valid and not errors, errors
        assert check_document(scenario_id, ruleset, document_facts(data)) == ()

    check()


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(invoices(RULESET_BIS), invoices(RULESET_PINT_SG)))
def test_calculated_totals_satisfy_the_en16931_equations(invoice: Invoice):
    calc = calculate(invoice)
    t = calc.totals
    assert t.line_extension_amount == sum(calc.line_net_amounts, Decimal(0))  # BR-CO-10
    assert t.tax_exclusive_amount == (
        t.line_extension_amount - (t.allowance_total_amount or 0) + (t.charge_total_amount or 0)
    )  # BR-CO-13
    assert t.tax_amount == sum((b.tax_amount for b in calc.breakdown), Decimal(0))  # BR-CO-14
    assert t.tax_inclusive_amount == t.tax_exclusive_amount + t.tax_amount  # BR-CO-15
    assert t.payable_amount == t.tax_inclusive_amount - (t.prepaid_amount or 0) + (t.rounding_amount or 0)  # BR-CO-16
    assert sum((b.taxable_amount for b in calc.breakdown), Decimal(0)) == t.tax_exclusive_amount
    for amount in (t.line_extension_amount, t.tax_exclusive_amount, t.tax_amount, t.payable_amount):
        assert amount == amount.quantize(Decimal("0.01"))  # BR-DEC-*
