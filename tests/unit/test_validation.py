"""The document validator on real rule files (via the artefact mirror)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from harness.artefacts.store import ArtefactStore
from harness.errors import ConfigError
from harness.peppol.validation import (
    AssertCheck,
    DocumentValidator,
    FailedAssert,
    ValidationResult,
    get_validator,
)
from harness.xml.schematron import normalise_location, parse_svrl

BASE = "peppol/bis-billing-3.0.19/rules/examples/base-example.xml"
CREDIT = "peppol/bis-billing-3.0.19/rules/examples/base-creditnote-correction.xml"
PINT_SG = (
    "peppol/pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
)
CII = "cen/en16931-1.3.16/cii/examples/CII_example1.xml"
LMT = "/Invoice[1]/cac:LegalMonetaryTotal[1]"


@pytest.fixture(scope="module")
def validator() -> DocumentValidator:
    return get_validator()


def doc(key: str) -> bytes:
    return ArtefactStore.default().read_bytes(key)


def with_total(data: bytes, amount: str) -> bytes:
    """The document with its Invoice total amount with VAT (BT-112) replaced."""
    out, n = re.subn(
        rb"(<cbc:TaxInclusiveAmount currencyID=\"\w+\">)[^<]*", rb"\g<1>" + amount.encode(), data
    )
    assert n == 1
    return out


def by_key(result: ValidationResult) -> dict[tuple[str, str], AssertCheck]:
    return {(c.ruleset, c.id): c for c in result.checks}


def test_base_example_is_valid_through_xsd_cen_and_peppol(validator: DocumentValidator) -> None:
    r = validator.validate(doc(BASE), name="base-example.xml")
    assert r.valid and r.error is None and r.failed_asserts == ()
    assert r.rulesets == ("peppol-ubl-3.0.19", "cen-ubl-1.3.14.1", "xsd-ubl-2.1")
    assert (
        r.customization_id
        == "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert r.syntax == "ubl"


def test_wrong_total_fires_br_co_15_and_16_at_their_rule_contexts(
    validator: DocumentValidator,
) -> None:
    r = validator.validate(with_total(doc(BASE), "1700.00"), name="wrong-total.xml")
    assert not r.valid and r.error is None
    assert [(f.id, f.flag, f.location, f.ruleset) for f in r.failed_asserts] == [
        ("BR-CO-15", "fatal", "/Invoice[1]", "cen-ubl-1.3.14.1"),
        ("BR-CO-16", "fatal", LMT, "cen-ubl-1.3.14.1"),
    ]
    assert r.failed_asserts[0].text == (
        "[BR-CO-15]-Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) "
        "+ Invoice total VAT amount (BT-110)."
    )


def test_locations_are_the_same_whichever_engine_compiled_the_rules(
    validator: DocumentValidator,
) -> None:
    """cen-ubl-1.3.16 runs CEN's published (ISO skeleton) XSLT, cen-ubl-1.3.14.1 SchXslt2 output."""
    data = with_total(doc(BASE), "1700.00")
    iso = validator.validate(data, rulesets=["cen-ubl-1.3.16"])
    schxslt = validator.validate(data, rulesets=["cen-ubl-1.3.14.1"])
    assert [(f.id, f.location) for f in iso.failed_asserts] == [
        (f.id, f.location) for f in schxslt.failed_asserts
    ]
    assert [f.location for f in iso.failed_asserts] == ["/Invoice[1]", LMT]


def test_each_assert_is_a_tri_state_check(validator: DocumentValidator) -> None:
    r = validator.validate(with_total(doc(BASE), "1700.00"), rulesets=["cen-ubl-1.3.16"])
    checks = by_key(r)
    assert checks[("cen-ubl-1.3.16", "BR-CO-15")] == AssertCheck(
        "cen-ubl-1.3.16", "BR-CO-15", "fatal", "fail", ("/Invoice[1]",)
    )
    assert checks[("cen-ubl-1.3.16", "BR-CO-16")].locations == (LMT,)
    assert checks[("cen-ubl-1.3.16", "BR-01")].outcome == "pass"  # root rule fired, assert held
    # no cac:AdditionalDocumentReference in the document: BR-52's rule never fired
    assert checks[("cen-ubl-1.3.16", "BR-52")].outcome == "not-applicable"
    assert len(r.checks) == 979  # one per assert id of the applied rule set
    outcomes = Counter(c.outcome for c in r.checks)
    assert outcomes["fail"] == 2 and outcomes["pass"] > 100 and outcomes["not-applicable"] > 50


def test_tri_state_agrees_between_the_two_engines_on_the_same_rules(
    validator: DocumentValidator,
) -> None:
    r = validator.validate(doc(BASE), rulesets=["cen-ubl-1.3.16", "cen-ubl-1.3.14.1"])
    new = {c.id: c.outcome for c in r.checks if c.ruleset == "cen-ubl-1.3.16"}
    old = {c.id: c.outcome for c in r.checks if c.ruleset == "cen-ubl-1.3.14.1"}
    differing = {i for i in new.keys() & old.keys() if new[i] != old[i]}
    assert differing == set()


def test_xsd_runs_only_when_asked(validator: DocumentValidator) -> None:
    broken = doc(BASE).replace(
        b"<cbc:ID>Snippet1</cbc:ID>", b"<cbc:ID>Snippet1</cbc:ID><cbc:Bogus>x</cbc:Bogus>", 1
    )
    cen_alone = validator.validate(broken, rulesets=["cen-ubl-1.3.14.1"])
    peppol_alone = validator.validate(broken, rulesets=["peppol-ubl-3.0.19"])
    cen_peppol = validator.validate(broken, rulesets=["cen-ubl-1.3.14.1", "peppol-ubl-3.0.19"])
    for r in (cen_alone, peppol_alone, cen_peppol):
        assert r.valid and all(c.ruleset != "xsd-ubl-2.1" for c in r.checks)
    assert cen_peppol.rulesets == ("cen-ubl-1.3.14.1", "peppol-ubl-3.0.19")
    with_xsd = validator.validate(broken, name="b.xml", rulesets=["xsd-ubl-2.1"])
    assert not with_xsd.valid
    (fa,) = with_xsd.failed_asserts
    assert (fa.id, fa.flag, fa.ruleset) == ("XSD", "fatal", "xsd-ubl-2.1")
    assert fa.location == "7:30"  # line:column of <cbc:Bogus>
    assert fa.text.startswith("Element 'cbc:Bogus': This element is not expected.")
    assert by_key(with_xsd)[("xsd-ubl-2.1", "XSD")].outcome == "fail"


def test_warnings_are_listed_but_do_not_invalidate(validator: DocumentValidator) -> None:
    data = doc(BASE).replace(
        b"<cbc:ID>Snippet1</cbc:ID>", b"<cbc:ID>Snippet1</cbc:ID><cbc:UUID>u-1</cbc:UUID>", 1
    )
    r = validator.validate(data, name="uuid.xml")
    assert r.valid
    assert r.failed_asserts == (
        FailedAssert(
            "UBL-CR-005", "warning", "/Invoice[1]", r.failed_asserts[0].text, "cen-ubl-1.3.14.1"
        ),
    )
    assert r.warnings == r.failed_asserts and r.errors == ()


def test_credit_note_and_cii_documents_validate(validator: DocumentValidator) -> None:
    cn = validator.validate(doc(CREDIT), name="cn.xml")
    assert cn.valid and cn.rulesets == ("peppol-ubl-3.0.19", "cen-ubl-1.3.14.1", "xsd-ubl-2.1")
    cii = validator.validate(doc(CII), name="cii.xml")
    assert cii.valid and cii.syntax == "cii" and cii.rulesets == ("cen-cii-1.3.16",)
    assert any(c.outcome == "pass" for c in cii.checks)


def test_pint_sg_example_is_valid_and_shared_rules_report_once(
    validator: DocumentValidator,
) -> None:
    data = doc(PINT_SG)
    assert validator.validate(data).rulesets == ("pint-sg-ubl-1.4.1", "xsd-ubl-2.1")
    bad = with_total(data, "99999.00")
    both = validator.validate(bad, rulesets=["pint-ubl-1.1.3", "pint-sg-ubl-1.4.1"])
    assert [(f.id, f.ruleset) for f in both.failed_asserts] == [
        ("ibr-co-15", "pint-ubl-1.1.3"),
        ("ibr-co-16", "pint-ubl-1.1.3"),
        ("BR-CO-15-GST-SG", "pint-sg-ubl-1.4.1"),
        ("BR-CO-16-GST-SG", "pint-sg-ubl-1.4.1"),
    ]
    per_id = Counter(c.id for c in both.checks)
    assert max(per_id.values()) == 1  # every assert checked once
    assert len(both.checks) == 170 + 92
    sg_alone = validator.validate(bad, rulesets=["pint-sg-ubl-1.4.1"])
    assert [f.id for f in sg_alone.failed_asserts] == [f.id for f in both.failed_asserts]
    assert {f.ruleset for f in sg_alone.failed_asserts} == {"pint-sg-ubl-1.4.1"}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "the file is empty"),
        (b"<Invoice><unclosed></Invoice>", "not well-formed XML at line 1, column"),
        (
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "document declares a DTD/entities",
        ),
        (
            b"<Order xmlns='urn:x'/>",
            "is not a UBL 2.1 Invoice or CreditNote or a CII CrossIndustryInvoice",
        ),
        (
            (
                b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
                b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
                b"<cbc:CustomizationID>urn:example:other</cbc:CustomizationID></Invoice>"
            ),
            "choose the rule sets with --rules",
        ),
    ],
    ids=["empty", "malformed", "xxe", "not-an-invoice", "unknown-customization"],
)
def test_bad_documents_give_a_result_with_an_error_never_an_exception(
    validator: DocumentValidator, data: bytes, error: str
) -> None:
    r = validator.validate(data, name="in.xml")
    assert not r.valid and r.failed_asserts == ()
    assert r.error is not None and r.error.startswith("in.xml: ") and error in r.error


def test_ruleset_for_another_syntax_is_an_error(validator: DocumentValidator) -> None:
    r = validator.validate(doc(BASE), name="b.xml", rulesets=["cen-cii-1.3.16"])
    assert not r.valid
    assert (
        r.error == "b.xml: rule set cen-cii-1.3.16 is for CII documents, but this is a UBL Invoice"
    )


def test_unknown_ruleset_id_is_a_config_error(validator: DocumentValidator) -> None:
    with pytest.raises(ConfigError, match="valid ids: xsd-ubl-2.1"):
        validator.validate(doc(BASE), rulesets=["peppol-ubl-2.0"])
    with pytest.raises(ConfigError, match="an empty list of rule sets"):
        validator.validate(doc(BASE), rulesets=[])


def test_size_limit_applies_to_validate_and_validate_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    small = DocumentValidator(max_bytes=1000)
    r = small.validate(doc(BASE), name="b.xml")
    assert not r.valid and "over the size limit of 1000 bytes" in (r.error or "")
    f = tmp_path / "b.xml"
    f.write_bytes(doc(BASE))
    assert "over the size limit" in (small.validate_file(f).error or "")


def test_to_json_has_exactly_the_cli_keys(validator: DocumentValidator) -> None:
    r = validator.validate(with_total(doc(BASE), "1700.00"), name="w.xml")
    j = r.to_json()
    assert list(j) == ["file", "valid", "rulesets", "failed_asserts", "error"]
    assert j["failed_asserts"][0] == {
        "id": "BR-CO-15",
        "flag": "fatal",
        "location": "/Invoice[1]",
        "text": r.failed_asserts[0].text,
        "ruleset": "cen-ubl-1.3.14.1",
    }


# -- SVRL and locations ---------------------------------------------------------------------------

_UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            f"/*:Invoice[namespace-uri()='{_UBL}'][1]/*:LegalMonetaryTotal[namespace-uri()='{_CAC}'][1]",
            LMT,
        ),
        (f"/Q{{{_UBL}}}Invoice[1]/Q{{{_CAC}}}LegalMonetaryTotal[1]", LMT),
        (
            f"/Q{{{_UBL}}}Invoice[1]/Q{{{_CBC}}}Note[2]/@languageID",
            "/Invoice[1]/cbc:Note[2]/@languageID",
        ),
        (
            f"/*:Invoice[namespace-uri()='{_UBL}'][1]/*:ID[namespace-uri()='{_CBC}'][1]/@*[local-name()='schemeID' and namespace-uri()='']",
            "/Invoice[1]/cbc:ID[1]/@schemeID",
        ),
        (
            (
                "/Q{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice[1]"
                "/Q{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}ExchangedDocument[1]"
                "/Q{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}IssueDateTime[1]"
            ),
            "/rsm:CrossIndustryInvoice[1]/rsm:ExchangedDocument[1]/ram:IssueDateTime[1]",
        ),
        (
            f"/Q{{{_UBL}}}Invoice[1]/Q{{http://www.w3.org/2000/09/xmldsig#}}Signature[1]/Q{{urn:x:y}}Z[3]",
            "/Invoice[1]/ds:Signature[1]/Q{urn:x:y}Z[3]",
        ),
        (f"/Q{{{_UBL}}}Invoice[1]/text()[2]", "/Invoice[1]/text()[2]"),
        ("/", "/"),
        ("  something   odd ", "something odd"),
    ],
)
def test_locations_are_normalised_to_one_prefixed_form(raw: str, expected: str) -> None:
    assert normalise_location(raw) == expected


def test_svrl_parsing_tracks_patterns_for_the_iso_skeleton_only() -> None:
    svrl = f"""<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:active-pattern id="P1"/>
      <svrl:fired-rule context="/ubl:Invoice"/>
      <svrl:failed-assert id="R1" flag="fatal" location="/Q{{{_UBL}}}Invoice[1]">
        <svrl:text>  Rule
           one </svrl:text></svrl:failed-assert>
      <svrl:active-pattern id="P2"/>
      <svrl:fired-rule context="cac:Party"/>
      <svrl:successful-report id="R2" location="/Q{{{_UBL}}}Invoice[1]"><svrl:text>two</svrl:text></svrl:successful-report>
    </svrl:schematron-output>""".encode()
    iso = parse_svrl(svrl, engine="iso-skeleton")
    assert iso.fired_rules == {("P1", "/ubl:Invoice"), ("P2", "cac:Party")}
    assert [(f.id, f.flag, f.location, f.text, f.kind, f.context) for f in iso.findings] == [
        ("R1", "fatal", "/Invoice[1]", "Rule one", "assert", "/ubl:Invoice"),
        ("R2", "error", "/Invoice[1]", "two", "report", "cac:Party"),
    ]
    assert parse_svrl(svrl, engine="schxslt2").fired_rules == {
        (None, "/ubl:Invoice"),
        (None, "cac:Party"),
    }


def test_the_validator_is_shared_and_thread_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    v = get_validator()
    assert get_validator() is v
    data = with_total(doc(BASE), "1700.00")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: v.validate(data), range(8)))
    assert {tuple(f.id for f in r.failed_asserts) for r in results} == {("BR-CO-15", "BR-CO-16")}


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from harness.xml import schematron as sch

    not_a_dir = tmp_path / "cache-is-a-file"
    not_a_dir.write_text("x", encoding="utf-8")
    store = ArtefactStore(mirror=ArtefactStore.default().mirror, cache_dir=not_a_dir)
    assert store.derived_cache("schematron") is None
    monkeypatch.setattr(sch, "_executables", {})  # force a compile in this process
    monkeypatch.setattr(sch, "_catalogues", {})
    r = DocumentValidator(store=store).validate(doc(CII), rulesets=["peppol-cii-3.0.19"])
    assert r.error is None and len(r.checks) == 84
    assert "PEPPOL-EN16931-R001" in {
        f.id for f in r.failed_asserts
    }  # a plain EN 16931 CII: no ProfileID
