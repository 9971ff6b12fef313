"""Typed EN 16931 semantic model of an invoice or credit note.

Every class and field is named after the business group (BG-n) or business term (BT-n) of
EN 16931-1 it carries, so a reader with the standard open finds each term in one place.
The model holds only what a sender decides; everything EN 16931 derives (line net amounts
BT-131, document totals BG-22, the VAT breakdown BG-23) is computed by
:mod:`harness.peppol.calculator`, never written by hand. Money is :class:`decimal.Decimal`.

The same model serves Peppol BIS Billing 3.0 and PINT SG: PINT SG calls VAT "GST"
(``Invoice.tax_scheme``) and uses its own tax category codes (SR, ZR, ES33, ...).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

# BT-24 specification identifiers and BT-23 business process identifiers.
BIS_BILLING_CUSTOMIZATION_ID = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
BIS_BILLING_PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PINT_SG_CUSTOMIZATION_ID = "urn:peppol:pint:billing-1@sg-1"
# PINT SG rule PEPPOL-EN16931-R007-SG demands this exact business process value.
PINT_SG_PROFILE_ID = "urn:peppol:bis:billing"

INVOICE_TYPE_COMMERCIAL = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE_TYPE = "381"  # UNTDID 1001: credit note


class DocumentKind(str, Enum):
    """Which UBL document carries the invoice: ``Invoice`` or ``CreditNote``."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"

    @property
    def root_name(self) -> str:
        return "Invoice" if self is DocumentKind.INVOICE else "CreditNote"


@dataclass(frozen=True)
class Identifier:
    """An identifier with an optional scheme (e.g. BT-29 with BT-29-1, BT-34 with BT-34-1)."""

    value: str
    scheme: str | None = None


@dataclass(frozen=True)
class Address:
    """A postal address: BG-5 (seller), BG-8 (buyer) or BG-15 (deliver to)."""

    country_code: str  # BT-40 / BT-55 / BT-80
    street_name: str | None = None  # BT-35 / BT-50 / BT-75
    additional_street_name: str | None = None  # BT-36 / BT-51 / BT-76
    city_name: str | None = None  # BT-37 / BT-52 / BT-77
    postal_zone: str | None = None  # BT-38 / BT-53 / BT-78
    country_subentity: str | None = None  # BT-39 / BT-54 / BT-79


@dataclass(frozen=True)
class Contact:
    """BG-6 seller contact / BG-9 buyer contact."""

    name: str | None = None  # BT-41 / BT-56
    telephone: str | None = None  # BT-42 / BT-57
    email: str | None = None  # BT-43 / BT-58


@dataclass(frozen=True)
class Party:
    """BG-4 seller or BG-7 buyer."""

    name: str  # BT-27 / BT-44 (legal registration name)
    electronic_address: Identifier  # BT-34 / BT-49 with scheme BT-34-1 / BT-49-1 (EAS)
    postal_address: Address  # BG-5 / BG-8
    trading_name: str | None = None  # BT-28 / BT-45
    identifiers: tuple[Identifier, ...] = ()  # BT-29 / BT-46
    vat_identifier: str | None = None  # BT-31 / BT-48 (VAT or GST registration)
    tax_registration_identifier: str | None = None  # BT-32 (seller only)
    legal_registration: Identifier | None = None  # BT-30 / BT-47 with scheme (ICD)
    legal_form: str | None = None  # BT-33 (seller only)
    contact: Contact | None = None  # BG-6 / BG-9


@dataclass(frozen=True)
class TaxCategory:
    """A VAT category code with its rate.

    Used for BT-151/BT-152 (invoiced item), BT-95/BT-96 (document allowance),
    BT-102/BT-103 (document charge) and, derived, BT-118/BT-119 (breakdown).
    ``rate`` is None only for categories that carry no rate (EN 16931 ``O``, PINT SG ``NG``).
    """

    code: str
    rate: Decimal | None

    @property
    def key(self) -> tuple[str, Decimal | None]:
        """Grouping key of the VAT breakdown (BG-23): one group per category and rate."""
        return (self.code, None if self.rate is None else self.rate.normalize())


@dataclass(frozen=True)
class VatExemptionReason:
    """BT-120 text and/or BT-121 code for the breakdown group of one VAT category."""

    category_code: str
    text: str | None = None  # BT-120
    code: str | None = None  # BT-121 (VATEX)


@dataclass(frozen=True)
class PrecedingInvoiceReference:
    """BG-3 preceding invoice reference (credit notes point at the invoice they correct)."""

    number: str  # BT-25
    issue_date: dt.date | None = None  # BT-26


@dataclass(frozen=True)
class Period:
    """BG-14 invoicing period / BG-26 invoice line period."""

    start_date: dt.date | None = None  # BT-73 / BT-134
    end_date: dt.date | None = None  # BT-74 / BT-135


@dataclass(frozen=True)
class Delivery:
    """BG-13 delivery information."""

    actual_delivery_date: dt.date | None = None  # BT-72
    location_identifier: Identifier | None = None  # BT-71 with scheme BT-71-1
    address: Address | None = None  # BG-15 deliver to address
    party_name: str | None = None  # BT-70


@dataclass(frozen=True)
class CreditTransfer:
    """BG-17 credit transfer."""

    account_identifier: str  # BT-84
    account_name: str | None = None  # BT-85
    service_provider_identifier: str | None = None  # BT-86


@dataclass(frozen=True)
class DirectDebit:
    """BG-19 direct debit."""

    mandate_reference: str  # BT-89
    debited_account: str | None = None  # BT-91


@dataclass(frozen=True)
class PaymentInstructions:
    """BG-16 payment instructions."""

    means_code: str  # BT-81 (UNCL 4461)
    means_text: str | None = None  # BT-82
    remittance_information: str | None = None  # BT-83
    credit_transfer: CreditTransfer | None = None  # BG-17
    direct_debit: DirectDebit | None = None  # BG-19


@dataclass(frozen=True)
class DocumentAllowanceCharge:
    """BG-20 document level allowance (``charge=False``) or BG-21 charge (``charge=True``).

    ``amount`` is BT-92 / BT-99. When ``base_amount`` (BT-93 / BT-100) and ``percentage``
    (BT-94 / BT-101) are given, build it with :meth:`from_percentage` so that the amount is
    their product, as the rules demand.
    """

    charge: bool
    amount: Decimal
    tax_category: TaxCategory  # BT-95/BT-96 or BT-102/BT-103
    reason: str | None = None  # BT-97 / BT-104
    reason_code: str | None = None  # BT-98 (UNCL 5189) / BT-105 (UNCL 7161)
    base_amount: Decimal | None = None
    percentage: Decimal | None = None

    @classmethod
    def from_percentage(
        cls,
        *,
        charge: bool,
        base_amount: Decimal,
        percentage: Decimal,
        tax_category: TaxCategory,
        reason: str | None = None,
        reason_code: str | None = None,
    ) -> DocumentAllowanceCharge:
        from harness.peppol.calculator import round_amount

        return cls(
            charge=charge,
            amount=round_amount(base_amount * percentage / 100),
            tax_category=tax_category,
            reason=reason,
            reason_code=reason_code,
            base_amount=base_amount,
            percentage=percentage,
        )


@dataclass(frozen=True)
class LineAllowanceCharge:
    """BG-27 invoice line allowance (``charge=False``) or BG-28 line charge (``charge=True``)."""

    charge: bool
    amount: Decimal  # BT-136 / BT-141
    reason: str | None = None  # BT-139 / BT-144
    reason_code: str | None = None  # BT-140 / BT-145
    base_amount: Decimal | None = None  # BT-137 / BT-142
    percentage: Decimal | None = None  # BT-138 / BT-143

    @classmethod
    def from_percentage(
        cls,
        *,
        charge: bool,
        base_amount: Decimal,
        percentage: Decimal,
        reason: str | None = None,
        reason_code: str | None = None,
    ) -> LineAllowanceCharge:
        from harness.peppol.calculator import round_amount

        return cls(
            charge=charge,
            amount=round_amount(base_amount * percentage / 100),
            reason=reason,
            reason_code=reason_code,
            base_amount=base_amount,
            percentage=percentage,
        )


@dataclass(frozen=True)
class Price:
    """BG-29 price details.

    ``net_amount`` is the item net price BT-146. A gross price BT-148 implies the price
    discount BT-147 = gross - net, which the UBL writer emits as a price allowance.
    """

    net_amount: Decimal  # BT-146
    base_quantity: Decimal | None = None  # BT-149 (unit code BT-150 = the line's BT-130)
    gross_amount: Decimal | None = None  # BT-148

    @property
    def discount(self) -> Decimal | None:
        """BT-147 item price discount, derived from gross and net price."""
        if self.gross_amount is None:
            return None
        return self.gross_amount - self.net_amount


@dataclass(frozen=True)
class ItemClassification:
    """BT-158 item classification identifier with its scheme BT-158-1 (UNTDID 7143)."""

    code: str
    list_id: str


@dataclass(frozen=True)
class Item:
    """BG-31 item information."""

    name: str  # BT-153
    description: str | None = None  # BT-154
    sellers_identifier: str | None = None  # BT-155
    standard_identifier: Identifier | None = None  # BT-157 with scheme BT-157-1
    classifications: tuple[ItemClassification, ...] = ()  # BT-158
    origin_country: str | None = None  # BT-159


@dataclass(frozen=True)
class InvoiceLine:
    """BG-25 invoice line. Its net amount BT-131 is derived by the calculator."""

    identifier: str  # BT-126
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130 (UN/ECE Rec 20)
    price: Price  # BG-29
    item: Item  # BG-31
    tax_category: TaxCategory  # BG-30: BT-151 / BT-152
    allowances_charges: tuple[LineAllowanceCharge, ...] = ()  # BG-27 / BG-28
    note: str | None = None  # BT-127
    period: Period | None = None  # BG-26
    order_line_reference: str | None = None  # BT-132


@dataclass(frozen=True)
class Invoice:
    """BG-0: the invoice or credit note as EN 16931 sees it.

    ``tax_exchange_rate`` is how many units of the VAT accounting currency (BT-6) one unit
    of the invoice currency (BT-5) is worth; it is what the calculator uses to derive the
    total VAT in accounting currency (BT-111). It is required exactly when BT-6 is given.
    """

    kind: DocumentKind
    number: str  # BT-1
    issue_date: dt.date  # BT-2
    type_code: str  # BT-3 (UNTDID 1001)
    currency: str  # BT-5 (ISO 4217)
    customization_id: str  # BT-24
    profile_id: str  # BT-23
    seller: Party  # BG-4
    buyer: Party  # BG-7
    lines: tuple[InvoiceLine, ...]  # BG-25
    tax_scheme: str = "VAT"  # "VAT" in EN 16931 / BIS; "GST" in PINT SG
    tax_currency: str | None = None  # BT-6
    tax_exchange_rate: Decimal | None = None
    due_date: dt.date | None = None  # BT-9
    buyer_reference: str | None = None  # BT-10
    order_reference: str | None = None  # BT-13
    notes: tuple[str, ...] = ()  # BT-22 (BG-1)
    uuid: str | None = None  # PINT SG BT-SG-003 unique invoice identifier
    invoicing_period: Period | None = None  # BG-14
    preceding_invoices: tuple[PrecedingInvoiceReference, ...] = ()  # BG-3
    delivery: Delivery | None = None  # BG-13
    payment_instructions: PaymentInstructions | None = None  # BG-16
    payment_terms: str | None = None  # BT-20
    allowances_charges: tuple[DocumentAllowanceCharge, ...] = ()  # BG-20 / BG-21
    vat_exemption_reasons: tuple[VatExemptionReason, ...] = ()  # BT-120 / BT-121
    prepaid_amount: Decimal | None = None  # BT-113
    rounding_amount: Decimal | None = None  # BT-114

    def exemption_reason_for(self, category_code: str) -> VatExemptionReason | None:
        """The BT-120/BT-121 given for a VAT category, if any."""
        for reason in self.vat_exemption_reasons:
            if reason.category_code == category_code:
                return reason
        return None

    @property
    def document_allowances(self) -> tuple[DocumentAllowanceCharge, ...]:
        """BG-20 entries."""
        return tuple(ac for ac in self.allowances_charges if not ac.charge)

    @property
    def document_charges(self) -> tuple[DocumentAllowanceCharge, ...]:
        """BG-21 entries."""
        return tuple(ac for ac in self.allowances_charges if ac.charge)
