"""The UBL writer: derived values, element placement, and each fault knob doing what it says."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pytest
from lxml import etree

from harness.peppol.calculator import calculate
from harness.peppol.inspect import document_facts
from harness.peppol.model import DocumentKind, TaxCategory
from harness.peppol.scenarios import RULESET_BIS, RULESET_PINT_SG, build_invoice
from harness.peppol.ubl import (
    NS_CAC,
    NS_CBC,
    SG_TOTAL_EXCLUDING_GST,
    SG_TOTAL_INCLUDING_GST,
    UblFaults,
    amount_text,
    decimal_text,
    to_ubl,
)

NS = {"cac": NS_CAC, "cbc": NS_CBC}


def _root(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _text(root: etree._Element, path: str) -> str | None:
    el = root.find(path, NS)
    return None if el is None else el.text


def test_decimal_and_amount_text():
    assert decimal_text(D("12.50")) == "12.5"
    assert decimal_text(D("1E+2")) == "100"
    assert decimal_text(D("-0")) == "0"
    assert amount_text(D(7)) == "7.00"
    assert amount_text(D("1234.5")) == "1234.50"


def test_totals_and_breakdown_are_the_calculated_ones():
    invoice = build_invoice("allowances-charges", RULESET_BIS, seed=3)
    calc = calculate(invoice)
    root = _root(to_ubl(invoice))
    monetary = "cac:LegalMonetaryTotal/cbc:"
    assert _text(root, monetary + "LineExtensionAmount") == amount_text(calc.totals.line_extension_amount)
    assert _text(root, monetary + "TaxExclusiveAmount") == amount_text(calc.totals.tax_exclusive_amount)
    assert _text(root, monetary + "TaxInclusiveAmount") == amount_text(calc.totals.tax_inclusive_amount)
    assert _text(root, monetary + "AllowanceTotalAmount") == amount_text(calc.totals.allowance_total_amount)
    assert _text(root, monetary + "ChargeTotalAmount") == amount_text(calc.totals.charge_total_amount)
    assert _text(root, monetary + "PayableAmount") == amount_text(calc.totals.payable_amount)
    subtotals = root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert [amount_text(b.tax_amount) for b in calc.breakdown] == [
        s.findtext("cbc:TaxAmount", namespaces=NS) for s in subtotals
    ]
    nets = [el.text for el in root.findall("cac:InvoiceLine/cbc:LineExtensionAmount", NS)]
    assert nets == [amount_text(n) for n in calc.line_net_amounts]


def test_every_amount_carries_the_invoice_currency():
    invoice = build_invoice("foreign-currency", RULESET_BIS, seed=1)
    root = _root(to_ubl(invoice))
    currencies = {el.get("currencyID") for el in root.iter() if el.get("currencyID")}
    assert currencies == {invoice.currency, invoice.tax_currency}
    accounting = [el for el in root.findall("cac:TaxTotal/cbc:TaxAmount", NS) if el.get("currencyID") == invoice.tax_currency]
    assert [el.text for el in accounting] == [amount_text(calculate(invoice).totals.tax_amount_accounting)]


def test_credit_note_is_a_ubl_credit_note_with_due_date_in_payment_means():
    invoice = build_invoice("credit-note", RULESET_BIS, seed=0)
    assert invoice.kind is DocumentKind.CREDIT_NOTE and invoice.due_date is not None
    root = _root(to_ubl(invoice))
    assert etree.QName(root).localname == "CreditNote"
    assert root.find("cbc:DueDate", NS) is None  # UBL 2.1 CreditNote has no DueDate
    assert _text(root, "cac:PaymentMeans/cbc:PaymentDueDate") == invoice.due_date.isoformat()
    assert root.findall("cac:CreditNoteLine/cbc:CreditedQuantity", NS)
    assert _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == invoice.preceding_invoices[0].number


def test_category_without_rate_has_no_percent():
    invoice = build_invoice("vat-O", RULESET_BIS, seed=0)
    root = _root(to_ubl(invoice))
    categories = root.findall(".//cac:ClassifiedTaxCategory", NS) + root.findall(".//cac:TaxSubtotal/cac:TaxCategory", NS)
    assert categories and all(c.find("cbc:Percent", NS) is None for c in categories)
    assert _text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReasonCode") in (None, "VATEX-EU-O")


def test_pint_sg_foreign_currency_carries_totals_in_sgd():
    invoice = build_invoice("pint-sg-foreign-currency", RULESET_PINT_SG, seed=0)
    totals = calculate(invoice).totals
    root = _root(to_ubl(invoice))
    refs = {
        el.findtext("cbc:DocumentTypeCode", namespaces=NS): (el.findtext("cbc:ID", namespaces=NS), el.findtext("cbc:DocumentDescription", namespaces=NS))
        for el in root.findall("cac:AdditionalDocumentReference", NS)
    }
    assert refs == {
        SG_TOTAL_EXCLUDING_GST: ("SGD", amount_text(totals.tax_exclusive_amount_accounting)),
        SG_TOTAL_INCLUDING_GST: ("SGD", amount_text(totals.tax_inclusive_amount_accounting)),
    }
    assert _text(root, "cbc:ProfileID") == "urn:peppol:bis:billing"
    assert {el.text for el in root.iter(f"{{{NS_CBC}}}ID") if el.getparent().tag == f"{{{NS_CAC}}}TaxScheme"} == {"GST"}


def test_total_overrides_replace_only_their_term():
    invoice = build_invoice("invoice-standard", RULESET_BIS, seed=0)
    good = _root(to_ubl(invoice))
    bad = _root(to_ubl(invoice, faults=UblFaults(payable_amount=D("1.23"))))
    assert _text(bad, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "1.23"
    for term in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount"):
        path = f"cac:LegalMonetaryTotal/cbc:{term}"
        assert _text(bad, path) == _text(good, path)


def test_breakdown_and_line_deltas_hit_the_named_category():
    invoice = build_invoice("vat-Z", RULESET_BIS, seed=0)
    calc = calculate(invoice)
    root = _root(
        to_ubl(invoice, faults=UblFaults(breakdown_tax_amount_delta=("S", D(5)), line_net_amount_delta=("Z", D(10))))
    )
    for sub, group in zip(root.findall("cac:TaxTotal/cac:TaxSubtotal", NS), calc.breakdown):
        expected = group.tax_amount + (D(5) if group.category.code == "S" else 0)
        assert sub.findtext("cbc:TaxAmount", namespaces=NS) == amount_text(expected)
    first_z = next(i for i, line in enumerate(invoice.lines) if line.tax_category.code == "Z")
    for i, el in enumerate(root.findall("cac:InvoiceLine/cbc:LineExtensionAmount", NS)):
        expected = calc.line_net_amounts[i] + (D(10) if i == first_z else 0)
        assert el.text == amount_text(expected)


def test_omit_buyer_reference_drops_buyer_and_order_reference():
    invoice = dataclasses.replace(
        build_invoice("invoice-standard", RULESET_BIS, seed=0), buyer_reference="B1", order_reference="O1"
    )
    facts = document_facts(to_ubl(invoice, faults=UblFaults(omit_buyer_reference=True)))
    assert not facts.buyer_reference_present and not facts.order_reference_present
    facts = document_facts(to_ubl(invoice))
    assert facts.buyer_reference_present and facts.order_reference_present


def test_currency_code_fault_changes_document_currency_and_amounts():
    root = _root(to_ubl(build_invoice("invoice-standard", RULESET_BIS, seed=0), faults=UblFaults(currency_code="QQQ")))
    assert _text(root, "cbc:DocumentCurrencyCode") == "QQQ"
    assert {el.get("currencyID") for el in root.iter() if el.get("currencyID")} == {"QQQ"}


def test_header_faults():
    invoice = build_invoice("pint-sg-gst", RULESET_PINT_SG, seed=0)
    root = _root(
        to_ubl(
            invoice,
            faults=UblFaults(
                customization_id="urn:x", profile_id="urn:y", type_code="999", omit_uuid=True, empty_note=True,
                omit_seller_electronic_address=True, omit_seller_name=True, omit_buyer_country=True,
                omit_first_item_name=True, first_line_unit_code="ZZQ", seller_vat_identifier="X1",
            ),
        )
    )
    assert (_text(root, "cbc:CustomizationID"), _text(root, "cbc:ProfileID"), _text(root, "cbc:InvoiceTypeCode")) == (
        "urn:x", "urn:y", "999",
    )
    assert root.find("cbc:UUID", NS) is None
    assert root.find("cbc:Note", NS).text is None  # the empty note comes first
    seller = "cac:AccountingSupplierParty/cac:Party/"
    assert root.find(seller + "cbc:EndpointID", NS) is None
    assert root.find(seller + "cac:PartyLegalEntity/cbc:RegistrationName", NS) is None
    assert _text(root, seller + "cac:PartyTaxScheme/cbc:CompanyID") == "X1"
    assert root.find("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country", NS) is None
    first_line = root.find("cac:InvoiceLine", NS)
    assert first_line.find("cac:Item/cbc:Name", NS) is None
    assert first_line.find("cbc:InvoicedQuantity", NS).get("unitCode") == "ZZQ"


def test_tax_category_code_fault_replaces_the_code_everywhere():
    invoice = build_invoice("pint-sg-exempt", RULESET_PINT_SG, seed=0)
    root = _root(to_ubl(invoice, faults=UblFaults(tax_category_code=("SR", "S"))))
    codes = {el.findtext("cbc:ID", namespaces=NS) for el in root.iter(f"{{{NS_CAC}}}ClassifiedTaxCategory", f"{{{NS_CAC}}}TaxCategory")}
    assert codes == {"S", "ES33"}


@pytest.mark.parametrize("fault", ["omit_tax_total_accounting", "omit_accounting_totals"])
def test_accounting_currency_omissions(fault: str):
    invoice = build_invoice("pint-sg-foreign-currency", RULESET_PINT_SG, seed=2)
    facts_good = document_facts(to_ubl(invoice))
    root = _root(to_ubl(invoice, faults=UblFaults(**{fault: True})))
    assert facts_good.tax_total_in_tax_currency_present
    if fault == "omit_tax_total_accounting":
        assert len(root.findall("cac:TaxTotal", NS)) == 1
    else:
        assert root.findall("cac:AdditionalDocumentReference", NS) == []


def test_writer_is_deterministic_and_model_is_untouched():
    invoice = build_invoice("vat-mixed", RULESET_BIS, seed=4)
    snapshot = dataclasses.replace(invoice)
    assert to_ubl(invoice) == to_ubl(invoice)
    to_ubl(invoice, faults=UblFaults(payable_amount=D(1)))
    assert invoice == snapshot


def test_model_tax_category_key_normalises_rates():
    assert TaxCategory("S", D("25.0")).key == TaxCategory("S", D(25)).key


def test_tax_amount_in_accounting_currency_can_be_overridden():
    invoice = build_invoice("foreign-currency", RULESET_BIS, seed=0)
    root = _root(to_ubl(invoice, faults=UblFaults(tax_amount_accounting=D("-3.00"))))
    amounts = {el.get("currencyID"): el.text for el in root.findall("cac:TaxTotal/cbc:TaxAmount", NS)}
    assert amounts[invoice.tax_currency] == "-3.00"
    assert amounts[invoice.currency] == amount_text(calculate(invoice).totals.tax_amount)
