"""Known-bad variants of the reference Peppol BIS participant.

Each variant has exactly ONE fixed fault (the same whatever the seed or scenario) and declares the
set of requirements a certification run must find failed -- no more, no less. Official rule ids
are qualified by their rule set (``cen-ubl-1.3.14.1:BR-CO-15``); our own ids carry the suite prefix
(``BIS-OUT-003``). The declared sets of document faults were determined by validating what the
variant produces for every scenario of both rule sets the reference participant claims
(``peppol-ubl-3.0.19`` and ``pint-sg-ubl-1.4.1``) and are pinned by
``tests/integration/test_reference_participant_variants.py``.

This module is data only (no Starlette, no validator): the participant-file loader imports it to
check ``driver.variant``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class DocumentFault(str, Enum):
    """One deliberate defect written into every document the variant produces."""

    NONE = "none"
    WRONG_TOTALS = "wrong-totals"  #: BT-112 written 1.00 higher than the calculator derived
    MISSING_BUYER_REFERENCE = "missing-buyer-reference"  #: neither BT-10 nor BT-13
    INVALID_CURRENCY = "invalid-currency"  #: BT-5 (and every currencyID) is ZZZ, not ISO 4217
    INVALID_UNIT_CODE = "invalid-unit-code"  #: BT-130 of the first line is ZZZ, not UN/ECE Rec 20
    WRONG_CUSTOMIZATION_ID = "wrong-customization-id"  #: BT-24 names Peppol BIS 2.0
    DROPS_VAT_BREAKDOWN = "drops-vat-breakdown"  #: no BG-23 VAT breakdown (cac:TaxSubtotal)
    DECLARES_ENTITIES = "declares-entities"  #: a DOCTYPE with an internal entity before the root
    SCHEMA_ORDER = "schema-order"  #: cbc:IssueDate written before cbc:ID (UBL sequence broken)


class Outbound(str, Enum):
    """How a variant misbehaves when asked for a document (besides document faults)."""

    NORMAL = "normal"
    SAME_DOCUMENT = "same-document"  #: every scenario gets the rule set's first scenario's document
    CREDIT_NOTE_AS_INVOICE = "credit-note-as-invoice"  #: an Invoice where a CreditNote is asked
    ERROR_FOR_CREDIT_NOTE = "error-for-credit-note"  #: HTTP 500 for credit-note scenarios
    TEXT_PLAIN = "text-plain"  #: the right document with Content-Type text/plain


class Inbound(str, Enum):
    """How a variant misbehaves when handed a document."""

    NORMAL = "normal"
    ACCEPT_ALL = "accept-all"  #: accepts whatever it gets
    REJECT_VALID = "reject-valid"  #: rejects valid documents (naming a rule that did not fire)
    REJECT_WITHOUT_RULES = "reject-without-rules"  #: rejects invalid documents, rule_ids empty


@dataclass(frozen=True)
class Variant:
    """A behaviour of the reference participant: ``good`` or one known-bad fault."""

    name: str
    description: str
    #: Requirements a run against this variant must fail, exactly.
    declared: frozenset[str]
    document_fault: DocumentFault = DocumentFault.NONE
    outbound: Outbound = Outbound.NORMAL
    inbound: Inbound = Inbound.NORMAL

    @property
    def is_good(self) -> bool:
        return self.name == GOOD.name


#: The Peppol BIS 2.0 specification identifier, written by WRONG_CUSTOMIZATION_ID.
BIS2_CUSTOMIZATION_ID = (
    "urn:www.cenbii.eu:transaction:biitrns010:ver2.0:extended:urn:www.peppol.eu:bis:peppol4a:ver2.0"
)
#: A code in no ISO 4217 / UN/ECE Rec 20 list, written by INVALID_CURRENCY / INVALID_UNIT_CODE.
INVALID_CODE = "ZZZ"

GOOD = Variant(
    name="good",
    description="The reference participant as it should be: every document is the scenario asked "
    "for and valid; valid inbound documents are accepted, invalid ones rejected naming the rules "
    "they break.",
    declared=frozenset(),
)

_BIS = "peppol-ubl-3.0.19"
_CEN = "cen-ubl-1.3.14.1"
_SG = "pint-sg-ubl-1.4.1"


def _q(ruleset: str, *ids: str) -> set[str]:
    return {f"{ruleset}:{i}" for i in ids}


_CATALOGUE: tuple[Variant, ...] = (
    Variant(
        "wrong-totals",
        "Writes the invoice total with VAT (BT-112) 1.00 higher than the sum of the total without "
        "VAT and the VAT total.",
        frozenset(
            _q(_CEN, "BR-CO-15", "BR-CO-16")
            | _q(_SG, "BR-CO-15-GST-SG", "BR-CO-16-GST-SG", "ibr-co-15", "ibr-co-16")
        ),
        document_fault=DocumentFault.WRONG_TOTALS,
    ),
    Variant(
        "missing-buyer-reference",
        "Leaves out the buyer reference (BT-10) and the purchase order reference (BT-13).",
        frozenset(_q(_BIS, "PEPPOL-EN16931-R003") | _q(_SG, "PEPPOL-EN16931-R003-SG")),
        document_fault=DocumentFault.MISSING_BUYER_REFERENCE,
    ),
    Variant(
        "invalid-currency-code",
        f"Writes the invoice currency (BT-5) as {INVALID_CODE}, which is not an ISO 4217 code (the PINT "
        "SG scenarios that ask for SGD also get the wrong currency: BIS-OUT-003).",
        frozenset(
            {"BIS-OUT-003"}
            | _q(_CEN, "BR-CL-03", "BR-CL-04")
            | _q(_BIS, "PEPPOL-EN16931-CL007")
            | _q(_SG, "BR-113-GST-SG", "ibr-cl-03", "ibr-cl-04")
        ),
        document_fault=DocumentFault.INVALID_CURRENCY,
    ),
    Variant(
        "invalid-unit-code",
        f"Writes the unit of measure of the first line (BT-130) as {INVALID_CODE}, which is not a "
        "UN/ECE Recommendation 20 code.",
        frozenset(_q(_CEN, "BR-CL-23") | _q(_SG, "ibr-cl-23")),
        document_fault=DocumentFault.INVALID_UNIT_CODE,
    ),
    Variant(
        "wrong-customization-id",
        "Writes the Peppol BIS 2.0 specification identifier (BT-24) instead of the one of the "
        "rule set asked for (so the document is not the scenario asked for either: BIS-OUT-003).",
        frozenset({"BIS-OUT-003"} | _q(_BIS, "PEPPOL-EN16931-R004") | _q(_SG, "PEPPOL-EN16931-R004-SG")),
        document_fault=DocumentFault.WRONG_CUSTOMIZATION_ID,
    ),
    Variant(
        "drops-vat-breakdown",
        "Leaves out the VAT breakdown (BG-23) while keeping the VAT total (the document no longer shows "
        "the scenario's VAT categories either: BIS-OUT-003).",
        frozenset(
            {"BIS-OUT-003"}
            | _q(_CEN, "BR-CO-18", "BR-S-01", "BR-Z-01", "BR-E-01", "BR-AE-01", "BR-IC-01", "BR-G-01", "BR-O-01")
            | _q(_BIS, "PEPPOL-EN16931-R053", "PEPPOL-EN16931-R054")
            | _q(_SG, "BR-CO-18-GST-SG", "BR-NG-01-GST-SG", "PEPPOL-EN16931-R053-SG", "PEPPOL-EN16931-R054-SG")
        ),
        document_fault=DocumentFault.DROPS_VAT_BREAKDOWN,
    ),
    Variant(
        "declares-entities",
        "Writes a DOCTYPE declaring an internal entity before the root element; a receiver must "
        "not expand entities from the network, so the document cannot be read safely.",
        frozenset({"BIS-OUT-002"}),
        document_fault=DocumentFault.DECLARES_ENTITIES,
    ),
    Variant(
        "schema-order",
        "Writes the issue date (BT-2) before the invoice number (BT-1), breaking the element order "
        "the UBL 2.1 schema prescribes; every business rule still holds.",
        frozenset({"xsd-ubl-2.1:XSD"}),
        document_fault=DocumentFault.SCHEMA_ORDER,
    ),
    Variant(
        "same-document-for-every-scenario",
        "Answers every scenario of a rule set with the document of that rule set's first scenario.",
        frozenset({"BIS-OUT-003", "BIS-OUT-004"}),
        outbound=Outbound.SAME_DOCUMENT,
    ),
    Variant(
        "credit-note-as-invoice",
        "Answers credit-note scenarios with an Invoice (type 380) carrying the credit note's content.",
        frozenset({"BIS-OUT-003"}),
        outbound=Outbound.CREDIT_NOTE_AS_INVOICE,
    ),
    Variant(
        "fails-credit-notes",
        "Answers HTTP 500 (a problem document) instead of producing credit notes.",
        frozenset({"BIS-OUT-001"}),
        outbound=Outbound.ERROR_FOR_CREDIT_NOTE,
    ),
    Variant(
        "documents-as-text-plain",
        "Returns the right documents, but labelled Content-Type text/plain instead of "
        "application/xml.",
        frozenset({"BIS-API-001"}),
        outbound=Outbound.TEXT_PLAIN,
    ),
    Variant(
        "accepts-invalid-inbound",
        "Accepts every inbound document, also those that break fatal rules.",
        frozenset({"BIS-IN-002"}),
        inbound=Inbound.ACCEPT_ALL,
    ),
    Variant(
        "rejects-valid-inbound",
        "Rejects valid inbound documents (naming BR-01, which they do not break); invalid ones are "
        "handled correctly.",
        frozenset({"BIS-IN-001"}),
        inbound=Inbound.REJECT_VALID,
    ),
    Variant(
        "rejects-without-rule-ids",
        "Rejects invalid inbound documents without naming any rule (rule_ids is empty).",
        frozenset({"BIS-IN-003"}),
        inbound=Inbound.REJECT_WITHOUT_RULES,
    ),
)


#: Known-bad variants by name (``good`` is not among them: see :data:`GOOD`).
VARIANTS: Mapping[str, Variant] = MappingProxyType({v.name: v for v in _CATALOGUE})


def get_variant(name: str) -> Variant:
    """``good`` or a known-bad variant; ``KeyError`` with the known names otherwise."""
    if name == GOOD.name:
        return GOOD
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(
            f"unknown variant {name!r}; known: good, {', '.join(sorted(VARIANTS))}"
        ) from None
