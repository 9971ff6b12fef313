"""EN 16931 calculation of line net amounts, document totals (BG-22) and VAT breakdown (BG-23).

The rules implemented here, by number:

- BT-131 line net amount = BT-129 quantity x (BT-146 net price / BT-149 base quantity)
  + sum of BT-141 line charges - sum of BT-136 line allowances (PEPPOL-EN16931-R120),
  rounded to 2 decimals (BR-DEC-23).
- BR-CO-10 BT-106 = sum of BT-131; BR-CO-11 BT-107 = sum of BT-92; BR-CO-12 BT-108 = sum of
  BT-99; BR-CO-13 BT-109 = BT-106 - BT-107 + BT-108; BR-CO-14 BT-110 = sum of BT-117;
  BR-CO-15 BT-112 = BT-109 + BT-110; BR-CO-16 BT-115 = BT-112 - BT-113 + BT-114.
- BR-CO-17 and BR-S/Z/E/AE/K/G/O-08/09: one breakdown group per VAT category and rate;
  BT-116 taxable amount = line nets + document charges - document allowances of that
  category and rate; BT-117 = BT-116 x BT-119 / 100 rounded to 2 decimals per group
  (so rounding happens once per category, not per line). Categories that carry no VAT
  (rate 0 or no rate) get BT-117 = 0.
- BT-111 total VAT in accounting currency (BT-6), derived from BT-110 with the invoice's
  exchange rate, rounded to 2 decimals and of the same sign (PEPPOL-EN16931-R055).

Rounding is commercial (half away from zero), which agrees with the rules' own XPath
``round(x * 100) div 100`` for the non-negative amounts the harness builds and stays within
their tolerance otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from harness.errors import HarnessError
from harness.peppol.model import Invoice, InvoiceLine, TaxCategory

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class InvalidInvoiceError(HarnessError):
    """The model cannot be computed (e.g. a tax currency without an exchange rate)."""


def round_amount(value: Decimal) -> Decimal:
    """Round an amount to 2 decimals, half away from zero (EN 16931 amounts, BR-DEC-*)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class VatBreakdown:
    """BG-23: one VAT breakdown group."""

    category: TaxCategory  # BT-118 code, BT-119 rate
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121


@dataclass(frozen=True)
class DocumentTotals:
    """BG-22 document totals."""

    line_extension_amount: Decimal  # BT-106
    allowance_total_amount: Decimal | None  # BT-107 (present when BG-20 exists)
    charge_total_amount: Decimal | None  # BT-108 (present when BG-21 exists)
    tax_exclusive_amount: Decimal  # BT-109
    tax_amount: Decimal  # BT-110
    tax_amount_accounting: Decimal | None  # BT-111 (present when BT-6 exists)
    tax_inclusive_amount: Decimal  # BT-112
    prepaid_amount: Decimal | None  # BT-113
    rounding_amount: Decimal | None  # BT-114
    payable_amount: Decimal  # BT-115
    # Totals in the accounting currency that PINT SG asks for (BR-53-GST-SG).
    tax_exclusive_amount_accounting: Decimal | None = None
    tax_inclusive_amount_accounting: Decimal | None = None


@dataclass(frozen=True)
class Calculation:
    """Everything EN 16931 derives from an :class:`Invoice`."""

    line_net_amounts: tuple[Decimal, ...]  # BT-131 per line, in line order
    totals: DocumentTotals  # BG-22
    breakdown: tuple[VatBreakdown, ...]  # BG-23, in order of first use


def line_net_amount(line: InvoiceLine) -> Decimal:
    """BT-131 of one line (PEPPOL-EN16931-R120, BR-DEC-23)."""
    base_quantity = line.price.base_quantity or Decimal(1)
    gross = line.quantity * (line.price.net_amount / base_quantity)
    charges = sum((ac.amount for ac in line.allowances_charges if ac.charge), Decimal(0))
    allowances = sum((ac.amount for ac in line.allowances_charges if not ac.charge), Decimal(0))
    return round_amount(gross + charges - allowances)


def vat_amount(category: TaxCategory, taxable_amount: Decimal) -> Decimal:
    """BT-117 of one breakdown group (BR-CO-17)."""
    if category.rate is None or category.rate == 0:
        return ZERO
    return round_amount(taxable_amount * category.rate / 100)


def calculate(invoice: Invoice) -> Calculation:
    """Derive BT-131 per line, BG-22 and BG-23 from the invoice's lines and allowances/charges.

    Raises :class:`InvalidInvoiceError` when the model lacks what a derivation needs.
    """
    if not invoice.lines:
        raise InvalidInvoiceError(
            f"invoice {invoice.number!r} has no lines; EN 16931 (BR-16) needs at least one BG-25"
        )
    if (invoice.tax_currency is None) != (invoice.tax_exchange_rate is None):
        raise InvalidInvoiceError(
            f"invoice {invoice.number!r}: give both tax_currency (BT-6) and tax_exchange_rate, "
            "or neither; BT-111 is derived from them"
        )
    nets = tuple(line_net_amount(line) for line in invoice.lines)

    taxable: dict[tuple[str, Decimal | None], Decimal] = {}
    categories: dict[tuple[str, Decimal | None], TaxCategory] = {}

    def add(category: TaxCategory, amount: Decimal) -> None:
        key = category.key
        categories.setdefault(key, category)
        taxable[key] = taxable.get(key, Decimal(0)) + amount

    for line, net in zip(invoice.lines, nets):
        add(line.tax_category, net)
    for ac in invoice.allowances_charges:
        add(ac.tax_category, ac.amount if ac.charge else -ac.amount)

    breakdown = []
    for key, amount in taxable.items():
        category = categories[key]
        taxable_amount = round_amount(amount)
        reason = invoice.exemption_reason_for(category.code)
        breakdown.append(
            VatBreakdown(
                category=category,
                taxable_amount=taxable_amount,
                tax_amount=vat_amount(category, taxable_amount),
                exemption_reason=reason.text if reason else None,
                exemption_reason_code=reason.code if reason else None,
            )
        )

    line_extension = round_amount(sum(nets, Decimal(0)))
    allowances = invoice.document_allowances
    charges = invoice.document_charges
    allowance_total = round_amount(sum((a.amount for a in allowances), Decimal(0)))
    charge_total = round_amount(sum((c.amount for c in charges), Decimal(0)))
    tax_exclusive = line_extension - allowance_total + charge_total
    tax_amount = round_amount(sum((b.tax_amount for b in breakdown), Decimal(0)))
    tax_inclusive = tax_exclusive + tax_amount
    payable = tax_inclusive - (invoice.prepaid_amount or 0) + (invoice.rounding_amount or 0)

    tax_accounting = excl_accounting = incl_accounting = None
    if invoice.tax_exchange_rate is not None:
        rate = invoice.tax_exchange_rate
        tax_accounting = round_amount(tax_amount * rate)
        excl_accounting = round_amount(tax_exclusive * rate)
        incl_accounting = excl_accounting + tax_accounting

    totals = DocumentTotals(
        line_extension_amount=line_extension,
        allowance_total_amount=allowance_total if allowances else None,
        charge_total_amount=charge_total if charges else None,
        tax_exclusive_amount=tax_exclusive,
        tax_amount=tax_amount,
        tax_amount_accounting=tax_accounting,
        tax_inclusive_amount=tax_inclusive,
        prepaid_amount=invoice.prepaid_amount,
        rounding_amount=invoice.rounding_amount,
        payable_amount=round_amount(payable),
        tax_exclusive_amount_accounting=excl_accounting,
        tax_inclusive_amount_accounting=incl_accounting,
    )
    return Calculation(line_net_amounts=nets, totals=totals, breakdown=tuple(breakdown))
