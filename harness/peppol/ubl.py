"""Write the EN 16931 model as a UBL 2.1 Invoice or CreditNote (Peppol BIS Billing 3.0, PINT SG).

Every document the harness emits comes from here: the model (:mod:`harness.peppol.model`)
plus the totals the calculator derives (:mod:`harness.peppol.calculator`). Elements are
written in the order the UBL 2.1 XSD sequences demand. :class:`UblFaults` turns the same
writer into a maker of deliberately wrong documents for negative tests; with no faults the
output is what the rules ask for.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from harness.peppol.calculator import Calculation, VatBreakdown, calculate
from harness.peppol.model import (
    PINT_SG_CUSTOMIZATION_ID,
    Address,
    DocumentAllowanceCharge,
    DocumentKind,
    Invoice,
    InvoiceLine,
    LineAllowanceCharge,
    Party,
    TaxCategory,
)

if TYPE_CHECKING:
    from lxml import etree

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

# PINT SG carries the totals in SGD as supporting documents with these type codes (BR-53-GST-SG).
SG_TOTAL_EXCLUDING_GST = "sgdtotal-excl-gst"
SG_TOTAL_INCLUDING_GST = "sgdtotal-incl-gst"


@dataclass(frozen=True)
class UblFaults:
    """Knobs that make :func:`to_ubl` write a deliberately wrong document.

    Amount overrides replace the value the calculator derived for that term; ``*_delta``
    knobs add to it. ``omit_*`` knobs leave an element out. Everything left at its default
    keeps the document correct.
    """

    # BG-22 document totals written instead of the derived ones.
    line_extension_amount: Decimal | None = None  # BT-106
    allowance_total_amount: Decimal | None = None  # BT-107
    charge_total_amount: Decimal | None = None  # BT-108
    tax_exclusive_amount: Decimal | None = None  # BT-109
    tax_amount: Decimal | None = None  # BT-110
    tax_amount_accounting: Decimal | None = None  # BT-111
    tax_inclusive_amount: Decimal | None = None  # BT-112
    payable_amount: Decimal | None = None  # BT-115
    # BT-117 of the breakdown group with this category code gets this amount added.
    breakdown_tax_amount_delta: tuple[str, Decimal] | None = None
    # BT-131 of the first line with this category code gets this amount added.
    line_net_amount_delta: tuple[str, Decimal] | None = None
    # Header values written instead of the model's.
    customization_id: str | None = None  # BT-24
    profile_id: str | None = None  # BT-23
    type_code: str | None = None  # BT-3
    currency_code: str | None = None  # BT-5 and every currencyID in the invoice currency
    seller_endpoint_scheme: str | None = None  # BT-34-1
    seller_vat_identifier: str | None = None  # BT-31
    first_line_unit_code: str | None = None  # BT-130 (and BT-150) of the first line
    # GST/VAT category code written instead of another one, everywhere it appears.
    tax_category_code: tuple[str, str] | None = None
    # Elements left out.
    omit_buyer_reference: bool = False  # BT-10 and BT-13 (order reference)
    omit_due_date: bool = False  # BT-9
    omit_payment_terms: bool = False  # BT-20
    omit_notes: bool = False  # BT-22
    omit_uuid: bool = False  # PINT SG BT-SG-003
    omit_seller_electronic_address: bool = False  # BT-34
    omit_buyer_electronic_address: bool = False  # BT-49
    omit_seller_name: bool = False  # BT-27
    omit_buyer_country: bool = False  # BT-55
    omit_first_item_name: bool = False  # BT-153 of the first line
    omit_tax_total_accounting: bool = False  # BT-111 (second TaxTotal)
    omit_accounting_totals: bool = False  # PINT SG totals in SGD (supporting documents)
    # Extra content.
    empty_note: bool = False  # an empty cbc:Note element


NO_FAULTS = UblFaults()


def to_ubl(invoice: Invoice, *, faults: UblFaults | None = None) -> bytes:
    """Serialise ``invoice`` as UTF-8 UBL 2.1 XML (with XML declaration).

    All derived values come from :func:`harness.peppol.calculator.calculate`; ``faults``
    (default: none) makes the document deliberately wrong in the named ways.
    """
    from lxml import etree

    writer = _Writer(invoice, calculate(invoice), faults or NO_FAULTS)
    root = writer.build()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def faults_with(base: UblFaults | None, **changes: object) -> UblFaults:
    """A copy of ``base`` (or of no faults) with ``changes`` applied."""
    return dataclasses.replace(base or NO_FAULTS, **changes)  # type: ignore[arg-type]


def decimal_text(value: Decimal) -> str:
    """A decimal as plain XML text: no exponent, no trailing zeros after the point."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def amount_text(value: Decimal) -> str:
    """An amount with exactly 2 decimals (BR-DEC-*)."""
    return f"{value:.2f}"


class _Writer:
    def __init__(self, invoice: Invoice, calc: Calculation, faults: UblFaults) -> None:
        self.inv = invoice
        self.calc = calc
        self.f = faults
        self.currency = faults.currency_code or invoice.currency
        self.is_invoice = invoice.kind is DocumentKind.INVOICE
        self.is_pint_sg = invoice.customization_id.startswith(PINT_SG_CUSTOMIZATION_ID)

    # -- helpers -------------------------------------------------------------------------
    def cbc(self, parent: etree._Element, name: str, text: str | None, **attrs: str) -> None:
        from lxml import etree

        if text is None:
            return
        el = etree.SubElement(parent, f"{{{NS_CBC}}}{name}", attrs)
        el.text = text

    def cac(self, parent: etree._Element, name: str) -> etree._Element:
        from lxml import etree

        return etree.SubElement(parent, f"{{{NS_CAC}}}{name}")

    def amount(self, parent: etree._Element, name: str, value: Decimal | None) -> None:
        if value is not None:
            self.cbc(parent, name, amount_text(value), currencyID=self.currency)

    def category_code(self, code: str) -> str:
        if self.f.tax_category_code and self.f.tax_category_code[0] == code:
            return self.f.tax_category_code[1]
        return code

    # -- document --------------------------------------------------------------------------
    def build(self) -> etree._Element:
        from lxml import etree

        inv, f = self.inv, self.f
        ns = NS_INVOICE if self.is_invoice else NS_CREDIT_NOTE
        root = etree.Element(
            f"{{{ns}}}{inv.kind.root_name}", nsmap={None: ns, "cac": NS_CAC, "cbc": NS_CBC}
        )
        self.cbc(root, "CustomizationID", f.customization_id or inv.customization_id)
        self.cbc(root, "ProfileID", f.profile_id or inv.profile_id)
        self.cbc(root, "ID", inv.number)
        if not f.omit_uuid:
            self.cbc(root, "UUID", inv.uuid)
        self.cbc(root, "IssueDate", inv.issue_date.isoformat())
        due_date = None if f.omit_due_date or inv.due_date is None else inv.due_date.isoformat()
        if self.is_invoice:
            self.cbc(root, "DueDate", due_date)
            self.cbc(root, "InvoiceTypeCode", f.type_code or inv.type_code)
        else:
            self.cbc(root, "CreditNoteTypeCode", f.type_code or inv.type_code)
        if f.empty_note:
            self.cbc(root, "Note", "")
        if not f.omit_notes:
            for note in inv.notes:
                self.cbc(root, "Note", note)
        self.cbc(root, "DocumentCurrencyCode", self.currency)
        self.cbc(root, "TaxCurrencyCode", inv.tax_currency)
        if not f.omit_buyer_reference:
            self.cbc(root, "BuyerReference", inv.buyer_reference)
        if inv.invoicing_period is not None:
            self.period(root, "InvoicePeriod", inv.invoicing_period)
        if inv.order_reference is not None and not f.omit_buyer_reference:
            self.cbc(self.cac(root, "OrderReference"), "ID", inv.order_reference)
        for preceding in inv.preceding_invoices:
            ref = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(ref, "ID", preceding.number)
            if preceding.issue_date is not None:
                self.cbc(ref, "IssueDate", preceding.issue_date.isoformat())
        self.accounting_totals(root)
        self.party(self.cac(root, "AccountingSupplierParty"), inv.seller, seller=True)
        self.party(self.cac(root, "AccountingCustomerParty"), inv.buyer, seller=False)
        self.delivery(root)
        self.payment_means(root, None if self.is_invoice else due_date)
        if inv.payment_terms is not None and not f.omit_payment_terms:
            self.cbc(self.cac(root, "PaymentTerms"), "Note", inv.payment_terms)
        for ac in inv.allowances_charges:
            self.document_allowance_charge(root, ac)
        self.tax_totals(root)
        self.monetary_total(root)
        for index, line in enumerate(inv.lines):
            self.line(root, index, line)
        return root

    def period(self, parent: etree._Element, name: str, period: object) -> None:
        el = self.cac(parent, name)
        start = getattr(period, "start_date", None)
        end = getattr(period, "end_date", None)
        self.cbc(el, "StartDate", start.isoformat() if start else None)
        self.cbc(el, "EndDate", end.isoformat() if end else None)

    def accounting_totals(self, root: etree._Element) -> None:
        """PINT SG: invoice totals in SGD as supporting documents (BR-53-GST-SG, BR-103/104)."""
        totals = self.calc.totals
        if not self.is_pint_sg or self.f.omit_accounting_totals:
            return
        if totals.tax_exclusive_amount_accounting is None:
            return
        assert totals.tax_inclusive_amount_accounting is not None
        for code, value in (
            (SG_TOTAL_EXCLUDING_GST, totals.tax_exclusive_amount_accounting),
            (SG_TOTAL_INCLUDING_GST, totals.tax_inclusive_amount_accounting),
        ):
            ref = self.cac(root, "AdditionalDocumentReference")
            self.cbc(ref, "ID", self.inv.tax_currency)
            self.cbc(ref, "DocumentTypeCode", code)
            self.cbc(ref, "DocumentDescription", amount_text(value))

    def party(self, parent: etree._Element, party: Party, *, seller: bool) -> None:
        f = self.f
        el = self.cac(parent, "Party")
        omit_endpoint = f.omit_seller_electronic_address if seller else f.omit_buyer_electronic_address
        if not omit_endpoint:
            scheme = party.electronic_address.scheme or ""
            if seller and f.seller_endpoint_scheme is not None:
                scheme = f.seller_endpoint_scheme
            self.cbc(el, "EndpointID", party.electronic_address.value, schemeID=scheme)
        for identifier in party.identifiers:
            attrs = {"schemeID": identifier.scheme} if identifier.scheme else {}
            self.cbc(self.cac(el, "PartyIdentification"), "ID", identifier.value, **attrs)
        if party.trading_name is not None:
            self.cbc(self.cac(el, "PartyName"), "Name", party.trading_name)
        self.address(el, "PostalAddress", party.postal_address, omit_country=not seller and f.omit_buyer_country)
        vat_identifier = party.vat_identifier
        if seller and f.seller_vat_identifier is not None:
            vat_identifier = f.seller_vat_identifier
        if vat_identifier is not None:
            scheme = self.cac(el, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", vat_identifier)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", self.inv.tax_scheme)
        if party.tax_registration_identifier is not None:
            scheme = self.cac(el, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", party.tax_registration_identifier)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "TAX")
        legal = self.cac(el, "PartyLegalEntity")
        if not (seller and f.omit_seller_name):
            self.cbc(legal, "RegistrationName", party.name)
        if party.legal_registration is not None:
            attrs = (
                {"schemeID": party.legal_registration.scheme}
                if party.legal_registration.scheme
                else {}
            )
            self.cbc(legal, "CompanyID", party.legal_registration.value, **attrs)
        if seller:
            self.cbc(legal, "CompanyLegalForm", party.legal_form)
        if party.contact is not None:
            contact = self.cac(el, "Contact")
            self.cbc(contact, "Name", party.contact.name)
            self.cbc(contact, "Telephone", party.contact.telephone)
            self.cbc(contact, "ElectronicMail", party.contact.email)

    def address(
        self, parent: etree._Element, name: str, address: Address, *, omit_country: bool = False
    ) -> None:
        el = self.cac(parent, name)
        self.cbc(el, "StreetName", address.street_name)
        self.cbc(el, "AdditionalStreetName", address.additional_street_name)
        self.cbc(el, "CityName", address.city_name)
        self.cbc(el, "PostalZone", address.postal_zone)
        self.cbc(el, "CountrySubentity", address.country_subentity)
        if not omit_country:
            self.cbc(self.cac(el, "Country"), "IdentificationCode", address.country_code)

    def delivery(self, root: etree._Element) -> None:
        delivery = self.inv.delivery
        if delivery is None:
            return
        el = self.cac(root, "Delivery")
        if delivery.actual_delivery_date is not None:
            self.cbc(el, "ActualDeliveryDate", delivery.actual_delivery_date.isoformat())
        if delivery.location_identifier is not None or delivery.address is not None:
            location = self.cac(el, "DeliveryLocation")
            if delivery.location_identifier is not None:
                ident = delivery.location_identifier
                attrs = {"schemeID": ident.scheme} if ident.scheme else {}
                self.cbc(location, "ID", ident.value, **attrs)
            if delivery.address is not None:
                self.address(location, "Address", delivery.address)
        if delivery.party_name is not None:
            party = self.cac(self.cac(el, "DeliveryParty"), "PartyName")
            self.cbc(party, "Name", delivery.party_name)

    def payment_means(self, root: etree._Element, credit_note_due_date: str | None) -> None:
        means = self.inv.payment_instructions
        if means is None:
            return
        el = self.cac(root, "PaymentMeans")
        attrs = {"name": means.means_text} if means.means_text else {}
        self.cbc(el, "PaymentMeansCode", means.means_code, **attrs)
        # UBL 2.1 CreditNote has no DueDate; BT-9 of a credit note lives here.
        self.cbc(el, "PaymentDueDate", credit_note_due_date)
        self.cbc(el, "PaymentID", means.remittance_information)
        if means.credit_transfer is not None:
            account = self.cac(el, "PayeeFinancialAccount")
            self.cbc(account, "ID", means.credit_transfer.account_identifier)
            self.cbc(account, "Name", means.credit_transfer.account_name)
            if means.credit_transfer.service_provider_identifier is not None:
                branch = self.cac(account, "FinancialInstitutionBranch")
                self.cbc(branch, "ID", means.credit_transfer.service_provider_identifier)
        if means.direct_debit is not None:
            mandate = self.cac(el, "PaymentMandate")
            self.cbc(mandate, "ID", means.direct_debit.mandate_reference)
            if means.direct_debit.debited_account is not None:
                payer = self.cac(mandate, "PayerFinancialAccount")
                self.cbc(payer, "ID", means.direct_debit.debited_account)

    def tax_category(
        self,
        parent: etree._Element,
        name: str,
        category: TaxCategory,
        *,
        exemption: tuple[str | None, str | None] = (None, None),
    ) -> None:
        el = self.cac(parent, name)
        self.cbc(el, "ID", self.category_code(category.code))
        if category.rate is not None:
            self.cbc(el, "Percent", decimal_text(category.rate))
        self.cbc(el, "TaxExemptionReasonCode", exemption[1])
        self.cbc(el, "TaxExemptionReason", exemption[0])
        self.cbc(self.cac(el, "TaxScheme"), "ID", self.inv.tax_scheme)

    def allowance_charge_common(
        self, el: etree._Element, ac: DocumentAllowanceCharge | LineAllowanceCharge
    ) -> None:
        self.cbc(el, "ChargeIndicator", "true" if ac.charge else "false")
        self.cbc(el, "AllowanceChargeReasonCode", ac.reason_code)
        self.cbc(el, "AllowanceChargeReason", ac.reason)
        if ac.percentage is not None:
            self.cbc(el, "MultiplierFactorNumeric", decimal_text(ac.percentage))
        self.amount(el, "Amount", ac.amount)
        self.amount(el, "BaseAmount", ac.base_amount)

    def document_allowance_charge(self, root: etree._Element, ac: DocumentAllowanceCharge) -> None:
        el = self.cac(root, "AllowanceCharge")
        self.allowance_charge_common(el, ac)
        self.tax_category(el, "TaxCategory", ac.tax_category)

    def tax_totals(self, root: etree._Element) -> None:
        f, totals = self.f, self.calc.totals
        total = self.cac(root, "TaxTotal")
        self.amount(total, "TaxAmount", f.tax_amount if f.tax_amount is not None else totals.tax_amount)
        for group in self.calc.breakdown:
            self.breakdown(total, group)
        if totals.tax_amount_accounting is not None and not f.omit_tax_total_accounting:
            accounting = self.cac(root, "TaxTotal")
            assert self.inv.tax_currency is not None
            value = f.tax_amount_accounting if f.tax_amount_accounting is not None else totals.tax_amount_accounting
            self.cbc(accounting, "TaxAmount", amount_text(value), currencyID=self.inv.tax_currency)

    def breakdown(self, total: etree._Element, group: VatBreakdown) -> None:
        tax_amount = group.tax_amount
        delta = self.f.breakdown_tax_amount_delta
        if delta is not None and delta[0] == group.category.code:
            tax_amount += delta[1]
        sub = self.cac(total, "TaxSubtotal")
        self.amount(sub, "TaxableAmount", group.taxable_amount)
        self.amount(sub, "TaxAmount", tax_amount)
        self.tax_category(
            sub,
            "TaxCategory",
            group.category,
            exemption=(group.exemption_reason, group.exemption_reason_code),
        )

    def monetary_total(self, root: etree._Element) -> None:
        f, t = self.f, self.calc.totals

        def pick(override: Decimal | None, value: Decimal | None) -> Decimal | None:
            return override if override is not None else value

        el = self.cac(root, "LegalMonetaryTotal")
        self.amount(el, "LineExtensionAmount", pick(f.line_extension_amount, t.line_extension_amount))
        self.amount(el, "TaxExclusiveAmount", pick(f.tax_exclusive_amount, t.tax_exclusive_amount))
        self.amount(el, "TaxInclusiveAmount", pick(f.tax_inclusive_amount, t.tax_inclusive_amount))
        self.amount(el, "AllowanceTotalAmount", pick(f.allowance_total_amount, t.allowance_total_amount))
        self.amount(el, "ChargeTotalAmount", pick(f.charge_total_amount, t.charge_total_amount))
        self.amount(el, "PrepaidAmount", t.prepaid_amount)
        self.amount(el, "PayableRoundingAmount", t.rounding_amount)
        self.amount(el, "PayableAmount", pick(f.payable_amount, t.payable_amount))

    def _net_amount(self, index: int, line: InvoiceLine) -> Decimal:
        net = self.calc.line_net_amounts[index]
        delta = self.f.line_net_amount_delta
        if delta is not None:
            first = next(
                (i for i, ln in enumerate(self.inv.lines) if ln.tax_category.code == delta[0]),
                None,
            )
            if first == index:
                net += delta[1]
        return net

    def line(self, root: etree._Element, index: int, line: InvoiceLine) -> None:
        f = self.f
        el = self.cac(root, "InvoiceLine" if self.is_invoice else "CreditNoteLine")
        unit_code = line.unit_code
        if index == 0 and f.first_line_unit_code is not None:
            unit_code = f.first_line_unit_code
        self.cbc(el, "ID", line.identifier)
        self.cbc(el, "Note", line.note)
        self.cbc(
            el,
            "InvoicedQuantity" if self.is_invoice else "CreditedQuantity",
            decimal_text(line.quantity),
            unitCode=unit_code,
        )
        self.amount(el, "LineExtensionAmount", self._net_amount(index, line))
        if line.period is not None:
            self.period(el, "InvoicePeriod", line.period)
        if line.order_line_reference is not None:
            self.cbc(self.cac(el, "OrderLineReference"), "LineID", line.order_line_reference)
        for ac in line.allowances_charges:
            self.allowance_charge_common(self.cac(el, "AllowanceCharge"), ac)
        self.item(el, line, omit_name=index == 0 and f.omit_first_item_name)
        price = self.cac(el, "Price")
        self.amount(price, "PriceAmount", line.price.net_amount)
        if line.price.base_quantity is not None:
            self.cbc(price, "BaseQuantity", decimal_text(line.price.base_quantity), unitCode=unit_code)
        if line.price.gross_amount is not None:
            discount = self.cac(price, "AllowanceCharge")
            self.cbc(discount, "ChargeIndicator", "false")
            self.amount(discount, "Amount", line.price.discount)
            self.amount(discount, "BaseAmount", line.price.gross_amount)

    def item(self, parent: etree._Element, line: InvoiceLine, *, omit_name: bool) -> None:
        item = line.item
        el = self.cac(parent, "Item")
        self.cbc(el, "Description", item.description)
        if not omit_name:
            self.cbc(el, "Name", item.name)
        if item.sellers_identifier is not None:
            self.cbc(self.cac(el, "SellersItemIdentification"), "ID", item.sellers_identifier)
        if item.standard_identifier is not None:
            ident = item.standard_identifier
            attrs = {"schemeID": ident.scheme} if ident.scheme else {}
            self.cbc(self.cac(el, "StandardItemIdentification"), "ID", ident.value, **attrs)
        if item.origin_country is not None:
            self.cbc(self.cac(el, "OriginCountry"), "IdentificationCode", item.origin_country)
        for classification in item.classifications:
            self.cbc(
                self.cac(el, "CommodityClassification"),
                "ItemClassificationCode",
                classification.code,
                listID=classification.list_id,
            )
        self.tax_category(el, "ClassifiedTaxCategory", line.tax_category)
