"""The EN 16931 calculator against hand-computed expectations (BR-CO-10..17, BT-131, BT-111)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest

from harness.peppol.calculator import (
    InvalidInvoiceError,
    calculate,
    line_net_amount,
    round_amount,
)
from harness.peppol.model import (
    BIS_BILLING_CUSTOMIZATION_ID,
    BIS_BILLING_PROFILE_ID,
    Address,
    DocumentAllowanceCharge,
    DocumentKind,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    LineAllowanceCharge,
    Party,
    Price,
    TaxCategory,
    VatExemptionReason,
)

S25 = TaxCategory("S", D(25))
S12 = TaxCategory("S", D(12))
Z = TaxCategory("Z", D(0))
O = TaxCategory("O", None)


def _party(name: str) -> Party:
    return Party(
        name=name,
        electronic_address=Identifier("ADDR1", "0002"),
        postal_address=Address(country_code="BE"),
        vat_identifier="BE0123456789",
    )


def _line(
    quantity: str,
    price: str,
    category: TaxCategory = S25,
    *,
    base_quantity: str | None = None,
    allowances_charges: tuple[LineAllowanceCharge, ...] = (),
) -> InvoiceLine:
    return InvoiceLine(
        identifier="1",
        quantity=D(quantity),
        unit_code="C62",
        price=Price(D(price), base_quantity=D(base_quantity) if base_quantity else None),
        item=Item(name="Thing"),
        tax_category=category,
        allowances_charges=allowances_charges,
    )


def _invoice(*lines: InvoiceLine, **changes: object) -> Invoice:
    invoice = Invoice(
        kind=DocumentKind.INVOICE,
        number="1",
        issue_date=dt.date(2026, 1, 1),
        type_code="380",
        currency="EUR",
        customization_id=BIS_BILLING_CUSTOMIZATION_ID,
        profile_id=BIS_BILLING_PROFILE_ID,
        seller=_party("Seller"),
        buyer=_party("Buyer"),
        lines=lines,
    )
    return dataclasses.replace(invoice, **changes)  # type: ignore[arg-type]


def test_line_net_amount_is_quantity_times_price():
    assert line_net_amount(_line("3", "19.99")) == D("59.97")


def test_line_net_amount_divides_price_by_base_quantity():
    # 250 units at 12.50 per 100 units.
    assert line_net_amount(_line("250", "12.50", base_quantity="100")) == D("31.25")


def test_line_net_amount_adds_line_charges_and_subtracts_line_allowances():
    allowance = LineAllowanceCharge.from_percentage(charge=False, base_amount=D("99.90"), percentage=D(10))
    charge = LineAllowanceCharge(charge=True, amount=D("5.00"))
    assert allowance.amount == D("9.99")
    # 10 x 9.99 = 99.90 - 9.99 + 5.00
    assert line_net_amount(_line("10", "9.99", allowances_charges=(allowance, charge))) == D("94.91")


def test_line_net_amount_is_rounded_half_up_to_cents():
    # 3 x 0.125 = 0.375 -> 0.38
    assert line_net_amount(_line("3", "0.125")) == D("0.38")
    assert round_amount(D("0.005")) == D("0.01")
    assert round_amount(D("0.0049")) == D("0.00")


def test_single_standard_rated_line_totals():
    calc = calculate(_invoice(_line("3", "19.99")))
    t = calc.totals
    assert calc.line_net_amounts == (D("59.97"),)
    assert t.line_extension_amount == D("59.97")  # BT-106
    assert t.allowance_total_amount is None and t.charge_total_amount is None  # no BG-20/BG-21
    assert t.tax_exclusive_amount == D("59.97")  # BT-109
    assert t.tax_amount == D("14.99")  # 59.97 x 25 % = 14.9925
    assert t.tax_inclusive_amount == D("74.96")  # BT-112
    assert t.payable_amount == D("74.96")  # BT-115
    assert t.tax_amount_accounting is None


def test_vat_is_rounded_once_per_category_not_per_line():
    # Two lines of 0.10 at 25 %: per line 0.025 -> 0.03 each (0.06), per category 0.20 x 25 % = 0.05.
    calc = calculate(_invoice(_line("1", "0.10"), _line("1", "0.10")))
    assert len(calc.breakdown) == 1
    assert calc.breakdown[0].taxable_amount == D("0.20")
    assert calc.breakdown[0].tax_amount == D("0.05")


def test_one_breakdown_group_per_category_and_rate():
    calc = calculate(_invoice(_line("1", "100.00", S25), _line("2", "50.00", S12), _line("1", "10.00", S25)))
    groups = {(b.category.code, b.category.rate): (b.taxable_amount, b.tax_amount) for b in calc.breakdown}
    assert groups == {
        ("S", D(25)): (D("110.00"), D("27.50")),
        ("S", D(12)): (D("100.00"), D("12.00")),
    }
    assert calc.totals.tax_amount == D("39.50")  # BR-CO-14


def test_document_allowances_and_charges_go_to_their_category():
    invoice = _invoice(
        _line("1", "100.00", S25),
        _line("1", "50.00", Z),
        allowances_charges=(
            DocumentAllowanceCharge(charge=False, amount=D("10.00"), tax_category=S25, reason="Discount"),
            DocumentAllowanceCharge(charge=True, amount=D("20.00"), tax_category=Z, reason="Freight"),
        ),
    )
    calc = calculate(invoice)
    groups = {b.category.code: (b.taxable_amount, b.tax_amount) for b in calc.breakdown}
    assert groups == {"S": (D("90.00"), D("22.50")), "Z": (D("70.00"), D("0.00"))}
    t = calc.totals
    assert t.line_extension_amount == D("150.00")  # BT-106
    assert t.allowance_total_amount == D("10.00")  # BT-107
    assert t.charge_total_amount == D("20.00")  # BT-108
    assert t.tax_exclusive_amount == D("160.00")  # BT-109 = 150 - 10 + 20
    assert t.tax_amount == D("22.50")  # BT-110
    assert t.tax_inclusive_amount == D("182.50")  # BT-112
    assert t.payable_amount == D("182.50")  # BT-115


def test_percentage_allowance_amount_is_base_times_percentage():
    ac = DocumentAllowanceCharge.from_percentage(
        charge=False, base_amount=D("200.00"), percentage=D("2.5"), tax_category=S25
    )
    assert ac.amount == D("5.00")
    assert (ac.base_amount, ac.percentage) == (D("200.00"), D("2.5"))


def test_amount_due_subtracts_prepaid_and_adds_rounding():
    calc = calculate(_invoice(_line("1", "100.00"), prepaid_amount=D("50.00"), rounding_amount=D("0.01")))
    # 100.00 + 25.00 VAT = 125.00; 125.00 - 50.00 + 0.01
    assert calc.totals.tax_inclusive_amount == D("125.00")
    assert calc.totals.payable_amount == D("75.01")


def test_vat_in_accounting_currency_uses_the_exchange_rate():
    calc = calculate(
        _invoice(_line("1", "90.00"), tax_currency="SEK", tax_exchange_rate=D("11.3333"))
    )
    # VAT 22.50 EUR x 11.3333 = 254.999... -> 255.00 SEK; 90.00 x 11.3333 = 1019.997 -> 1020.00
    assert calc.totals.tax_amount == D("22.50")
    assert calc.totals.tax_amount_accounting == D("255.00")
    assert calc.totals.tax_exclusive_amount_accounting == D("1020.00")
    assert calc.totals.tax_inclusive_amount_accounting == D("1275.00")


def test_categories_without_vat_have_zero_tax_and_keep_exemption_reasons():
    calc = calculate(
        _invoice(
            _line("2", "40.00", O),
            vat_exemption_reasons=(VatExemptionReason("O", text="Not subject to VAT", code="VATEX-EU-O"),),
        )
    )
    (group,) = calc.breakdown
    assert group.category == O
    assert (group.taxable_amount, group.tax_amount) == (D("80.00"), D("0.00"))
    assert (group.exemption_reason, group.exemption_reason_code) == ("Not subject to VAT", "VATEX-EU-O")


def test_an_invoice_without_lines_cannot_be_computed():
    with pytest.raises(InvalidInvoiceError, match="BG-25"):
        calculate(_invoice())


def test_tax_currency_needs_an_exchange_rate():
    with pytest.raises(InvalidInvoiceError, match="tax_exchange_rate"):
        calculate(_invoice(_line("1", "1.00"), tax_currency="SEK"))
