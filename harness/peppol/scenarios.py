"""The scenario catalogue: which documents a sender must be able to produce, and how to tell them apart.

A :class:`Scenario` names a kind of business document (a standard invoice, a credit note,
an intra-community supply, a PINT SG zero-rated invoice, ...), the rule sets it applies
to, and an :class:`Expectation`: what a document for it must show (document kind, VAT
categories of the breakdown, currencies, ...). Expectations are chosen so that a document
built for one scenario matches its own expectation and no other scenario's.

Documents for a scenario are built by a *recipe* from the EN 16931 model. A recipe draws
its free choices (how many lines, which unit code, which currency, ...) from a
:class:`Draw`: :class:`RandomDraw` makes :func:`build_invoice` deterministic for a seed,
and :mod:`harness.peppol.strategies` plugs in Hypothesis so that the same recipes become
shrinkable strategies. Code values come from the rule files (:mod:`harness.peppol.codelists`).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import uuid as uuid_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, TypeVar

from harness.errors import ConfigError
from harness.peppol import codelists
from harness.peppol.model import (
    BIS_BILLING_CUSTOMIZATION_ID,
    BIS_BILLING_PROFILE_ID,
    CREDIT_NOTE_TYPE,
    INVOICE_TYPE_COMMERCIAL,
    PINT_SG_CUSTOMIZATION_ID,
    PINT_SG_PROFILE_ID,
    Address,
    Contact,
    CreditTransfer,
    Delivery,
    DirectDebit,
    DocumentAllowanceCharge,
    DocumentKind,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    ItemClassification,
    LineAllowanceCharge,
    Party,
    PaymentInstructions,
    PrecedingInvoiceReference,
    Price,
    TaxCategory,
    VatExemptionReason,
)

if TYPE_CHECKING:
    from harness.peppol.inspect import DocumentFacts
    from harness.peppol.ubl import UblFaults

T = TypeVar("T")

RULESET_BIS = "peppol-ubl-3.0.19"
RULESET_PINT_SG = "pint-sg-ubl-1.4.1"

# What a document built for a rule set is validated against: the rule set itself, the CEN
# rules bundled with it and the UBL 2.1 XSD.
_VALIDATION_RULESETS: dict[str, tuple[str, ...]] = {
    RULESET_BIS: ("xsd-ubl-2.1", "cen-ubl-1.3.14.1", RULESET_BIS),
    RULESET_PINT_SG: ("xsd-ubl-2.1", RULESET_PINT_SG),
}

_SPECIFICATION: dict[str, tuple[str, str]] = {
    RULESET_BIS: (BIS_BILLING_CUSTOMIZATION_ID, BIS_BILLING_PROFILE_ID),
    RULESET_PINT_SG: (PINT_SG_CUSTOMIZATION_ID, PINT_SG_PROFILE_ID),
}


def validation_rulesets(ruleset_id: str) -> tuple[str, ...]:
    """Rule-set ids a document built for ``ruleset_id`` must validate clean against."""
    try:
        return _VALIDATION_RULESETS[ruleset_id]
    except KeyError:
        raise ConfigError(
            f"no scenarios are built for rule set {ruleset_id!r}; "
            f"choose one of: {', '.join(_VALIDATION_RULESETS)}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Free choices of a recipe


class Draw(Protocol):
    """Where a recipe takes its free choices from."""

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        ...

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options`` (non-empty)."""
        ...

    def boolean(self) -> bool:
        """True or False."""
        ...


class RandomDraw:
    """A :class:`Draw` over :class:`random.Random`: the same seed gives the same choices."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def integer(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self._rng.randrange(len(options))]

    def boolean(self) -> bool:
        return self._rng.random() < 0.5


# ---------------------------------------------------------------------------------------------
# Expectations


@dataclass(frozen=True)
class Expectation:
    """What a document for a scenario must show. ``None`` means "either way"."""

    kind: DocumentKind
    customization_id: str  # BT-24
    profile_id: str  # BT-23
    foreign_currency: bool  # BT-6 present and different from BT-5
    vat_categories: frozenset[str] | None = None  # exactly these BT-118 codes
    vat_categories_include: frozenset[str] = frozenset()  # at least these BT-118 codes
    min_vat_categories: int = 1  # at least this many distinct BT-118 codes
    min_vat_rates: int = 0  # at least this many distinct BT-119 rates
    max_vat_rates: int | None = None  # at most this many distinct BT-119 rates
    document_allowances: bool | None = None  # BG-20 present
    document_charges: bool | None = None  # BG-21 present
    preceding_invoice_reference: bool | None = None  # BG-3 present
    currency: str | None = None  # BT-5
    tax_currency: str | None = None  # BT-6

    def mismatches(self, facts: DocumentFacts) -> tuple[str, ...]:
        """Plain-words differences between this expectation and ``facts`` (empty: it matches)."""
        out: list[str] = []
        if facts.kind is not self.kind:
            out.append(
                f"expected a {self.kind.value} ({self.kind.root_name}), got root element {facts.root!r}"
            )
        if facts.customization_id != self.customization_id:
            out.append(
                f"expected specification identifier (BT-24) {self.customization_id!r}, "
                f"got {facts.customization_id!r}"
            )
        if facts.profile_id != self.profile_id:
            out.append(f"expected business process (BT-23) {self.profile_id!r}, got {facts.profile_id!r}")
        if facts.foreign_currency != self.foreign_currency:
            if self.foreign_currency:
                out.append(
                    "expected a VAT accounting currency (BT-6) different from the invoice currency "
                    f"(BT-5 {facts.currency!r}), got {facts.tax_currency!r}"
                )
            else:
                out.append(
                    f"expected no VAT accounting currency (BT-6), got {facts.tax_currency!r} "
                    f"with invoice currency {facts.currency!r}"
                )
        if self.currency is not None and facts.currency != self.currency:
            out.append(f"expected invoice currency (BT-5) {self.currency!r}, got {facts.currency!r}")
        if self.tax_currency is not None and facts.tax_currency != self.tax_currency:
            out.append(
                f"expected VAT accounting currency (BT-6) {self.tax_currency!r}, got {facts.tax_currency!r}"
            )
        categories = facts.vat_categories
        shown = ", ".join(sorted(categories)) or "none"
        if self.vat_categories is not None and categories != self.vat_categories:
            out.append(
                f"expected VAT breakdown categories (BT-118) {', '.join(sorted(self.vat_categories))}, "
                f"got {shown}"
            )
        missing = self.vat_categories_include - categories
        if missing:
            out.append(
                f"expected VAT breakdown categories (BT-118) to include {', '.join(sorted(missing))}, "
                f"got {shown}"
            )
        if len(categories) < self.min_vat_categories:
            out.append(
                f"expected at least {self.min_vat_categories} VAT categories in the breakdown, got {shown}"
            )
        rates = facts.vat_rates
        if len(rates) < self.min_vat_rates:
            out.append(f"expected at least {self.min_vat_rates} distinct VAT rates (BT-119), got {len(rates)}")
        if self.max_vat_rates is not None and len(rates) > self.max_vat_rates:
            out.append(f"expected at most {self.max_vat_rates} distinct VAT rates (BT-119), got {len(rates)}")
        for wanted, present, term in (
            (self.document_allowances, facts.has_document_allowances, "document level allowances (BG-20)"),
            (self.document_charges, facts.has_document_charges, "document level charges (BG-21)"),
            (
                self.preceding_invoice_reference,
                bool(facts.preceding_invoice_references),
                "a preceding invoice reference (BG-3)",
            ),
        ):
            if wanted is not None and wanted != present:
                out.append(f"expected {'' if wanted else 'no '}{term}, got {'some' if present else 'none'}")
        return tuple(out)


@dataclass(frozen=True)
class Scenario:
    """One entry of the catalogue."""

    id: str
    title: str
    rulesets: tuple[str, ...]  # rule-set ids the scenario applies to
    expectation: Expectation
    recipe: Callable[[Draw, str], Invoice] = field(repr=False, compare=False)


# ---------------------------------------------------------------------------------------------
# Recipe building blocks

_ISSUE_BASE = dt.date(2026, 1, 5)
_ITEM_NAMES = (
    "Printer paper, A4, 80 g",
    "Consulting hour",
    "Toner cartridge, black",
    "Office chair",
    "Courier delivery",
    "Software subscription",
    "Network cable, 2 m",
    "Maintenance visit",
    "Coffee beans, 1 kg",
    "Desk lamp",
    "Training day",
    "Storage box",
)
_STREETS = ("Harbour Road", "Market Street", "Station Square", "Mill Lane", "Park Avenue", "Quay Side")
_CITIES = ("Northtown", "Eastbridge", "Riverside", "Lakeview", "Hillcrest", "Westport")
_COMPANY_WORDS = ("Alder", "Birch", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris")
_COMPANY_SUFFIXES = ("Trading", "Supplies", "Services", "Logistics", "Works", "Retail")
_PREFERRED_CURRENCIES = ("EUR", "SEK", "NOK", "DKK", "GBP", "USD", "CHF", "PLN")
_PREFERRED_UNITS = ("C62", "EA", "H87", "HUR", "KGM", "MTR", "LTR", "DAY", "XBX", "KWH")
_STANDARD_RATES = (Decimal(25), Decimal(21), Decimal(20), Decimal(19), Decimal(12),
                   Decimal(10), Decimal(9), Decimal(7), Decimal(6), Decimal("5.5"))
_PREFERRED_COUNTRIES = ("BE", "FR", "ES", "AT", "FI", "IE", "PT", "LU", "PL", "CZ", "EE", "GB")
# UNCL 4461 payment means the recipes know how to fill in (BR-50/BR-61: 30 and 58 need an
# account; PEPPOL-EN16931-R061: 49 and 59 need a mandate).
_PAYMENT_MEANS = ("30", "58", "49", "59", "1", "10", "31", "42", "57", "97")
# PINT SG GST categories and their rates.
_SG_STANDARD_RATE = Decimal(9)


def _money(draw: Draw, low_cents: int, high_cents: int) -> Decimal:
    return Decimal(draw.integer(low_cents, high_cents)) / 100


def _pick(draw: Draw, preferred: Sequence[str], allowed: codelists.CodeList) -> str:
    """Mostly a familiar code, sometimes any code the rules accept."""
    familiar = [code for code in preferred if code in allowed]
    if familiar and draw.integer(0, 3) > 0:
        return draw.choice(familiar)
    return draw.choice(allowed.sorted())


@functools.cache
def _free_schemes(ruleset: str, list_name: str) -> tuple[str, ...]:
    """Identifier schemes of a code list whose values no rule checks for a national format."""
    checked = codelists.schemes_with_format_rules(ruleset)
    return tuple(code for code in codelists.code_list(ruleset, list_name).sorted() if code not in checked)


@functools.cache
def _plain_countries(ruleset: str) -> tuple[str, ...]:
    """Countries no national rule of the rule set singles out, usable as VAT prefix too."""
    national = codelists.countries_with_national_rules(ruleset)
    countries = codelists.code_list(ruleset, "country").values
    prefixes = codelists.code_list(ruleset, "vat_prefix").values
    return tuple(sorted(c for c in countries & prefixes if c not in national and c.isalpha()))


def _identifier_text(draw: Draw, length: int) -> str:
    return "".join(draw.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(length))


def _company_name(draw: Draw) -> str:
    return f"{draw.choice(_COMPANY_WORDS)} {draw.choice(_COMPANY_SUFFIXES)} {draw.integer(1, 99)}"


def _address(draw: Draw, country: str) -> Address:
    return Address(
        country_code=country,
        street_name=f"{draw.choice(_STREETS)} {draw.integer(1, 200)}",
        additional_street_name=f"Unit {draw.integer(1, 40)}" if draw.boolean() else None,
        city_name=draw.choice(_CITIES),
        postal_zone=str(draw.integer(1000, 99999)),
    )


def _eas_address(draw: Draw, ruleset: str) -> Identifier:
    return Identifier(_identifier_text(draw, draw.integer(6, 12)), draw.choice(_free_schemes(ruleset, "eas")))


def _bis_party(draw: Draw, ruleset: str, country: str, *, vat: bool, legal: bool) -> Party:
    vat_identifier = f"{'EL' if country == 'GR' else country}{draw.integer(10**8, 10**10 - 1)}" if vat else None
    legal_registration = None
    if legal:
        legal_registration = Identifier(
            _identifier_text(draw, draw.integer(6, 10)),
            draw.choice(_free_schemes(ruleset, "icd")) if draw.boolean() else None,
        )
    return Party(
        name=_company_name(draw),
        electronic_address=_eas_address(draw, ruleset),
        postal_address=_address(draw, country),
        trading_name=_company_name(draw) if draw.integer(0, 3) == 0 else None,
        identifiers=(Identifier(_identifier_text(draw, 8)),) if draw.integer(0, 2) == 0 else (),
        vat_identifier=vat_identifier,
        legal_registration=legal_registration,
        contact=Contact(name="Accounts", email="accounts@example.com") if draw.boolean() else None,
    )


def _line_allowances_charges(draw: Draw, ruleset: str, gross: Decimal) -> tuple[LineAllowanceCharge, ...]:
    out: list[LineAllowanceCharge] = []
    if gross >= Decimal("1.00") and draw.integer(0, 3) == 0:
        if draw.boolean():
            out.append(
                LineAllowanceCharge.from_percentage(
                    charge=False,
                    base_amount=gross,
                    percentage=Decimal(draw.choice((2, 5, 10))),
                    reason="Volume discount",
                    reason_code=_pick(draw, ("95",), codelists.code_list(ruleset, "allowance_reason")),
                )
            )
        else:
            out.append(
                LineAllowanceCharge(
                    charge=False,
                    amount=min(gross / 4, _money(draw, 1, 2000)).quantize(Decimal("0.01")),
                    reason="Discount",
                )
            )
    if draw.integer(0, 4) == 0:
        out.append(
            LineAllowanceCharge(
                charge=True,
                amount=_money(draw, 100, 5000),
                reason="Packaging",
                reason_code=_pick(draw, ("ABL", "FC"), codelists.code_list(ruleset, "charge_reason")),
            )
        )
    return tuple(out)


def _lines(
    draw: Draw,
    ruleset: str,
    categories: Sequence[TaxCategory],
    *,
    line_charges: bool = True,
) -> tuple[InvoiceLine, ...]:
    """At least one line per category, plus a few more in any of them."""
    units = codelists.code_list(ruleset, "unit")
    chosen = list(categories) + [draw.choice(categories) for _ in range(draw.integer(0, 3))]
    lines = []
    for index, category in enumerate(chosen, start=1):
        quantity = Decimal(draw.integer(1, 400)) / (Decimal(1) if draw.integer(0, 3) else Decimal(4))
        net = _money(draw, 1, 250000)
        base_quantity = Decimal(draw.choice((1, 10, 100))) if draw.integer(0, 4) == 0 else None
        gross = net + _money(draw, 1, 2000) if draw.integer(0, 4) == 0 else None
        price = Price(net_amount=net, base_quantity=base_quantity, gross_amount=gross)
        extended = (quantity * net / (base_quantity or 1)).quantize(Decimal("0.01"))
        classifications: tuple[ItemClassification, ...] = ()
        if draw.integer(0, 4) == 0:
            classifications = (ItemClassification(str(draw.integer(10000000, 99999999)), "STI"),)
        lines.append(
            InvoiceLine(
                identifier=str(index),
                quantity=quantity,
                unit_code=_pick(draw, _PREFERRED_UNITS, units),
                price=price,
                item=Item(
                    name=draw.choice(_ITEM_NAMES),
                    sellers_identifier=f"SKU-{draw.integer(100, 99999)}" if draw.boolean() else None,
                    classifications=classifications,
                ),
                tax_category=category,
                allowances_charges=_line_allowances_charges(draw, ruleset, extended) if line_charges else (),
            )
        )
    return tuple(lines)


def _document_allowances_charges(
    draw: Draw,
    ruleset: str,
    lines: Sequence[InvoiceLine],
    *,
    allowances: bool,
    charges: bool,
) -> tuple[DocumentAllowanceCharge, ...]:
    """BG-20/BG-21 in categories (and rates) the lines use; allowances stay small."""
    from harness.peppol.calculator import line_net_amount

    out: list[DocumentAllowanceCharge] = []
    if allowances:
        for _ in range(draw.integer(1, 2)):
            line = draw.choice(lines)
            base = line_net_amount(line)
            if draw.boolean() and base >= 1:
                out.append(
                    DocumentAllowanceCharge.from_percentage(
                        charge=False,
                        base_amount=base,
                        percentage=Decimal(draw.choice((1, 2, 3, 5))),
                        tax_category=line.tax_category,
                        reason="Early order discount",
                        reason_code=_pick(draw, ("95", "100"), codelists.code_list(ruleset, "allowance_reason")),
                    )
                )
            else:
                amount = min(base / 10, _money(draw, 1, 5000)).quantize(Decimal("0.01"))
                out.append(
                    DocumentAllowanceCharge(
                        charge=False,
                        amount=max(amount, Decimal("0.01")),
                        tax_category=line.tax_category,
                        reason="Loyalty discount",
                    )
                )
    if charges:
        for _ in range(draw.integer(1, 2)):
            line = draw.choice(lines)
            out.append(
                DocumentAllowanceCharge(
                    charge=True,
                    amount=_money(draw, 100, 20000),
                    tax_category=line.tax_category,
                    reason="Freight",
                    reason_code=_pick(draw, ("FC", "ABL"), codelists.code_list(ruleset, "charge_reason"))
                    if draw.boolean()
                    else None,
                )
            )
    return tuple(out)


def _payment(draw: Draw, ruleset: str, *, iban_country: str) -> PaymentInstructions:
    allowed = codelists.code_list(ruleset, "payment_means")
    code = draw.choice([c for c in _PAYMENT_MEANS if c in allowed])
    transfer = debit = None
    if code in ("30", "58") or (code in ("31", "42") and draw.boolean()):
        transfer = CreditTransfer(
            account_identifier=f"{iban_country}{draw.integer(10, 99)}{_identifier_text(draw, 14)}",
            account_name="Operating account" if draw.boolean() else None,
            service_provider_identifier=f"BANK{_identifier_text(draw, 4)}" if draw.boolean() else None,
        )
    if code in ("49", "59"):
        debit = DirectDebit(
            mandate_reference=f"MANDATE-{draw.integer(1000, 99999)}",
            debited_account=f"{iban_country}{draw.integer(10, 99)}{_identifier_text(draw, 14)}",
        )
    return PaymentInstructions(
        means_code=code,
        remittance_information=f"RF{draw.integer(10, 99)}{draw.integer(100000, 999999)}" if draw.boolean() else None,
        credit_transfer=transfer,
        direct_debit=debit,
    )


@dataclass(frozen=True)
class _Plan:
    """The fixed part of a scenario's recipe; the rest is drawn."""

    kind: DocumentKind = DocumentKind.INVOICE
    # Categories each present in the lines (code, rate); rate "S" picks from _STANDARD_RATES.
    categories: tuple[str, ...] = ("S",)
    standard_rates: tuple[int, int] = (1, 1)  # how many distinct S rates (min, max)
    optional_categories: tuple[str, ...] = ()  # (vat-mixed) some of these are added
    foreign_currency: bool = False
    document_allowances: bool | None = False  # None: drawn
    document_charges: bool | None = False


_NO_VAT_CATEGORIES = {"Z": Decimal(0), "E": Decimal(0), "AE": Decimal(0),
                      "K": Decimal(0), "G": Decimal(0)}
# BT-121 exemption reason codes the categories need (BR-E/AE/IC/G/O-10 and
# PEPPOL-EN16931-P0104..P0111 tie some VATEX codes to one category).
_VATEX_FIXED = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}
_EXEMPTION_TEXT = {
    "E": "Exempt supply",
    "AE": "Reverse charge",
    "K": "Intra-community supply",
    "G": "Export outside the EU",
    "O": "Not subject to VAT",
}


def _exemption(draw: Draw, ruleset: str, code: str) -> VatExemptionReason:
    vatex = codelists.code_list(ruleset, "vatex")
    if code == "E":
        # Any Article 132..309 VATEX code that no Peppol rule reserves for another category.
        options = [
            v for v in vatex.sorted()
            if v.startswith("VATEX-EU-") and not v.endswith(("-G", "-O", "-IC", "-AE")) and v[9:10].isdigit()
        ]
        reason_code = draw.choice(options) if draw.boolean() else None
    else:
        fixed = _VATEX_FIXED[code]
        reason_code = fixed if fixed in vatex and draw.integer(0, 3) > 0 else None
    # Either text or code (or both) satisfies BR-x-10; keep at least one.
    text = _EXEMPTION_TEXT[code] if reason_code is None or draw.boolean() else None
    return VatExemptionReason(category_code=code, text=text, code=reason_code)


def _bis_recipe(plan: _Plan) -> Callable[[Draw, str], Invoice]:
    def recipe(draw: Draw, ruleset: str) -> Invoice:
        codes = list(plan.categories)
        if plan.optional_categories:
            extra = [c for c in plan.optional_categories if draw.boolean()]
            while len(extra) < 2:
                candidate = draw.choice(plan.optional_categories)
                if candidate not in extra:
                    extra.append(candidate)
            codes += sorted(extra, key=plan.optional_categories.index)
        rate_count = draw.integer(*plan.standard_rates)
        rates: list[Decimal] = []
        while len(rates) < rate_count:
            rate = draw.choice(_STANDARD_RATES)
            if rate not in rates:
                rates.append(rate)
        categories: list[TaxCategory] = []
        for code in codes:
            if code == "S":
                categories += [TaxCategory("S", rate) for rate in rates]
            elif code == "O":
                categories.append(TaxCategory("O", None))
            else:
                categories.append(TaxCategory(code, _NO_VAT_CATEGORIES[code]))

        countries = _plain_countries(ruleset)
        seller_country = _pick(draw, _PREFERRED_COUNTRIES, _as_list(ruleset, countries))
        buyer_country = _pick(draw, _PREFERRED_COUNTRIES, _as_list(ruleset, countries))
        if "K" in codes:
            # An intra-community supply goes to another member state.
            while buyer_country == seller_country:
                buyer_country = draw.choice(countries)
        outside_scope = "O" in codes
        buyer_needs_vat = "AE" in codes or "K" in codes
        seller = _bis_party(draw, ruleset, seller_country, vat=not outside_scope, legal=True)
        buyer = _bis_party(
            draw,
            ruleset,
            buyer_country,
            vat=buyer_needs_vat or (not outside_scope and draw.boolean()),
            legal=draw.boolean(),
        )

        currency = _pick(draw, _PREFERRED_CURRENCIES, codelists.code_list(ruleset, "currency"))
        tax_currency = exchange_rate = None
        if plan.foreign_currency:
            options = [c for c in codelists.code_list(ruleset, "tax_currency").sorted() if c != currency]
            tax_currency = _pick(draw, [c for c in _PREFERRED_CURRENCIES if c != currency], _as_list(ruleset, options))
            exchange_rate = Decimal(draw.integer(1, 2_000_000)) / 10_000

        lines = _lines(draw, ruleset, categories)
        allowances = plan.document_allowances if plan.document_allowances is not None else draw.integer(0, 2) == 0
        charges = plan.document_charges if plan.document_charges is not None else draw.integer(0, 2) == 0
        document_ac = _document_allowances_charges(draw, ruleset, lines, allowances=allowances, charges=charges)

        exemptions = tuple(_exemption(draw, ruleset, code) for code in codes if code in _EXEMPTION_TEXT)
        issue_date = _ISSUE_BASE + dt.timedelta(days=draw.integer(0, 300))
        delivery = None
        if "K" in codes or draw.integer(0, 2) == 0:
            delivery = Delivery(
                actual_delivery_date=issue_date - dt.timedelta(days=draw.integer(0, 10)),
                address=Address(
                    country_code=buyer_country,
                    street_name=f"{draw.choice(_STREETS)} {draw.integer(1, 99)}",
                    city_name=draw.choice(_CITIES),
                    postal_zone=str(draw.integer(1000, 99999)),
                ),
            )
        is_credit_note = plan.kind is DocumentKind.CREDIT_NOTE
        buyer_reference, order_reference = _references(draw)
        customization_id, profile_id = _SPECIFICATION[ruleset]
        return Invoice(
            kind=plan.kind,
            number=f"{'CN' if is_credit_note else 'INV'}-{issue_date.year}-{draw.integer(1, 999999):06d}",
            issue_date=issue_date,
            type_code=CREDIT_NOTE_TYPE if is_credit_note else INVOICE_TYPE_COMMERCIAL,
            currency=currency,
            customization_id=customization_id,
            profile_id=profile_id,
            seller=seller,
            buyer=buyer,
            lines=lines,
            tax_currency=tax_currency,
            tax_exchange_rate=exchange_rate,
            due_date=issue_date + dt.timedelta(days=draw.choice((14, 30, 45, 60))),
            buyer_reference=buyer_reference,
            order_reference=order_reference,
            notes=("Credited: returned goods",) if is_credit_note and draw.boolean() else (),
            preceding_invoices=(
                PrecedingInvoiceReference(
                    number=f"INV-{issue_date.year}-{draw.integer(1, 999999):06d}",
                    issue_date=issue_date - dt.timedelta(days=draw.integer(1, 60)),
                ),
            )
            if is_credit_note
            else (),
            delivery=delivery,
            payment_instructions=_payment(draw, ruleset, iban_country=seller_country),
            payment_terms="Net 30 days" if draw.boolean() else None,
            allowances_charges=document_ac,
            vat_exemption_reasons=exemptions,
        )

    return recipe


def _as_list(ruleset: str, values: Sequence[str]) -> codelists.CodeList:
    return codelists.CodeList(name="subset", ruleset=ruleset, values=frozenset(values), sources=())


def _references(draw: Draw) -> tuple[str | None, str | None]:
    """BT-10 and/or BT-13: PEPPOL-EN16931-R003 wants at least one."""
    which = draw.integer(0, 2)
    buyer_reference = f"BR-{draw.integer(100, 99999)}" if which in (0, 2) else None
    order_reference = f"PO-{draw.integer(1000, 999999)}" if which in (1, 2) else None
    return buyer_reference, order_reference


# ---------------------------------------------------------------------------------------------
# PINT SG


@dataclass(frozen=True)
class _SgPlan:
    kind: DocumentKind = DocumentKind.INVOICE
    categories: tuple[str, ...] = ("SR",)
    foreign_currency: bool = False
    document_allowances: bool | None = False
    document_charges: bool | None = False


_SG_RATES = {"SR": _SG_STANDARD_RATE, "ZR": Decimal(0), "ES33": Decimal(0), "NG": None}
_SG_FOREIGN_CURRENCIES = ("USD", "EUR", "MYR", "JPY", "AUD", "GBP", "CNY")


def _uen(draw: Draw) -> str:
    """A Singapore UEN of the ROC form: year, five digits, check letter."""
    return f"{draw.integer(1990, 2025)}{draw.integer(10000, 99999)}{draw.choice('ABCDEFGHJKLMNZ')}"


def _sg_party(draw: Draw, ruleset: str, *, country: str, gst: bool) -> Party:
    uen = _uen(draw)
    if country == "SG":
        endpoint = Identifier(f"SGUEN{uen}", "0195")
    else:
        endpoint = _eas_address(draw, ruleset)
    return Party(
        name=_company_name(draw),
        electronic_address=endpoint,
        postal_address=_address(draw, country),
        vat_identifier=f"M{draw.integer(1, 9)}-{draw.integer(1000000, 9999999)}-{draw.choice('ABCDEFGHJKLMNPQRSTUVWXZ')}"
        if gst
        else None,
        legal_registration=Identifier(uen),
        contact=Contact(name="Finance", telephone=f"+65 6{draw.integer(1000000, 9999999)}") if draw.boolean() else None,
    )


def _sg_recipe(plan: _SgPlan) -> Callable[[Draw, str], Invoice]:
    def recipe(draw: Draw, ruleset: str) -> Invoice:
        categories = [TaxCategory(code, _SG_RATES[code]) for code in plan.categories]
        registered = "NG" not in plan.categories
        seller = _sg_party(draw, ruleset, country="SG", gst=registered)
        buyer_country = "SG" if draw.integer(0, 3) else _pick(
            draw, _PREFERRED_COUNTRIES, _as_list(ruleset, _plain_countries_sg(ruleset))
        )
        buyer = _sg_party(draw, ruleset, country=buyer_country, gst=registered and draw.integer(0, 2) == 0)
        currency, tax_currency, exchange_rate = "SGD", None, None
        if plan.foreign_currency:
            allowed = codelists.code_list(ruleset, "currency")
            currency = _pick(draw, _SG_FOREIGN_CURRENCIES, _as_list(ruleset, [c for c in allowed.sorted() if c != "SGD"]))
            tax_currency = "SGD"
            exchange_rate = Decimal(draw.integer(50, 30_000)) / 10_000
        lines = _lines(draw, ruleset, categories)
        allowances = plan.document_allowances if plan.document_allowances is not None else draw.integer(0, 2) == 0
        charges = plan.document_charges if plan.document_charges is not None else draw.integer(0, 2) == 0
        document_ac = _document_allowances_charges(draw, ruleset, lines, allowances=allowances, charges=charges)
        issue_date = _ISSUE_BASE + dt.timedelta(days=draw.integer(0, 300))
        is_credit_note = plan.kind is DocumentKind.CREDIT_NOTE
        buyer_reference, order_reference = _references(draw)
        customization_id, profile_id = _SPECIFICATION[ruleset]
        with_terms = draw.boolean()
        return Invoice(
            kind=plan.kind,
            number=f"{'SC' if is_credit_note else 'SI'}{issue_date.year}{draw.integer(1, 999999):06d}",
            issue_date=issue_date,
            type_code=CREDIT_NOTE_TYPE if is_credit_note else INVOICE_TYPE_COMMERCIAL,
            currency=currency,
            customization_id=customization_id,
            profile_id=profile_id,
            seller=seller,
            buyer=buyer,
            lines=lines,
            tax_scheme="GST",
            tax_currency=tax_currency,
            tax_exchange_rate=exchange_rate,
            # BR-CO-25-SG: a positive amount due needs a due date or payment terms.
            due_date=issue_date + dt.timedelta(days=30) if not with_terms or draw.boolean() else None,
            payment_terms="Payment within 30 days" if with_terms else None,
            buyer_reference=buyer_reference,
            order_reference=order_reference,
            # BR-111-GST-SG: a GST credit note states the reason for credit.
            notes=("Credit for goods returned",) if is_credit_note else (),
            uuid=str(uuid_module.UUID(int=draw.integer(0, 2**128 - 1), version=4)),
            preceding_invoices=(
                PrecedingInvoiceReference(
                    number=f"SI{issue_date.year}{draw.integer(1, 999999):06d}",
                    issue_date=issue_date - dt.timedelta(days=draw.integer(1, 60)),
                ),
            )
            if is_credit_note
            else (),
            payment_instructions=_payment(draw, ruleset, iban_country="SG"),
            allowances_charges=document_ac,
        )

    return recipe


@functools.cache
def _plain_countries_sg(ruleset: str) -> tuple[str, ...]:
    national = codelists.countries_with_national_rules(ruleset)
    return tuple(c for c in codelists.code_list(ruleset, "country").sorted() if c not in national and c.isalpha())


# ---------------------------------------------------------------------------------------------
# The catalogue


def _bis(
    scenario_id: str,
    title: str,
    plan: _Plan,
    **expect: object,
) -> Scenario:
    customization_id, profile_id = _SPECIFICATION[RULESET_BIS]
    expectation = Expectation(
        kind=plan.kind,
        customization_id=customization_id,
        profile_id=profile_id,
        foreign_currency=plan.foreign_currency,
        **expect,  # type: ignore[arg-type]
    )
    return Scenario(scenario_id, title, (RULESET_BIS,), expectation, _bis_recipe(plan))


def _sg(scenario_id: str, title: str, plan: _SgPlan, **expect: object) -> Scenario:
    customization_id, profile_id = _SPECIFICATION[RULESET_PINT_SG]
    expectation = Expectation(
        kind=plan.kind,
        customization_id=customization_id,
        profile_id=profile_id,
        foreign_currency=plan.foreign_currency,
        vat_categories=frozenset(plan.categories),
        **expect,  # type: ignore[arg-type]
    )
    return Scenario(scenario_id, title, (RULESET_PINT_SG,), expectation, _sg_recipe(plan))


_S = frozenset({"S"})

_CATALOGUE: tuple[Scenario, ...] = (
    _bis(
        "invoice-standard",
        "Standard invoice: standard rated VAT at one rate, no document level allowances or charges",
        _Plan(),
        vat_categories=_S,
        max_vat_rates=1,
        document_allowances=False,
        document_charges=False,
    ),
    _bis(
        "credit-note",
        "Credit note referring to the invoice it corrects",
        _Plan(kind=DocumentKind.CREDIT_NOTE, document_allowances=None, document_charges=None),
        vat_categories=_S,
        preceding_invoice_reference=True,
    ),
    _bis(
        "allowances-charges",
        "Invoice with document level allowances and charges (BG-20, BG-21)",
        _Plan(document_allowances=True, document_charges=True),
        vat_categories=_S,
        max_vat_rates=1,
        document_allowances=True,
        document_charges=True,
    ),
    _bis(
        "vat-S",
        "Standard rated VAT at more than one rate",
        _Plan(standard_rates=(2, 3), document_allowances=None, document_charges=None),
        vat_categories=_S,
        min_vat_rates=2,
    ),
    _bis(
        "vat-Z",
        "Zero rated goods next to standard rated ones",
        _Plan(categories=("S", "Z"), document_allowances=None, document_charges=None),
        vat_categories=frozenset({"S", "Z"}),
    ),
    _bis(
        "vat-E",
        "VAT exempt supply next to standard rated ones, with exemption reason",
        _Plan(categories=("S", "E"), document_allowances=None, document_charges=None),
        vat_categories=frozenset({"S", "E"}),
    ),
    _bis(
        "vat-AE",
        "Reverse charge (VAT reverse charge, category AE)",
        _Plan(categories=("AE",), document_allowances=None, document_charges=None),
        vat_categories=frozenset({"AE"}),
    ),
    _bis(
        "vat-K",
        "Intra-community supply (category K) with delivery information",
        _Plan(categories=("K",), document_allowances=None, document_charges=None),
        vat_categories=frozenset({"K"}),
    ),
    _bis(
        "vat-G",
        "Export outside the EU (category G)",
        _Plan(categories=("G",), document_allowances=None, document_charges=None),
        vat_categories=frozenset({"G"}),
    ),
    _bis(
        "vat-O",
        "Services outside the scope of VAT (category O)",
        _Plan(categories=("O",), document_allowances=None, document_charges=None),
        vat_categories=frozenset({"O"}),
    ),
    _bis(
        "vat-mixed",
        "Standard rated lines mixed with at least two other VAT categories",
        _Plan(
            categories=("S",),
            standard_rates=(1, 2),
            optional_categories=("Z", "E", "AE", "K", "G"),
            document_allowances=None,
            document_charges=None,
        ),
        vat_categories_include=_S,
        min_vat_categories=3,
    ),
    _bis(
        "foreign-currency",
        "Invoice in one currency with VAT accounted in another (BT-6 differs from BT-5)",
        _Plan(foreign_currency=True, document_allowances=None, document_charges=None),
        vat_categories=_S,
    ),
    _sg(
        "pint-sg-gst",
        "PINT SG invoice, standard rated GST in SGD",
        _SgPlan(),
        currency="SGD",
        document_allowances=False,
        document_charges=False,
    ),
    _sg(
        "pint-sg-zero-rated",
        "PINT SG invoice, zero rated GST",
        _SgPlan(categories=("ZR",), document_allowances=None, document_charges=None),
        currency="SGD",
    ),
    _sg(
        "pint-sg-exempt",
        "PINT SG invoice with exempt supplies next to standard rated ones",
        _SgPlan(categories=("SR", "ES33"), document_allowances=None, document_charges=None),
        currency="SGD",
    ),
    _sg(
        "pint-sg-not-gst-registered",
        "PINT SG invoice from a supplier not registered for GST (category NG)",
        _SgPlan(categories=("NG",), document_allowances=None, document_charges=None),
        currency="SGD",
    ),
    _sg(
        "pint-sg-allowances-charges",
        "PINT SG invoice with document level allowances and charges",
        _SgPlan(document_allowances=True, document_charges=True),
        currency="SGD",
        document_allowances=True,
        document_charges=True,
    ),
    _sg(
        "pint-sg-foreign-currency",
        "PINT SG invoice in a foreign currency with GST accounted in SGD",
        _SgPlan(foreign_currency=True, document_allowances=None, document_charges=None),
        tax_currency="SGD",
    ),
    _sg(
        "pint-sg-credit-note",
        "PINT SG credit note with the reason for credit",
        _SgPlan(kind=DocumentKind.CREDIT_NOTE, document_allowances=None, document_charges=None),
        currency="SGD",
        preceding_invoice_reference=True,
    ),
)

_BY_ID = {scenario.id: scenario for scenario in _CATALOGUE}


def scenario_ids() -> tuple[str, ...]:
    """Every scenario id of the catalogue, in catalogue order."""
    return tuple(_BY_ID)


def all_scenarios() -> tuple[Scenario, ...]:
    """The whole catalogue, in catalogue order."""
    return _CATALOGUE


def get_scenario(scenario_id: str) -> Scenario:
    """The scenario with this id; ConfigError listing the known ids otherwise."""
    try:
        return _BY_ID[scenario_id]
    except KeyError:
        raise ConfigError(
            f"unknown scenario {scenario_id!r}; known scenarios: {', '.join(_BY_ID)}"
        ) from None


def scenarios_for(ruleset_id: str) -> tuple[Scenario, ...]:
    """Scenarios that apply to a rule set (empty for a rule set the catalogue does not cover)."""
    return tuple(s for s in _CATALOGUE if ruleset_id in s.rulesets)


def _applicable(scenario_id: str, ruleset_id: str) -> Scenario:
    scenario = get_scenario(scenario_id)
    if ruleset_id not in scenario.rulesets:
        raise ConfigError(
            f"scenario {scenario_id!r} does not apply to rule set {ruleset_id!r}; it applies to "
            f"{', '.join(scenario.rulesets)}. Scenarios for {ruleset_id!r}: "
            f"{', '.join(s.id for s in scenarios_for(ruleset_id)) or 'none'}"
        )
    return scenario


def build_invoice(scenario_id: str, ruleset_id: str, *, seed: int = 0) -> Invoice:
    """A model invoice for the scenario under the rule set; the same seed gives the same invoice."""
    scenario = _applicable(scenario_id, ruleset_id)
    rng = random.Random(f"{scenario_id}|{ruleset_id}|{seed}")
    return scenario.recipe(RandomDraw(rng), ruleset_id)


def build_document(
    scenario_id: str, ruleset_id: str, *, seed: int = 0, faults: UblFaults | None = None
) -> bytes:
    """UBL bytes of :func:`build_invoice` (optionally made wrong by ``faults``)."""
    from harness.peppol.ubl import to_ubl

    return to_ubl(build_invoice(scenario_id, ruleset_id, seed=seed), faults=faults)


def check_document(scenario_id: str, ruleset_id: str, facts: DocumentFacts) -> tuple[str, ...]:
    """Why the document described by ``facts`` is not the scenario asked for (empty: it is)."""
    return _applicable(scenario_id, ruleset_id).expectation.mismatches(facts)
