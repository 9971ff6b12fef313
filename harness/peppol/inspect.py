"""What a UBL invoice or credit note *is*, read from its bytes.

Suites use :func:`document_facts` to check that a document returned for a scenario is the
document that scenario asked for (its kind, currency, VAT categories, ...), independently
of whether it is valid. Parsing goes through :func:`harness.xml.safe.parse_untrusted`: the
bytes come from a participant.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from harness.errors import UntrustedInputError
from harness.peppol.model import DocumentKind

if TYPE_CHECKING:
    from lxml import etree

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@dataclass(frozen=True)
class DocumentFacts:
    """Facts about one document, each named by the EN 16931 term it reports."""

    root: str  # local name of the root element
    kind: DocumentKind | None  # None when the root is neither a UBL Invoice nor CreditNote
    type_code: str | None  # BT-3
    customization_id: str | None  # BT-24
    profile_id: str | None  # BT-23
    number: str | None  # BT-1
    currency: str | None  # BT-5
    tax_currency: str | None  # BT-6
    vat_breakdown: tuple[tuple[str, Decimal | None], ...]  # BG-23: (BT-118, BT-119) per group
    line_vat_categories: frozenset[str]  # BT-151 of all lines
    has_document_allowances: bool  # BG-20 present
    has_document_charges: bool  # BG-21 present
    has_line_allowances_charges: bool  # BG-27/BG-28 present
    line_count: int  # number of BG-25
    buyer_reference_present: bool  # BT-10
    order_reference_present: bool  # BT-13
    preceding_invoice_references: tuple[str, ...]  # BT-25 of each BG-3
    tax_total_in_tax_currency_present: bool  # BT-111
    seller_country: str | None  # BT-40
    buyer_country: str | None  # BT-55
    uuid_present: bool  # PINT SG BT-SG-003

    @property
    def vat_categories(self) -> frozenset[str]:
        """BT-118 codes of the document level VAT breakdown."""
        return frozenset(code for code, _ in self.vat_breakdown)

    @property
    def vat_rates(self) -> frozenset[Decimal]:
        """Distinct BT-119 rates of the breakdown (groups without a rate left out)."""
        return frozenset(rate.normalize() for _, rate in self.vat_breakdown if rate is not None)

    @property
    def foreign_currency(self) -> bool:
        """True when a VAT accounting currency BT-6 is given and differs from BT-5."""
        return self.tax_currency is not None and self.tax_currency != self.currency


def document_facts(data: bytes, *, name: str = "document") -> DocumentFacts:
    """Read :class:`DocumentFacts` from UBL bytes.

    Raises :class:`~harness.errors.UntrustedInputError` when the bytes are not well-formed
    XML or cannot be read safely; a well-formed non-UBL document gives facts with
    ``kind=None``.
    """
    from lxml import etree

    from harness.xml.safe import parse_untrusted

    tree = parse_untrusted(data, name=name)
    root = tree.getroot()
    if not isinstance(root.tag, str):
        raise UntrustedInputError(f"{name}: no root element; send a UBL Invoice or CreditNote")
    qname = etree.QName(root)
    kind = {
        (NS_INVOICE, "Invoice"): DocumentKind.INVOICE,
        (NS_CREDIT_NOTE, "CreditNote"): DocumentKind.CREDIT_NOTE,
    }.get((qname.namespace or "", qname.localname))
    line_tag = "cac:InvoiceLine" if kind is not DocumentKind.CREDIT_NOTE else "cac:CreditNoteLine"
    currency = _text(root, "cbc:DocumentCurrencyCode")
    tax_currency = _text(root, "cbc:TaxCurrencyCode")
    breakdown = tuple(
        (_text(cat, "cbc:ID") or "", _decimal(_text(cat, "cbc:Percent")))
        for cat in root.iterfind("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    )
    lines = root.findall(line_tag, NS)
    return DocumentFacts(
        root=qname.localname,
        kind=kind,
        type_code=_text(root, "cbc:InvoiceTypeCode") or _text(root, "cbc:CreditNoteTypeCode"),
        customization_id=_text(root, "cbc:CustomizationID"),
        profile_id=_text(root, "cbc:ProfileID"),
        number=_text(root, "cbc:ID"),
        currency=currency,
        tax_currency=tax_currency,
        vat_breakdown=breakdown,
        line_vat_categories=frozenset(
            code
            for line in lines
            if (code := _text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID")) is not None
        ),
        has_document_allowances=_has_allowance_charge(root, "false"),
        has_document_charges=_has_allowance_charge(root, "true"),
        has_line_allowances_charges=any(line.find("cac:AllowanceCharge", NS) is not None for line in lines),
        line_count=len(lines),
        buyer_reference_present=_text(root, "cbc:BuyerReference") is not None,
        order_reference_present=_text(root, "cac:OrderReference/cbc:ID") is not None,
        preceding_invoice_references=tuple(
            (el.text or "").strip()
            for el in root.iterfind("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", NS)
        ),
        tax_total_in_tax_currency_present=tax_currency is not None
        and any(
            el.get("currencyID") == tax_currency for el in root.iterfind("cac:TaxTotal/cbc:TaxAmount", NS)
        ),
        seller_country=_text(
            root, "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        ),
        buyer_country=_text(
            root, "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        ),
        uuid_present=_text(root, "cbc:UUID") is not None,
    )


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path, NS)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _has_allowance_charge(root: etree._Element, indicator: str) -> bool:
    return any(
        (ac.findtext("cbc:ChargeIndicator", default="", namespaces=NS).strip().lower() == indicator)
        for ac in root.iterfind("cac:AllowanceCharge", NS)
    )
