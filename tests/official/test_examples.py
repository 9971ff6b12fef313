"""The official example documents through the harness validator.

* BIS 3.0.19 ``rules/examples`` and ``rules/snippets`` and the 16 PINT SG examples must validate
  clean (no assert fires at any level) with the rule sets their CustomizationID selects.
* Every other example folder in the mirror is run too, and its *actual* outcome is pinned in
  :data:`RECORDED`: a change in the engine, the rules or the files shows up as a diff. Known
  upstream defects: both Greek national examples of BIS 3.0.19 break the UBL 2.1 schema, and
  ``GR-base-example-TaxRepresentative.xml`` also breaks BR-06.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from harness.artefacts.store import ArtefactStore

if TYPE_CHECKING:
    from harness.peppol.validation import DocumentValidator


@dataclass(frozen=True)
class ExampleFolder:
    """A folder of example documents in the mirror and the rule sets they are judged by."""

    prefix: str
    files: int  # what upstream ships, so a file that goes missing is noticed
    #: None: follow the CustomizationID (``rulesets_for_document``)
    rulesets: tuple[str, ...] | None
    why: str


BIS19 = "peppol/bis-billing-3.0.19/rules/"
CLEAN = (
    ExampleFolder(BIS19 + "examples/", 9, None, "BIS 3.0.19 examples"),
    ExampleFolder(BIS19 + "snippets/", 15, None, "BIS 3.0.19 snippets"),
    ExampleFolder("peppol/pint-sg-1.4.1/trn-invoice/example/", 16, None, "PINT SG 1.4.1 examples"),
)
OTHERS = (
    ExampleFolder(BIS19 + "national-examples/", 3, None, "BIS 3.0.19 national examples"),
    # the harness has no 3.0.20 rule set: these are judged by the default release, 3.0.19
    ExampleFolder("peppol/bis-billing-3.0.20/examples/", 9, None, "BIS 3.0.20 examples"),
    ExampleFolder(
        "peppol/bis-billing-3.0.21/examples/",
        10,
        ("peppol-ubl-3.0.21", "cen-ubl-1.3.16", "xsd-ubl-2.1"),
        "BIS 3.0.21 examples with the 3.0.21 rules (and the CEN rules bundled with them)",
    ),
    ExampleFolder(
        "cen/en16931-1.3.16/ubl/examples/",
        19,
        ("cen-ubl-1.3.16", "xsd-ubl-2.1"),
        "CEN 1.3.16 UBL examples with the rules they ship with",
    ),
    ExampleFolder(
        "cen/en16931-1.3.16/cii/examples/",
        15,
        ("cen-cii-1.3.16",),
        "CEN 1.3.16 CII examples with the rules they ship with (no CII schema is pinned)",
    ),
)

#: key (relative to its folder's prefix) -> (error-level ids fired, warning ids fired), as
#: measured; every file of every folder in OTHERS is listed, clean ones with empty sets.
RECORDED: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def _clean(*keys: str, prefix: str) -> None:
    for key in keys:
        RECORDED[prefix + key] = (frozenset(), frozenset())


_NAT = BIS19 + "national-examples/"
RECORDED[_NAT + "GR/GR-base-example-TaxRepresentative.xml"] = (
    frozenset({"XSD", "BR-06"}),
    frozenset({"GR-S-011"}),
)
RECORDED[_NAT + "GR/GR-base-example-correct.xml"] = (frozenset({"XSD"}), frozenset({"GR-S-008-1"}))
RECORDED[_NAT + "NO/Norwegian-example-1.xml"] = (frozenset(), frozenset({"UBL-CR-679"}))
_BIS_EXAMPLES = (
    "Allowance-example.xml",
    "Vat-category-S.xml",
    "base-creditnote-correction.xml",
    "base-example.xml",
    "base-negative-inv-correction.xml",
    "sales-order-example.xml",
    "vat-category-E.xml",
    "vat-category-O.xml",
    "vat-category-Z.xml",
)
_clean(*_BIS_EXAMPLES, prefix="peppol/bis-billing-3.0.20/examples/")
_clean(*_BIS_EXAMPLES, "base-example_profile02.xml", prefix="peppol/bis-billing-3.0.21/examples/")
_clean(
    "BIS3_Invoice_negativ.XML",  # "negativ": negative amounts, not a negative test
    "BIS3_Invoice_positive.XML",
    "FT G2G_TD01 con Allegato, Bonifico e Split Payment.xml",
    "guide-example1.xml",
    "guide-example2.xml",
    "guide-example3.xml",
    "issue116.xml",
    "sample-discount-price.xml",
    "ubl-tc434-creditnote1.xml",
    *(f"ubl-tc434-example{n}.xml" for n in range(1, 11)),
    prefix="cen/en16931-1.3.16/ubl/examples/",
)
_clean(
    "CII-BR-CO-10-RoundingIssue.xml",
    "CII_business_example_01.xml",
    "CII_business_example_02.xml",
    "CII_business_example_Z.xml",
    *(f"CII_example{n}.xml" for n in range(1, 10)),
    "XRechnung-O.xml",
    "huf_example_cii.xml",
    prefix="cen/en16931-1.3.16/cii/examples/",
)


def _files(folders: tuple[ExampleFolder, ...]) -> list[tuple[str, ExampleFolder]]:
    store = ArtefactStore.default()
    return [(key, folder) for folder in folders for key in store.keys(folder.prefix)]


def _key_id(value: object) -> str:
    return value if isinstance(value, str) else ""


def test_example_folders_have_the_upstream_file_counts(store: ArtefactStore) -> None:
    for folder in CLEAN + OTHERS:
        assert len(store.keys(folder.prefix)) == folder.files, folder.why
    assert {key for key, _ in _files(OTHERS)} == set(RECORDED)


@pytest.mark.parametrize(("key", "folder"), _files(CLEAN), ids=_key_id)
def test_example_validates_clean(
    key: str, folder: ExampleFolder, store: ArtefactStore, validator: DocumentValidator
) -> None:
    # validate_file: the PINT SG names have spaces; the path goes through as is
    result = validator.validate_file(store.path(key), rulesets=folder.rulesets)
    assert result.error is None, result.error
    fired = [
        f"{fa.ruleset}:{fa.id} [{fa.flag}] at {fa.location}: {fa.text}"
        for fa in result.failed_asserts
    ]
    assert result.valid and not fired, f"{key} ({', '.join(result.rulesets)}):\n  " + "\n  ".join(
        fired
    )
    assert "xsd-ubl-2.1" in result.rulesets  # the selection includes the schema for UBL


@pytest.mark.parametrize(("key", "folder"), _files(OTHERS), ids=_key_id)
def test_example_outcome_is_as_recorded(
    key: str, folder: ExampleFolder, store: ArtefactStore, validator: DocumentValidator
) -> None:
    result = validator.validate_file(store.path(key), rulesets=folder.rulesets)
    assert result.error is None, result.error
    errors = frozenset(fa.id for fa in result.errors)
    warnings = frozenset(fa.id for fa in result.warnings)
    assert (errors, warnings) == RECORDED[key], (
        f"{key} ({', '.join(result.rulesets)}): "
        + "; ".join(f"{fa.ruleset}:{fa.id} [{fa.flag}] {fa.text}" for fa in result.failed_asserts)
    )
    assert result.valid is (not errors)


def test_greek_national_examples_break_the_ubl_schema(
    store: ArtefactStore, validator: DocumentValidator
) -> None:
    """The known upstream defects, stated on their own so the table cannot quietly absorb them."""
    for name in ("GR-base-example-TaxRepresentative.xml", "GR-base-example-correct.xml"):
        result = validator.validate_file(store.path(_NAT + "GR/" + name))
        xsd = [fa for fa in result.failed_asserts if fa.id == "XSD"]
        assert xsd and all(fa.ruleset == "xsd-ubl-2.1" for fa in xsd), name
        assert not result.valid
