"""The VEFA reader and judge on their own: parsing, configurations and the expectation semantics.

These run without the validation engine; ``test_unit_suites.py`` runs the official corpora.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.errors import ArtefactError
from harness.peppol.vefa import (
    Expectation,
    VefaFormatError,
    evaluate,
    negative_ids,
    official_corpus,
    parse_test_set,
    rulesets_for_configuration,
)


@dataclass(frozen=True)
class Fired:
    """A fired assert as the validator reports it (only what the judge reads)."""

    id: str
    flag: str = "fatal"


def _set(body: str, *, configuration: str = "tc434-ubl", set_assert: str = "") -> bytes:
    return (
        '<testSet xmlns="http://difi.no/xsd/vefa/validator/1.0" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
        f'configuration="{configuration}">{set_assert}{body}</testSet>'
    ).encode()


_INVOICE = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><cbc:ID>1</cbc:ID></Invoice>'


def _case(assert_xml: str, *, set_assert: str = "<assert><scope>BR-01</scope></assert>"):
    ts = parse_test_set(
        _set(f"<test>{assert_xml}{_INVOICE}</test>", set_assert=set_assert), path="t.xml"
    )
    return ts.cases[0]


# -- parsing ----------------------------------------------------------------------------------


def test_set_level_assert_applies_to_every_test() -> None:
    data = _set(
        f"<test><assert><success>BR-01</success></assert>{_INVOICE}</test>"
        f'<test id="neg"><assert><description>own</description><error number="2">BR-02</error>'
        f"</assert>{_INVOICE}</test>",
        set_assert="<assert><description>set</description><scope>BR-01</scope>"
        "<scope>BR-02</scope><warning>BR-03</warning></assert>",
    )
    ts = parse_test_set(data, path="k/x.xml")
    assert ts.configuration == "tc434-ubl"
    assert [c.index for c in ts.cases] == [1, 2]
    first, second = ts.cases
    assert first.ref == "k/x.xml#1" and second.ref == "k/x.xml#2"
    assert first.label is None and second.label == "neg"
    assert first.description == "set" and second.description == "own"
    assert first.scope == ("BR-01", "BR-02") == second.scope
    assert first.expectations == (
        Expectation("success", "BR-01", 1),
        Expectation("warning", "BR-03", 1),
    )
    assert second.expectations == (
        Expectation("error", "BR-02", 2),
        Expectation("warning", "BR-03", 1),
    )


def test_document_is_standalone_with_in_scope_namespaces() -> None:
    from lxml import etree

    case = _case("<assert><success>BR-01</success></assert>")
    assert case.document.startswith(b"<?xml")
    root = etree.fromstring(case.document)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    # cbc is declared on <testSet> only; the standalone document must still resolve it
    assert root[0].tag == "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}ID"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Invoice/>", "expected {http://difi.no/xsd/vefa/validator/1.0}testSet"),
        (b"<testSet", "not well-formed"),
        (
            _set(f"<test>{_INVOICE}</test>", configuration="made-up"),
            "unknown VEFA test configuration",
        ),
        (_set(f"<test>{_INVOICE}{_INVOICE}</test>"), "exactly one document element, found 2"),
        (_set("<test><assert><success>X</success></assert></test>"), "found 0"),
        (
            _set(
                f"<test><assert><error>BR-01</error></assert>{_INVOICE}</test>",
                set_assert="<assert><success>BR-01</success></assert>",
            ),
            "two expectations",
        ),
        (
            _set(f'<test><assert><error number="x">A</error></assert>{_INVOICE}</test>'),
            "not an integer",
        ),
        (_set(f"<test><assert><fail>A</fail></assert>{_INVOICE}</test>"), "unknown element <fail>"),
    ],
)
def test_malformed_test_sets_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(VefaFormatError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse_test_set(data, path="bad.xml")
    assert issubclass(VefaFormatError, ArtefactError)


# -- configurations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configuration", "rulesets"),
    [
        ("peppolbis-en16931-base-3.0-ubl", ("peppol-ubl-3.0.19",)),
        ("peppolbis-en16931-base-3.0-cii", ("peppol-cii-3.0.19",)),
        ("peppolbis-en16931-01-3.0-ubl-invoice", ("cen-ubl-1.3.14.1", "peppol-ubl-3.0.19")),
        ("peppolbis-en16931-01-3.0-ubl-creditnote", ("cen-ubl-1.3.14.1", "peppol-ubl-3.0.19")),
        ("peppolbis-en16931-01-3.0-cii", ("cen-cii-1.3.14.1", "peppol-cii-3.0.19")),
        ("peppolbis-en16931-cen-ubl", ("cen-ubl-1.3.14.1",)),
        ("peppolbis-en16931-cen-cii", ("cen-cii-1.3.14.1",)),
        ("tc434-ubl", ("cen-ubl-1.3.16",)),
        ("tc434-cii", ("cen-cii-1.3.16",)),
    ],
)
def test_configuration_selects_rule_sets(configuration: str, rulesets: tuple[str, ...]) -> None:
    assert rulesets_for_configuration(configuration) == rulesets


def test_every_rule_configuration_of_the_bis_buildconfig_is_mapped() -> None:
    """Every configuration of BIS 3.0.19's buildconfig.xml that applies rule files is known."""
    from lxml import etree

    from harness.artefacts.store import ArtefactStore

    path = ArtefactStore.default().path("peppol/bis-billing-3.0.19/rules/buildconfig.xml")
    root = etree.parse(str(path)).getroot()
    ns = {"v": "http://difi.no/xsd/vefa/validator/1.0"}
    with_rules = [
        c.findtext("v:identifier", namespaces=ns)
        for c in root.findall("v:configuration", ns)
        if c.find("v:file", ns) is not None or c.find("v:inherit", ns) is not None
    ]
    assert len(with_rules) == 7  # the eighth configuration only renders a stylesheet
    for identifier in with_rules:
        assert rulesets_for_configuration(identifier)


def test_every_configuration_used_by_the_official_corpus_is_mapped() -> None:
    used = {ts.configuration for ts in official_corpus()}
    assert used == {
        "peppolbis-en16931-base-3.0-ubl",
        "peppolbis-en16931-base-3.0-cii",
        "peppolbis-en16931-01-3.0-ubl-invoice",
        "tc434-ubl",
        "tc434-cii",
    }


# -- expectation semantics ---------------------------------------------------------------------


def test_success_passes_when_rule_is_silent_and_fails_when_it_fires_at_any_level() -> None:
    case = _case("<assert><success>BR-01</success></assert>")
    assert evaluate(case, []) == []
    assert evaluate(case, [Fired("BR-02")]) == []  # out of scope
    (problem,) = evaluate(case, [Fired("BR-01", "error")])
    assert problem.startswith("BR-01: must not fire")
    (problem,) = evaluate(case, [Fired("BR-01", "warning")])
    assert "1 time at warning level" in problem


def test_error_must_fire_exactly_number_times_at_error_level() -> None:
    case = _case("<assert><error>BR-01</error></assert>")
    assert evaluate(case, [Fired("BR-01", "error")]) == []
    assert evaluate(case, [Fired("BR-01", "fatal")]) == []  # fatal is error level too
    assert evaluate(case, []) == [
        "BR-01: expected to fire at error level 1 time (error), fired 0 times"
    ]
    assert evaluate(case, [Fired("BR-01")] * 2) == [
        "BR-01: expected to fire at error level 1 time (error), fired 2 times"
    ]
    # a warning-level firing does not satisfy an error expectation
    assert evaluate(case, [Fired("BR-01", "warning")]) != []


def test_number_counts_firings() -> None:
    case = _case('<assert><fatal number="3">BR-01</fatal></assert>')
    assert evaluate(case, [Fired("BR-01")] * 3) == []
    assert evaluate(case, [Fired("BR-01")] * 2) != []
    assert evaluate(case, [Fired("BR-01")] * 4) != []


def test_warning_must_fire_at_warning_level() -> None:
    case = _case('<assert><warning number="2">BR-01</warning></assert>')
    assert evaluate(case, [Fired("BR-01", "warning")] * 2) == []
    assert evaluate(case, [Fired("BR-01", "warning")]) == [
        "BR-01: expected to fire at warning level 2 times, fired 1 time"
    ]
    problems = evaluate(case, [Fired("BR-01", "warning")] * 2 + [Fired("BR-01", "fatal")])
    assert problems == ["BR-01: expected at warning level only, but fired 1 time at error level"]


def test_unexpected_error_level_firing_of_a_counted_id_fails() -> None:
    case = _case(
        "<assert><success>BR-01</success></assert>",
        set_assert="<assert><scope>BR-01</scope><scope>BR-02</scope></assert>",
    )
    assert evaluate(case, [Fired("BR-02", "error")]) == [
        "BR-02: fired 1 time at error level, not expected"
    ]
    assert evaluate(case, [Fired("BR-02", "warning")]) == []  # warnings are findings, not failures
    assert evaluate(case, [Fired("BR-99", "fatal"), Fired("XSD", "fatal")]) == []  # out of scope


def test_without_scope_the_named_ids_count() -> None:
    case = _case("<assert><error>BR-01</error><success>BR-02</success></assert>", set_assert="")
    assert case.scope == ()
    assert case.counted_ids == {"BR-01", "BR-02"}
    assert evaluate(case, [Fired("BR-01"), Fired("BR-77")]) == []
    assert evaluate(case, [Fired("BR-01"), Fired("BR-02")]) != []


def test_out_of_scope_expectations_follow_vefa() -> None:
    # VEFA drops firings of out-of-scope ids before judging: a success there always holds,
    # a firing expectation there can never be met.
    case = _case("<assert><success>BR-30</success></assert>")
    assert evaluate(case, [Fired("BR-30")]) == []
    case = _case("<assert><error>BR-30</error></assert>")
    (problem,) = evaluate(case, [Fired("BR-30")])
    assert "outside the test's scope" in problem


def test_a_wrong_expectation_on_a_real_official_case_is_reported() -> None:
    """The runner can fail: feed a real official case the opposite of what it expects."""
    case = next(
        c
        for ts in official_corpus()
        if ts.path.endswith("test/Invoice-unit-UBL/BR-01.xml")
        for c in ts.cases
        if any(e.kind == "error" and e.rule_id == "BR-01" for e in c.expectations)
    )
    assert evaluate(case, [Fired("BR-01", "fatal")]) == []
    assert evaluate(case, []) == [
        "BR-01: expected to fire at error level 1 time (error), fired 0 times"
    ]


# -- coverage data source ---------------------------------------------------------------------


def test_negative_ids_qualify_each_fired_id_by_the_rule_set_that_has_it() -> None:
    data = _set(
        "<test><assert><error>BR-01</error></assert>" + _INVOICE + "</test>"
        "<test><assert><success>BR-01</success></assert>" + _INVOICE + "</test>"
        "<test><assert><warning>PEPPOL-X</warning><error>BR-99</error></assert>"
        + _INVOICE
        + "</test>",
        configuration="peppolbis-en16931-01-3.0-ubl-invoice",
        set_assert="<assert><scope>BR-01</scope><scope>PEPPOL-X</scope><scope>BR-99</scope></assert>",
    )
    ts = parse_test_set(data, path="p/x.xml")
    catalogues = {"cen-ubl-1.3.14.1": ["BR-01"], "peppol-ubl-3.0.19": ["PEPPOL-X"]}
    assert negative_ids([ts], catalogue=catalogues.__getitem__) == {
        "cen-ubl-1.3.14.1:BR-01": ["p/x.xml#1"],
        "peppol-ubl-3.0.19:PEPPOL-X": ["p/x.xml#3"],
    }


def test_negative_ids_of_the_official_corpus() -> None:
    """Every rule an official test makes fire is credited to a rule set of its configuration."""
    from harness.peppol.rulesets import rule_catalogue

    negatives = negative_ids()
    assert negatives["cen-ubl-1.3.16:BR-01"] == [
        "cen/en16931-1.3.16/test/CreditNote-unit-UBL/BR-01.xml#2",
        "cen/en16931-1.3.16/test/Invoice-unit-UBL/BR-01.xml#2",
    ]
    # the one Profile 01 test set runs CEN 1.3.14.1 + Peppol; its id belongs to the Peppol rules
    assert (
        "peppol/bis-billing-3.0.19/rules/unit-UBL-PEPPOL/PEPPOL-COMMON-EAS.xml#2"
        in negatives["peppol-ubl-3.0.19:PEPPOL-EN16931-CL008"]
    )
    assert not any(qid.startswith("cen-ubl-1.3.14.1:") for qid in negatives)
    by_ruleset: dict[str, int] = {}
    for qid in negatives:
        by_ruleset[qid.split(":", 1)[0]] = by_ruleset.get(qid.split(":", 1)[0], 0) + 1
    assert by_ruleset == {
        "cen-ubl-1.3.16": 199,
        "cen-cii-1.3.16": 2,
        "peppol-ubl-3.0.19": 144,
        "peppol-cii-3.0.19": 80,
    }
    # nothing an official test expects to fire is left uncredited
    for ts in official_corpus():
        known = {rule.id for r in ts.rulesets for rule in rule_catalogue(r)}
        for case in ts.cases:
            for exp in case.expectations:
                if exp.fires:
                    assert exp.rule_id in known, (
                        f"{case.ref}: {exp.rule_id} is in no rule set of {ts.rulesets}"
                    )
