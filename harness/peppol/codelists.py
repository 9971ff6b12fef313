"""Code values taken from the rule files themselves, so generated documents use only what the
rules accept.

Nothing here is a hand-written list of codes: each :class:`CodeList` is read, at run time,
from the test of named asserts in the Schematron files of a rule set (``contains(' A B C ',
...)`` lists, ``tokenize('A B C', ...)`` lists and ``<let>`` variables they refer to). When
several asserts constrain the same business term (the CEN and the Peppol rules both check a
currency), the list is their intersection. Results are cached per process.

Files are resolved through the artefact store (pinned by SHA-256), never read from a path
written here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ArtefactError, ConfigError

if TYPE_CHECKING:
    from lxml import etree

SCH_NS = "http://purl.oclc.org/dsdl/schematron"

# Rule files (artefact-store keys) of each rule set that generated documents must satisfy.
_BIS_CEN = "peppol/bis-billing-3.0.19/rules/sch/CEN-EN16931-UBL.sch"
_BIS_PEPPOL = "peppol/bis-billing-3.0.19/rules/sch/PEPPOL-EN16931-UBL.sch"
_SG_SHARED = "peppol/pint-sg-1.4.1/trn-invoice/schematron/PINT-UBL-validation-preprocessed.sch"
_SG_JURISDICTION = "peppol/pint-sg-1.4.1/trn-invoice/schematron/PINT-jurisdiction-aligned-rules.sch"

# (file, assert id) sources per code list and rule set. A value must be accepted by every
# source of a list. "let:NAME" names a <let> variable instead of an assert.
_SOURCES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "peppol-ubl-3.0.19": {
        "currency": ((_BIS_CEN, "BR-CL-03"), (_BIS_CEN, "BR-CL-04"), (_BIS_PEPPOL, "let:ISO4217")),
        "tax_currency": ((_BIS_CEN, "BR-CL-05"), (_BIS_PEPPOL, "let:ISO4217")),
        "vat_category": ((_BIS_CEN, "BR-CL-17"), (_BIS_CEN, "BR-CL-18"), (_BIS_PEPPOL, "let:UNCL5305")),
        "eas": ((_BIS_CEN, "BR-CL-25"), (_BIS_PEPPOL, "let:eaid")),
        "icd": ((_BIS_CEN, "BR-CL-10"), (_BIS_CEN, "BR-CL-11")),
        "unit": ((_BIS_CEN, "BR-CL-23"),),
        "country": ((_BIS_CEN, "BR-CL-14"), (_BIS_PEPPOL, "let:ISO3166")),
        "vat_prefix": ((_BIS_CEN, "BR-CO-09"),),
        "payment_means": ((_BIS_CEN, "BR-CL-16"),),
        "allowance_reason": ((_BIS_CEN, "BR-CL-19"), (_BIS_PEPPOL, "let:UNCL5189")),
        "charge_reason": ((_BIS_CEN, "BR-CL-20"), (_BIS_PEPPOL, "let:UNCL7161")),
        "vatex": ((_BIS_CEN, "BR-CL-22"),),
        "invoice_type": ((_BIS_CEN, "BR-CL-01"), (_BIS_PEPPOL, "PEPPOL-EN16931-P0100")),
        "credit_note_type": ((_BIS_CEN, "BR-CL-01#2"), (_BIS_PEPPOL, "PEPPOL-EN16931-P0101")),
    },
    "pint-sg-ubl-1.4.1": {
        "currency": ((_SG_SHARED, "ibr-cl-03"), (_SG_SHARED, "ibr-cl-04")),
        "tax_currency": ((_SG_SHARED, "ibr-cl-05"),),
        "vat_category": ((_SG_JURISDICTION, "BR-CL-17-GST-SG"), (_SG_JURISDICTION, "BR-CL-18-GST-SG")),
        "eas": ((_SG_SHARED, "ibr-cl-25"),),
        "icd": ((_SG_SHARED, "ibr-cl-10"), (_SG_SHARED, "ibr-cl-11")),
        "unit": ((_SG_SHARED, "ibr-cl-23"),),
        "country": ((_SG_SHARED, "ibr-cl-14"),),
        "payment_means": ((_SG_SHARED, "ibr-cl-16"), (_SG_JURISDICTION, "BR-CL-16-SG")),
        "allowance_reason": ((_SG_SHARED, "ibr-cl-19"),),
        "charge_reason": ((_SG_SHARED, "ibr-cl-20"),),
        # ibr-cl-01 holds two lists (invoice, then credit note); see _ALTERNATIVE.
        "invoice_type": ((_SG_SHARED, "ibr-cl-01"),),
        "credit_note_type": ((_SG_SHARED, "ibr-cl-01#2"),),
    },
}

# Identifier schemes whose values the rules check for a national format (GLN check digit,
# organisation numbers, ...) are found from rule contexts such as cbc:EndpointID[@schemeID = '0088'].
_SCHEME_CONTEXT = re.compile(r"@schemeID\s*=\s*'([0-9]{4})'")
_QUOTED_LIST = re.compile(r"'\s([^']+?)\s'")
_TOKENIZE = re.compile(r"tokenize\(\s*'([^']+)'")
_LET_REF = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)")
_TWO_LETTER = re.compile(r"'([A-Z]{2})'")


@dataclass(frozen=True)
class CodeList:
    """Code values one business term may take under a rule set, with where they came from."""

    name: str
    ruleset: str
    values: frozenset[str]
    sources: tuple[str, ...]  # "file#assert-id"

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def sorted(self) -> tuple[str, ...]:
        """The values in a stable order (for deterministic generation)."""
        return tuple(sorted(self.values))


def supported_rulesets() -> tuple[str, ...]:
    """Rule-set ids this module has code-list sources for."""
    return tuple(_SOURCES)


def code_list(ruleset: str, name: str) -> CodeList:
    """The code list ``name`` (currency, unit, eas, vat_category, ...) under ``ruleset``.

    Raises ConfigError for an unknown rule set or list name, ArtefactError when a rule file
    or assert cannot be found or holds no list.
    """
    return _code_list(ruleset, name)


@functools.cache
def _code_list(ruleset: str, name: str) -> CodeList:
    if ruleset not in _SOURCES:
        raise ConfigError(
            f"no code lists for rule set {ruleset!r}; known: {', '.join(_SOURCES)}"
        )
    lists = _SOURCES[ruleset]
    if name not in lists:
        raise ConfigError(
            f"no code list {name!r} for rule set {ruleset!r}; known: {', '.join(sorted(lists))}"
        )
    values: frozenset[str] | None = None
    sources = []
    for key, ref in lists[name]:
        found = frozenset(_values_of(key, ref))
        values = found if values is None else values & found
        sources.append(f"{key}#{ref}")
    assert values is not None
    if not values:
        raise ArtefactError(
            f"code list {name!r} of {ruleset!r} is empty after intersecting {sources}; "
            "the rule files may have changed: re-check harness/peppol/codelists.py sources"
        )
    return CodeList(name=name, ruleset=ruleset, values=values, sources=tuple(sources))


def schemes_with_format_rules(ruleset: str) -> frozenset[str]:
    """Identifier schemes (EAS/ICD) whose values some rule of ``ruleset`` checks for format."""
    found: set[str] = set()
    for key in _files_of(ruleset):
        for rule in _tree(key).iter(f"{{{SCH_NS}}}rule"):
            found.update(_SCHEME_CONTEXT.findall(rule.get("context", "")))
    return frozenset(found)


def countries_with_national_rules(ruleset: str) -> frozenset[str]:
    """Country codes that some rule of ``ruleset`` singles out (national rules such as NO-R-*).

    Read from two-letter literals in rule contexts, tests and variables; over-inclusive on
    purpose (a generator avoiding these countries never trips a national rule).
    """
    found: set[str] = set()
    for key in _files_of(ruleset):
        root = _tree(key)
        for el in root.iter(f"{{{SCH_NS}}}rule", f"{{{SCH_NS}}}assert", f"{{{SCH_NS}}}let"):
            for attr in ("context", "test", "value"):
                found.update(_TWO_LETTER.findall(el.get(attr, "")))
    return frozenset(found)


def _files_of(ruleset: str) -> tuple[str, ...]:
    if ruleset not in _SOURCES:
        raise ConfigError(f"no code lists for rule set {ruleset!r}; known: {', '.join(_SOURCES)}")
    return tuple(sorted({key for sources in _SOURCES[ruleset].values() for key, _ in sources}))


def _values_of(key: str, ref: str) -> list[str]:
    root = _tree(key)
    if ref.startswith("let:"):
        return _let_values(root, ref[4:], key)
    assert_id, _, nth = ref.partition("#")
    index = int(nth) - 1 if nth else 0
    for el in root.iter(f"{{{SCH_NS}}}assert"):
        if el.get("id") == assert_id:
            return _lists_in_test(root, el.get("test", ""), key, assert_id)[index]
    raise ArtefactError(
        f"assert {assert_id!r} not found in {key}; the rule file may be a different version "
        "than harness/peppol/codelists.py expects"
    )


def _lists_in_test(root: etree._Element, test: str, key: str, assert_id: str) -> list[list[str]]:
    lists = [m.split() for m in _QUOTED_LIST.findall(test) if len(m.split()) > 1]
    lists += [m.split() for m in _TOKENIZE.findall(test) if len(m.split()) > 1]
    if not lists:
        for name in _LET_REF.findall(test):
            values = _let_values(root, name, key, missing_ok=True)
            if values:
                lists.append(values)
    if not lists:
        raise ArtefactError(f"assert {assert_id!r} in {key} holds no code list")
    return lists


def _let_values(
    root: etree._Element, name: str, key: str, *, missing_ok: bool = False
) -> list[str]:
    for el in root.iter(f"{{{SCH_NS}}}let"):
        if el.get("name") == name:
            value = el.get("value", "")
            match = _TOKENIZE.search(value)
            if match:
                return match.group(1).split()
            if missing_ok:
                return []
            raise ArtefactError(f"variable ${name} in {key} is not a tokenize() code list")
    if missing_ok:
        return []
    raise ArtefactError(f"variable ${name} not found in {key}")


@functools.cache
def _tree(key: str) -> etree._Element:
    from lxml import etree

    path = _artefact_path(key)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.parse(str(path), parser).getroot()


def _artefact_path(key: str) -> Path:
    from harness.artefacts.store import ArtefactStore

    return Path(ArtefactStore.default().path(key))
