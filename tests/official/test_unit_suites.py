"""The official VEFA unit tests of Peppol BIS Billing 3.0.19 and CEN EN 16931 1.3.16 are our tests.

Every case of every official test file is one pytest item (``<artefact key>#<case>``), run through
the harness validator with the rule sets its test set's ``configuration`` selects and judged with
VEFA semantics (:func:`harness.peppol.vefa.evaluate`). The totals are pinned, so a file or case
that silently goes missing (a sync, a parser change, a glob) fails the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from harness.peppol.vefa import TestCase as VefaCase
from harness.peppol.vefa import evaluate, load_corpus, official_corpora, official_corpus

if TYPE_CHECKING:
    from harness.peppol.validation import DocumentValidator

#: what upstream ships: (files, cases)
EXPECTED_TOTALS = {"bis-3.0.19": (227, 863), "cen-1.3.16": (279, 1140)}


def _cases() -> list[tuple[VefaCase, tuple[str, ...]]]:
    return [(case, ts.rulesets) for ts in official_corpus() for case in ts.cases]


def _case_id(value: object) -> str:
    if isinstance(value, VefaCase):
        return value.ref.replace("peppol/bis-billing-3.0.19/rules/", "bis-3.0.19/").replace(
            "cen/en16931-1.3.16/test/", "cen-1.3.16/"
        )
    return ""


def test_official_corpora_have_the_upstream_totals() -> None:
    for corpus in official_corpora():
        test_sets = load_corpus(corpus)
        files, cases = EXPECTED_TOTALS[corpus.name]
        assert (len(test_sets), sum(len(ts.cases) for ts in test_sets)) == (files, cases), (
            f"{corpus.name}: expected {files} files with {cases} cases"
        )
    keys = {ts.path for ts in official_corpus()}
    # upstream's typo'd file name is a test set like any other and must not be skipped
    assert "peppol/bis-billing-3.0.19/rules/unit-UBL-PEPPOL/PEPPOL-COMMON-R048.xm" in keys
    assert len(_cases()) == 863 + 1140


@pytest.mark.parametrize(("case", "rulesets"), _cases(), ids=_case_id)
def test_official_unit_test(
    case: VefaCase, rulesets: tuple[str, ...], validator: DocumentValidator
) -> None:
    result = validator.validate(case.document, name=case.ref, rulesets=rulesets)
    assert result.error is None, f"{case.ref}: the document could not be validated: {result.error}"
    problems = evaluate(case, result.failed_asserts)
    expected = ", ".join(str(e) for e in case.expectations)
    assert not problems, (
        f"{case.ref} [{', '.join(rulesets)}] {case.description!r}\n"
        f"  expects: {expected} (scope: {', '.join(case.scope) or 'the named ids'})\n  "
        + "\n  ".join(problems)
    )


def test_a_deliberately_wrong_expectation_fails_through_the_validator(
    validator: DocumentValidator,
) -> None:
    """Negative self-test: the runner can fail. Flip an official case's expectation and judge."""
    from dataclasses import replace

    from harness.peppol.vefa import Expectation

    case, rulesets = next(
        (c, r)
        for c, r in _cases()
        if c.path.endswith("test/Invoice-unit-UBL/BR-01.xml")
        and any(e.kind == "error" and e.rule_id == "BR-01" for e in c.expectations)
    )
    result = validator.validate(case.document, name=case.ref, rulesets=rulesets)
    assert evaluate(case, result.failed_asserts) == []
    flipped = replace(case, expectations=(Expectation("success", "BR-01"),))
    (problem,) = evaluate(flipped, result.failed_asserts)
    assert problem.startswith("BR-01: must not fire, but fired 1 time at error level")
