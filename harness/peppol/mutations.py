"""Mutations: one deliberate fault each, with the exact set of official rules it must fire.

A :class:`Mutation` takes a valid invoice of the model and writes a document that is wrong
in one named way, through :class:`harness.peppol.ubl.UblFaults` (for what the model cannot
express: a wrong derived total, a missing mandatory element) and/or a change of the model
itself (a seller without a VAT identifier). ``declared`` is the set of qualified rule ids
(``<rule set>:<assert id>``) that must fire at error/fatal level, and nothing else may:
arithmetic rules overlap, so one fault often breaks several. The sets are verified against
the official rules for generated base documents (``tests/unit/test_mutations.py`` and the
campaign, :mod:`harness.peppol.campaign`).

``applies`` says which base documents a mutation is meant for: a fault on the VAT
exemption reason of category E needs a document with category E.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from harness.errors import ConfigError
from harness.peppol.calculator import Calculation, calculate
from harness.peppol.model import DocumentKind, Invoice, Party, VatExemptionReason
from harness.peppol.scenarios import RULESET_BIS, RULESET_PINT_SG
from harness.peppol.ubl import UblFaults, to_ubl

CEN = "cen-ubl-1.3.14.1"
PEPPOL = RULESET_BIS
PINT_SG = RULESET_PINT_SG

# Values that no code list of the rule files contains (tests assert that they do not).
INVALID_CURRENCY = "QQQ"
INVALID_UNIT = "ZZQ"
INVALID_TYPE_CODE = "999"
INVALID_EAS = "0000"
WRONG_BIS_CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"
WRONG_PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:1.0"
WRONG_SG_CUSTOMIZATION_ID = "urn:peppol:pint:billing-1"
# PINT SG categories that make the GST-registration rules BR-105..BR-113-GST-SG apply.
_SG_REGISTERED_CATEGORIES = frozenset({"SR", "SRCA-S", "SRCA-C", "ZR", "SRRC", "SROVR-RS", "SROVR-LVG", "SRLVG", "NA"})

_Faults = Callable[[Invoice, Calculation], UblFaults]
_Predicate = Callable[[Invoice], bool]


@dataclass(frozen=True)
class Mutation:
    """One fault and the rules it must fire."""

    id: str
    description: str
    applies_to: frozenset[str]  # rule-set ids of the base documents (scenarios' rule sets)
    declared: frozenset[str]  # qualified ids that fire at error/fatal level, exactly
    faults: _Faults = dataclasses.field(repr=False, compare=False, default=lambda inv, calc: UblFaults())
    transform: Callable[[Invoice], Invoice] | None = dataclasses.field(repr=False, compare=False, default=None)
    when: _Predicate = dataclasses.field(repr=False, compare=False, default=lambda inv: True)

    def applies(self, invoice: Invoice, ruleset_id: str) -> bool:
        """Whether this mutation is meant for ``invoice`` built under ``ruleset_id``."""
        return ruleset_id in self.applies_to and self.when(invoice)

    def apply(self, invoice: Invoice) -> bytes:
        """The mutated document, as UBL bytes."""
        model = self.transform(invoice) if self.transform is not None else invoice
        return to_ubl(model, faults=self.faults(model, calculate(model)))


# -- predicates ---------------------------------------------------------------------------------


def _categories(invoice: Invoice) -> frozenset[str]:
    return frozenset(
        [line.tax_category.code for line in invoice.lines]
        + [ac.tax_category.code for ac in invoice.allowances_charges]
    )


def _has(code: str) -> _Predicate:
    return lambda inv: code in _categories(inv)


def _is_invoice(invoice: Invoice) -> bool:
    return invoice.kind is DocumentKind.INVOICE


def _is_credit_note(invoice: Invoice) -> bool:
    return invoice.kind is DocumentKind.CREDIT_NOTE


def _foreign(invoice: Invoice) -> bool:
    return invoice.tax_currency is not None


def _sg_registered(invoice: Invoice) -> bool:
    return bool(_categories(invoice) & _SG_REGISTERED_CATEGORIES)


def _standard_rated_lines_worth_a_unit(invoice: Invoice) -> bool:
    """The first standard rated line's rate group has line net amounts of at least 2.00.

    BR-S-08 (CEN 1.3.14.1) has a second branch meant for credit notes that an invoice also
    satisfies when its S allowances/charges at that rate alone come within 1 of the taxable
    amount, i.e. when the lines of that rate add up to less than 1 (or exactly 1: the rule
    subtracts in floating point): then a wrong line net amount does not make BR-S-08 fire.
    """
    first = next((line for line in invoice.lines if line.tax_category.code == "S"), None)
    if first is None:
        return False
    nets = calculate(invoice).line_net_amounts
    group = sum(
        (net for line, net in zip(invoice.lines, nets) if line.tax_category.key == first.tax_category.key),
        Decimal(0),
    )
    return group >= 2


def _amount_due_positive(invoice: Invoice) -> bool:
    """BR-CO-25 asks for a due date or payment terms only when the amount due is positive."""
    return invoice.kind is DocumentKind.INVOICE and calculate(invoice).totals.payable_amount > 0


def _all_of(*predicates: _Predicate) -> _Predicate:
    return lambda inv: all(p(inv) for p in predicates)


# -- model changes -------------------------------------------------------------------------------


def _seller(invoice: Invoice, **changes: object) -> Invoice:
    seller: Party = dataclasses.replace(invoice.seller, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(invoice, seller=seller)


def _buyer(invoice: Invoice, **changes: object) -> Invoice:
    buyer: Party = dataclasses.replace(invoice.buyer, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(invoice, buyer=buyer)


def _without_exemption(code: str) -> Callable[[Invoice], Invoice]:
    return lambda inv: dataclasses.replace(
        inv, vat_exemption_reasons=tuple(r for r in inv.vat_exemption_reasons if r.category_code != code)
    )


def _q(ruleset: str, *ids: str) -> frozenset[str]:
    return frozenset(f"{ruleset}:{i}" for i in ids)


ONE = Decimal("1.00")

_BIS = frozenset({RULESET_BIS})
_SG = frozenset({RULESET_PINT_SG})

_CATALOGUE: tuple[Mutation, ...] = (
    # ---- Peppol BIS Billing 3.0: totals (BG-22) and breakdown (BG-23) -----------------------
    Mutation(
        "bis-payable-amount-wrong",
        "Amount due for payment (BT-115) one unit more than BT-112 - BT-113 + BT-114",
        _BIS,
        _q(CEN, "BR-CO-16"),
        faults=lambda inv, calc: UblFaults(payable_amount=calc.totals.payable_amount + ONE),
    ),
    Mutation(
        "bis-tax-inclusive-amount-wrong",
        "Invoice total with VAT (BT-112) one unit more than BT-109 + BT-110",
        _BIS,
        _q(CEN, "BR-CO-15", "BR-CO-16"),
        faults=lambda inv, calc: UblFaults(tax_inclusive_amount=calc.totals.tax_inclusive_amount + ONE),
    ),
    Mutation(
        "bis-tax-exclusive-amount-wrong",
        "Invoice total without VAT (BT-109) one unit more than BT-106 - BT-107 + BT-108",
        _BIS,
        _q(CEN, "BR-CO-13", "BR-CO-15"),
        faults=lambda inv, calc: UblFaults(tax_exclusive_amount=calc.totals.tax_exclusive_amount + ONE),
    ),
    Mutation(
        "bis-line-extension-amount-wrong",
        "Sum of line net amounts (BT-106) one unit more than the lines add up to",
        _BIS,
        _q(CEN, "BR-CO-10", "BR-CO-13"),
        faults=lambda inv, calc: UblFaults(line_extension_amount=calc.totals.line_extension_amount + ONE),
    ),
    Mutation(
        "bis-tax-amount-wrong",
        "Invoice total VAT (BT-110) one unit more than the breakdown adds up to",
        _BIS,
        _q(CEN, "BR-CO-14", "BR-CO-15"),
        faults=lambda inv, calc: UblFaults(tax_amount=calc.totals.tax_amount + ONE),
    ),
    Mutation(
        "bis-allowance-total-wrong",
        "Sum of document allowances (BT-107) one unit more than the allowances add up to",
        _BIS,
        _q(CEN, "BR-CO-11", "BR-CO-13"),
        faults=lambda inv, calc: UblFaults(
            allowance_total_amount=(calc.totals.allowance_total_amount or Decimal(0)) + ONE
        ),
        when=lambda inv: bool(inv.document_allowances),
    ),
    Mutation(
        "bis-charge-total-wrong",
        "Sum of document charges (BT-108) one unit more than the charges add up to",
        _BIS,
        _q(CEN, "BR-CO-12", "BR-CO-13"),
        faults=lambda inv, calc: UblFaults(charge_total_amount=(calc.totals.charge_total_amount or Decimal(0)) + ONE),
        when=lambda inv: bool(inv.document_charges),
    ),
    Mutation(
        "bis-standard-rated-vat-amount-wrong",
        "VAT amount (BT-117) of the standard rated breakdown 5 units more than taxable amount x rate",
        _BIS,
        _q(CEN, "BR-CO-14", "BR-CO-17", "BR-S-09"),
        faults=lambda inv, calc: UblFaults(breakdown_tax_amount_delta=("S", Decimal(5))),
        when=_has("S"),
    ),
    Mutation(
        "bis-line-net-amount-wrong",
        "Net amount (BT-131) of the first standard rated line 10 units more than quantity x price",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R120") | _q(CEN, "BR-CO-10", "BR-S-08"),
        faults=lambda inv, calc: UblFaults(line_net_amount_delta=("S", Decimal(10))),
        when=_standard_rated_lines_worth_a_unit,
    ),
    # ---- Peppol BIS Billing 3.0: mandatory information --------------------------------------
    Mutation(
        "bis-missing-buyer-reference",
        "Neither buyer reference (BT-10) nor purchase order reference (BT-13)",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R003"),
        faults=lambda inv, calc: UblFaults(omit_buyer_reference=True),
    ),
    Mutation(
        "bis-missing-seller-electronic-address",
        "No seller electronic address (BT-34)",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R020"),
        faults=lambda inv, calc: UblFaults(omit_seller_electronic_address=True),
    ),
    Mutation(
        "bis-missing-buyer-electronic-address",
        "No buyer electronic address (BT-49)",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R010"),
        faults=lambda inv, calc: UblFaults(omit_buyer_electronic_address=True),
    ),
    Mutation(
        "bis-missing-seller-name",
        "No seller name (BT-27)",
        _BIS,
        _q(CEN, "BR-06"),
        faults=lambda inv, calc: UblFaults(omit_seller_name=True),
    ),
    Mutation(
        "bis-missing-buyer-country",
        "No buyer country code (BT-55) in the buyer postal address",
        _BIS,
        _q(CEN, "BR-11"),
        faults=lambda inv, calc: UblFaults(omit_buyer_country=True),
    ),
    Mutation(
        "bis-missing-item-name",
        "No item name (BT-153) on the first line",
        _BIS,
        _q(CEN, "BR-25"),
        faults=lambda inv, calc: UblFaults(omit_first_item_name=True),
    ),
    Mutation(
        "bis-missing-due-date-and-terms",
        "A positive amount due without payment due date (BT-9) or payment terms (BT-20)",
        _BIS,
        _q(CEN, "BR-CO-25"),
        faults=lambda inv, calc: UblFaults(omit_due_date=True, omit_payment_terms=True),
        when=_amount_due_positive,
    ),
    Mutation(
        "bis-empty-element",
        "An empty element (an empty invoice note)",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R008"),
        faults=lambda inv, calc: UblFaults(empty_note=True, omit_notes=True),
    ),
    # ---- Peppol BIS Billing 3.0: identifiers and codes -----------------------------------------
    Mutation(
        "bis-wrong-customization-id",
        "Specification identifier (BT-24) of plain EN 16931 instead of Peppol BIS Billing 3.0",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R004"),
        faults=lambda inv, calc: UblFaults(customization_id=WRONG_BIS_CUSTOMIZATION_ID),
    ),
    Mutation(
        "bis-wrong-profile-id",
        "Business process (BT-23) not of the form urn:fdc:peppol.eu:2017:poacc:billing:NN:1.0",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R007"),
        faults=lambda inv, calc: UblFaults(profile_id=WRONG_PROFILE_ID),
    ),
    Mutation(
        "bis-invalid-currency-code",
        "Invoice currency (BT-5) and every amount's currencyID not an ISO 4217 code",
        _BIS,
        _q(CEN, "BR-CL-03", "BR-CL-04") | _q(PEPPOL, "PEPPOL-EN16931-CL007"),
        faults=lambda inv, calc: UblFaults(currency_code=INVALID_CURRENCY),
    ),
    Mutation(
        "bis-invalid-unit-code",
        "Unit of measure (BT-130) of the first line not a UN/ECE Rec 20 code",
        _BIS,
        _q(CEN, "BR-CL-23"),
        faults=lambda inv, calc: UblFaults(first_line_unit_code=INVALID_UNIT),
    ),
    Mutation(
        "bis-invalid-invoice-type-code",
        "Invoice type code (BT-3) not in UNTDID 1001",
        _BIS,
        _q(CEN, "BR-CL-01") | _q(PEPPOL, "PEPPOL-EN16931-P0100"),
        faults=lambda inv, calc: UblFaults(type_code=INVALID_TYPE_CODE),
        when=_is_invoice,
    ),
    Mutation(
        "bis-invalid-credit-note-type-code",
        "Credit note type code (BT-3) not in UNTDID 1001",
        _BIS,
        _q(CEN, "BR-CL-01") | _q(PEPPOL, "PEPPOL-EN16931-P0101"),
        faults=lambda inv, calc: UblFaults(type_code=INVALID_TYPE_CODE),
        when=_is_credit_note,
    ),
    Mutation(
        "bis-invalid-endpoint-scheme",
        "Seller electronic address scheme (BT-34-1) not in the EAS code list",
        _BIS,
        _q(CEN, "BR-CL-25") | _q(PEPPOL, "PEPPOL-EN16931-CL008"),
        faults=lambda inv, calc: UblFaults(seller_endpoint_scheme=INVALID_EAS),
    ),
    Mutation(
        "bis-vat-identifier-without-country-prefix",
        "Seller VAT identifier (BT-31) without its ISO 3166 country prefix",
        _BIS,
        _q(CEN, "BR-CO-09"),
        faults=lambda inv, calc: UblFaults(seller_vat_identifier=(inv.seller.vat_identifier or "")[2:]),
        when=lambda inv: inv.seller.vat_identifier is not None,
    ),
    # ---- Peppol BIS Billing 3.0: VAT category consistency --------------------------------------
    Mutation(
        "bis-standard-rated-without-seller-vat-identifier",
        "Standard rated lines but no seller VAT identifier (BT-31)",
        _BIS,
        _q(CEN, "BR-S-02"),
        transform=lambda inv: _seller(inv, vat_identifier=None),
        when=lambda inv: _categories(inv) == {"S"} and not inv.allowances_charges,
    ),
    Mutation(
        "bis-exempt-without-reason",
        "Exempt (E) breakdown without exemption reason (BT-120) or code (BT-121)",
        _BIS,
        _q(CEN, "BR-E-10"),
        transform=_without_exemption("E"),
        when=_has("E"),
    ),
    Mutation(
        "bis-zero-rated-with-exemption-reason",
        "Zero rated (Z) breakdown with an exemption reason, which Z must not have",
        _BIS,
        _q(CEN, "BR-Z-10"),
        transform=lambda inv: dataclasses.replace(
            inv,
            vat_exemption_reasons=inv.vat_exemption_reasons
            + (VatExemptionReason(category_code="Z", text="Zero rated"),),
        ),
        when=_has("Z"),
    ),
    Mutation(
        "bis-reverse-charge-without-buyer-identifiers",
        "Reverse charge (AE) without buyer VAT identifier (BT-48) or legal registration (BT-47)",
        _BIS,
        _q(CEN, "BR-AE-02"),
        transform=lambda inv: _buyer(inv, vat_identifier=None, legal_registration=None),
        when=lambda inv: _categories(inv) == {"AE"} and not inv.allowances_charges,
    ),
    Mutation(
        "bis-intra-community-without-delivery",
        "Intra-community supply (K) without delivery date, invoicing period or deliver-to country",
        _BIS,
        _q(CEN, "BR-IC-11", "BR-IC-12"),
        transform=lambda inv: dataclasses.replace(inv, delivery=None, invoicing_period=None),
        when=_has("K"),
    ),
    Mutation(
        "bis-outside-scope-with-seller-vat-identifier",
        "Outside the scope of VAT (O) but a seller VAT identifier (BT-31) is given",
        _BIS,
        _q(CEN, "BR-O-02"),
        transform=lambda inv: _seller(inv, vat_identifier=f"{inv.seller.postal_address.country_code}123456789"),
        when=lambda inv: _categories(inv) == {"O"} and not inv.allowances_charges,
    ),
    Mutation(
        "bis-missing-tax-total-in-accounting-currency",
        "VAT accounting currency (BT-6) given without the VAT total in that currency (BT-111)",
        _BIS,
        _q(CEN, "BR-53") | _q(PEPPOL, "PEPPOL-EN16931-R054", "PEPPOL-EN16931-R055"),
        faults=lambda inv, calc: UblFaults(omit_tax_total_accounting=True),
        when=_foreign,
    ),
    Mutation(
        "bis-tax-amount-in-accounting-currency-sign-differs",
        "VAT total in accounting currency (BT-111) negative while the VAT total (BT-110) is positive",
        _BIS,
        _q(PEPPOL, "PEPPOL-EN16931-R055"),
        faults=lambda inv, calc: UblFaults(
            tax_amount_accounting=-(calc.totals.tax_amount_accounting or Decimal(0)) - ONE
        ),
        when=lambda inv: _foreign(inv) and calculate(inv).totals.tax_amount > 0,
    ),
    # ---- PINT SG -----------------------------------------------------------------------------
    Mutation(
        "sg-payable-amount-wrong",
        "PINT SG: amount due for payment (BT-115) one unit more than it should be",
        _SG,
        _q(PINT_SG, "ibr-co-16", "BR-CO-16-GST-SG"),
        faults=lambda inv, calc: UblFaults(payable_amount=calc.totals.payable_amount + ONE),
    ),
    Mutation(
        "sg-tax-amount-wrong",
        "PINT SG: invoice total GST (BT-110) one unit more than the breakdown adds up to",
        _SG,
        _q(PINT_SG, "ibr-co-14", "ibr-co-15", "BR-CO-14-GST-SG", "BR-CO-15-GST-SG"),
        faults=lambda inv, calc: UblFaults(tax_amount=calc.totals.tax_amount + ONE),
        when=_is_invoice,
    ),
    Mutation(
        "sg-credit-note-tax-amount-wrong",
        "PINT SG credit note: total GST (BT-110) one unit more than the breakdown adds up to",
        _SG,
        # Not ibr-co-14: in PINT 1.1.3 its rule context reads "/cn:CreditNote/cac:Taxtotal"
        # (lower-case t), so it never applies to a credit note; BR-CO-14-GST-SG does.
        _q(PINT_SG, "ibr-co-15", "BR-CO-14-GST-SG", "BR-CO-15-GST-SG"),
        faults=lambda inv, calc: UblFaults(tax_amount=calc.totals.tax_amount + ONE),
        when=_is_credit_note,
    ),
    Mutation(
        "sg-tax-exclusive-amount-wrong",
        "PINT SG: invoice total without GST (BT-109) one unit more than it should be",
        _SG,
        _q(PINT_SG, "ibr-co-13", "ibr-co-15", "BR-CO-13-GST-SG", "BR-CO-15-GST-SG"),
        faults=lambda inv, calc: UblFaults(tax_exclusive_amount=calc.totals.tax_exclusive_amount + ONE),
    ),
    Mutation(
        "sg-wrong-customization-id",
        "PINT SG: specification identifier (BT-24) of PINT without the Singapore extension",
        _SG,
        _q(PINT_SG, "PEPPOL-EN16931-R004-SG"),
        faults=lambda inv, calc: UblFaults(customization_id=WRONG_SG_CUSTOMIZATION_ID),
    ),
    Mutation(
        "sg-wrong-profile-id",
        "PINT SG: business process (BT-23) other than urn:peppol:bis:billing",
        _SG,
        _q(PINT_SG, "PEPPOL-EN16931-R007-SG"),
        faults=lambda inv, calc: UblFaults(profile_id=WRONG_PROFILE_ID),
    ),
    Mutation(
        "sg-missing-buyer-reference",
        "PINT SG: neither buyer reference (BT-10) nor purchase order reference (BT-13)",
        _SG,
        _q(PINT_SG, "PEPPOL-EN16931-R003-SG"),
        faults=lambda inv, calc: UblFaults(omit_buyer_reference=True),
    ),
    Mutation(
        "sg-missing-uuid",
        "PINT SG: GST registered supply without the unique invoice identifier (BT-SG-003)",
        _SG,
        _q(PINT_SG, "BR-108-GST-SG"),
        faults=lambda inv, calc: UblFaults(omit_uuid=True),
        when=_sg_registered,
    ),
    Mutation(
        "sg-missing-seller-gst-identifier",
        "PINT SG: standard or zero rated supply without seller GST identifier (BT-31)",
        _SG,
        _q(PINT_SG, "BR-105-GST-SG"),
        transform=lambda inv: _seller(inv, vat_identifier=None),
        when=_sg_registered,
    ),
    Mutation(
        "sg-invalid-gst-category",
        "PINT SG: the EU category code S used instead of the Singapore code SR",
        _SG,
        _q(PINT_SG, "BR-CL-17-GST-SG", "BR-CL-18-GST-SG"),
        faults=lambda inv, calc: UblFaults(tax_category_code=("SR", "S")),
        when=_has("SR"),
    ),
    Mutation(
        "sg-missing-sgd-totals",
        "PINT SG: foreign currency invoice without the totals in SGD",
        _SG,
        _q(PINT_SG, "BR-53-GST-SG"),
        faults=lambda inv, calc: UblFaults(omit_accounting_totals=True),
        when=_foreign,
    ),
    Mutation(
        "sg-missing-due-date-and-terms",
        "PINT SG: a positive amount due without payment due date (BT-9) or payment terms (BT-20)",
        _SG,
        _q(PINT_SG, "BR-CO-25-SG"),
        faults=lambda inv, calc: UblFaults(omit_due_date=True, omit_payment_terms=True),
        when=_amount_due_positive,
    ),
    Mutation(
        "sg-missing-buyer-electronic-address",
        "PINT SG: no buyer electronic address (BT-49)",
        _SG,
        _q(PINT_SG, "ibr-080"),
        faults=lambda inv, calc: UblFaults(omit_buyer_electronic_address=True),
    ),
    Mutation(
        "sg-empty-element",
        "PINT SG: an empty element (an empty invoice note)",
        _SG,
        _q(PINT_SG, "ibr-079"),
        faults=lambda inv, calc: UblFaults(empty_note=True, omit_notes=True),
        when=_is_invoice,
    ),
)


_BY_ID = {m.id: m for m in _CATALOGUE}


def all_mutations() -> tuple[Mutation, ...]:
    """The whole catalogue."""
    return _CATALOGUE


def mutations_for(ruleset_id: str) -> tuple[Mutation, ...]:
    """Mutations meant for base documents of ``ruleset_id``."""
    return tuple(m for m in _CATALOGUE if ruleset_id in m.applies_to)


def get_mutation(mutation_id: str) -> Mutation:
    """The mutation with this id; ConfigError listing the known ids otherwise."""
    try:
        return _BY_ID[mutation_id]
    except KeyError:
        raise ConfigError(f"unknown mutation {mutation_id!r}; known: {', '.join(_BY_ID)}") from None
