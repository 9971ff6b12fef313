"""Xerces (the JDK's ``javax.xml.validation``) and the harness (lxml/libxml2) agree on the UBL 2.1
XML Schema.

The documents the harness generates are all schema-valid, so ``test_java_validators.py`` only sees
both engines say "valid". Here the verdicts are compared on documents that are mostly invalid: the
official CEN 1.3.16 UBL unit-test documents (fragments written for Schematron tests; most lack
elements the schema requires), the BIS 3.0.19 national examples (both Greek ones fail the schema
upstream), and the valid CEN and BIS examples and scenario documents. Only the verdict is
compared: the two parsers place some errors differently (libxml2 reports a missing child at the
start tag, Xerces at the end tag).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.peppol.validation import get_validator

from . import support
from .javatool import JavaTool
from .support import XSD
from .test_java_validators import bis_rules


def _corpus() -> list[support.Doc]:
    return [
        *support.official_files("peppol/bis-billing-3.0.19/rules/national-examples/"),
        *support.bis_examples(),
        *support.cen_ubl_examples(),
        *support.scenario_documents(seeds=(0,)),
        *support.cen_unit_test_documents("tc434-ubl"),
    ]


def test_xerces_and_lxml_give_the_same_verdicts(
    java_tool: JavaTool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    docs = support.write_all(tmp_path_factory.mktemp("interop-xsd"), _corpus())
    run = java_tool.validate([Path(p) for p in docs], schematron={}, xsd=bis_rules().xsd)
    assert run.header["xsd_factory"].startswith("com.sun.org.apache.xerces."), run.header
    validator = get_validator()
    problems: list[str] = []
    invalid = 0
    invalid_labels: set[str] = set()
    for path, doc in docs.items():
        ours = validator.validate(doc.data, name=doc.label, rulesets=[XSD])
        theirs = run.results[path]
        assert theirs.xsd_errors is not None and theirs.error is None, theirs
        ours_ok = ours.error is None and not ours.failed_asserts
        if ours_ok != (theirs.xsd_errors == ()):
            problems.append(
                f"{doc.label}: lxml {[fa.text for fa in ours.failed_asserts][:2] or 'valid'}; "
                f"Xerces {[e.message for e in theirs.xsd_errors][:2] or 'valid'}"
            )
        invalid += not ours_ok
        if not ours_ok:
            invalid_labels.add(doc.label)
    assert not problems, f"{len(problems)} of {len(docs)} verdicts differ:\n" + "\n".join(
        problems[:20]
    )
    assert invalid >= 1000, f"only {invalid} schema-invalid documents: the comparison is too easy"
    greek = {d.label for d in docs.values() if "/GR/" in d.label}
    assert len(greek) == 2 and greek <= invalid_labels, (
        "both Greek examples fail the UBL XSD upstream"
    )
