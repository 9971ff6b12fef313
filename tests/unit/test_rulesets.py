"""Rule-set registry: ids, versions read from the rule files, provenance, selection, catalogues."""

from __future__ import annotations

import re

import pytest

from harness.artefacts.lock import default_lock
from harness.artefacts.store import ArtefactStore
from harness.errors import ConfigError
from harness.peppol import rulesets as rs

ALL_IDS = (
    "xsd-ubl-2.1",
    "cen-ubl-1.3.16",
    "cen-cii-1.3.16",
    "cen-ubl-1.3.14.1",
    "cen-cii-1.3.14.1",
    "peppol-ubl-3.0.19",
    "peppol-cii-3.0.19",
    "peppol-ubl-3.0.21",
    "pint-ubl-1.1.3",
    "pint-sg-ubl-1.4.1",
)
BIS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"


def test_every_issue_ruleset_id_exists_in_family_syntax_version_form() -> None:
    assert tuple(r.id for r in rs.list_rulesets()) == ALL_IDS
    for r in rs.list_rulesets():
        assert r.id == f"{r.family}-{r.syntax}-{r.version}"
    assert rs.claimable_ids() == ALL_IDS


def test_unknown_ruleset_lists_the_valid_ids() -> None:
    with pytest.raises(ConfigError) as exc:
        rs.get_ruleset("peppol-ubl-9.9")
    assert "'peppol-ubl-9.9'" in str(exc.value)
    assert all(i in str(exc.value) for i in ALL_IDS)


@pytest.mark.parametrize(
    ("ruleset_id", "key"),
    [
        ("cen-ubl-1.3.14.1", "peppol/bis-billing-3.0.19/rules/sch/CEN-EN16931-UBL.sch"),
        ("cen-cii-1.3.14.1", "peppol/bis-billing-3.0.19/rules/sch/CEN-EN16931-CII.sch"),
        ("cen-ubl-1.3.16", "cen/en16931-1.3.16/ubl/xslt/EN16931-UBL-validation.xslt"),
        ("cen-cii-1.3.16", "cen/en16931-1.3.16/cii/xslt/EN16931-CII-validation.xslt"),
    ],
)
def test_cen_versions_are_the_ones_the_rule_files_declare(ruleset_id: str, key: str) -> None:
    head = ArtefactStore.default().read_bytes(key)[:2000].decode("utf-8")
    m = re.search(r"Schematron version (\S+) - Last update", head)
    assert m is not None and m.group(1) == rs.get_ruleset(ruleset_id).version
    assert key in rs.get_ruleset(ruleset_id).components


def test_peppol_versions_are_the_ones_the_rule_files_declare() -> None:
    store = ArtefactStore.default()
    for rid in ("peppol-ubl-3.0.19", "peppol-cii-3.0.19", "peppol-ubl-3.0.21"):
        r = rs.get_ruleset(rid)
        head = store.read_bytes(r.stages[0].source)[:1500].decode("utf-8")
        assert f"release {r.version}." in head


def test_provenance_follows_the_artefacts() -> None:
    prov = {r.id: r.provenance for r in rs.list_rulesets()}
    assert prov == {
        "xsd-ubl-2.1": "official",
        "cen-ubl-1.3.16": "official",
        "cen-cii-1.3.16": "official",
        "cen-ubl-1.3.14.1": "official",
        "cen-cii-1.3.14.1": "official",
        "peppol-ubl-3.0.19": "official",
        "peppol-cii-3.0.19": "official",
        "peppol-ubl-3.0.21": "third-party copy",
        "pint-ubl-1.1.3": "third-party copy",
        "pint-sg-ubl-1.4.1": "third-party copy",
    }
    for r in rs.list_rulesets():
        worst = {default_lock()[k].provenance for k in r.components}
        assert (r.provenance == "official") == (worst == {"official"})


def test_compiled_rulesets_include_schxslt_and_published_ones_do_not() -> None:
    assert rs.TRANSPILE_KEY in rs.get_ruleset("peppol-ubl-3.0.19").components
    assert rs.TRANSPILE_KEY in rs.get_ruleset("cen-ubl-1.3.14.1").components
    assert rs.TRANSPILE_KEY not in rs.get_ruleset("cen-ubl-1.3.16").components
    assert rs.TRANSPILE_KEY not in rs.get_ruleset("pint-sg-ubl-1.4.1").components


def test_pint_stages_are_chosen_by_root_element() -> None:
    sg = rs.get_ruleset("pint-sg-ubl-1.4.1")
    assert [s.source.split("/")[2] for s in sg.stages_for("Invoice")] == [
        "trn-invoice",
        "trn-invoice",
    ]
    assert [s.source.split("/")[2] for s in sg.stages_for("CreditNote")] == [
        "trn-creditnote",
        "trn-creditnote",
    ]
    assert sg.stages_for("Order") == ()


def test_pint_and_pint_sg_share_one_stylesheet_run_once_under_the_first_named() -> None:
    both = rs.distinct_stages(["pint-ubl-1.1.3", "pint-sg-ubl-1.4.1"], "Invoice")
    assert [(label, s.source.rsplit("/", 1)[1]) for label, s in both] == [
        ("pint-ubl-1.1.3", "PINT-UBL-validation-preprocessed.xslt"),
        ("pint-sg-ubl-1.4.1", "PINT-jurisdiction-aligned-rules.xslt"),
    ]
    reverse = rs.distinct_stages(["pint-sg-ubl-1.4.1", "pint-ubl-1.1.3"], "Invoice")
    assert [label for label, _ in reverse] == ["pint-sg-ubl-1.4.1", "pint-sg-ubl-1.4.1"]


def test_expand_follows_implies_in_order_without_duplicates() -> None:
    assert rs.expand(["peppol-ubl-3.0.19"]) == [
        "peppol-ubl-3.0.19",
        "cen-ubl-1.3.14.1",
        "xsd-ubl-2.1",
    ]
    assert rs.expand(["peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1"]) == [
        "peppol-ubl-3.0.19",
        "cen-ubl-1.3.14.1",
        "xsd-ubl-2.1",
        "pint-sg-ubl-1.4.1",
    ]
    assert rs.expand(["peppol-cii-3.0.19"]) == ["peppol-cii-3.0.19", "cen-cii-1.3.14.1"]
    assert rs.expand(["peppol-ubl-3.0.21"]) == [
        "peppol-ubl-3.0.21",
        "cen-ubl-1.3.16",
        "xsd-ubl-2.1",
    ]
    assert rs.expand([]) == []
    with pytest.raises(ConfigError):
        rs.expand(["nope"])


@pytest.mark.parametrize(
    ("cid", "syntax", "expected"),
    [
        (BIS, "ubl", ("peppol-ubl-3.0.19", "cen-ubl-1.3.14.1", "xsd-ubl-2.1")),
        (BIS, "cii", ("peppol-cii-3.0.19", "cen-cii-1.3.14.1")),
        (
            BIS + "#compliant#urn:www.difi.no:ehf:ver3.0",
            "ubl",
            ("peppol-ubl-3.0.19", "cen-ubl-1.3.14.1", "xsd-ubl-2.1"),
        ),
        ("urn:peppol:pint:billing-1@sg-1", "ubl", ("pint-sg-ubl-1.4.1", "xsd-ubl-2.1")),
        ("urn:peppol:pint:billing-1@jp-1", "ubl", ("pint-ubl-1.1.3", "xsd-ubl-2.1")),
        ("urn:peppol:pint:billing-1", "ubl", ("pint-ubl-1.1.3", "xsd-ubl-2.1")),
        ("urn:cen.eu:en16931:2017", "ubl", ("cen-ubl-1.3.16", "xsd-ubl-2.1")),
        ("  urn:cen.eu:en16931:2017\n", "cii", ("cen-cii-1.3.16",)),
    ],
)
def test_rulesets_follow_the_customization_id(
    cid: str, syntax: str, expected: tuple[str, ...]
) -> None:
    assert rs.rulesets_for_document(cid, syntax) == expected


@pytest.mark.parametrize(
    ("cid", "syntax"),
    [
        ("urn:ferd:CrossIndustryDocument:invoice:1p0:comfort", "cii"),
        ("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0", "ubl"),
        ("urn:peppol:pint:billing-1@sg-1", "cii"),
        (None, "ubl"),
        ("", "ubl"),
    ],
)
def test_unknown_customization_asks_for_rules(cid: str | None, syntax: str) -> None:
    with pytest.raises(ConfigError, match="--rules"):
        rs.rulesets_for_document(cid, syntax)


def test_parse_ids_validates_and_deduplicates() -> None:
    assert rs.parse_ids("pint-ubl-1.1.3, pint-sg-ubl-1.4.1,pint-ubl-1.1.3") == (
        "pint-ubl-1.1.3",
        "pint-sg-ubl-1.4.1",
    )
    with pytest.raises(ConfigError, match="unknown rule set 'x'"):
        rs.parse_ids("cen-ubl-1.3.16,x")
    with pytest.raises(ConfigError, match="no rule-set id given"):
        rs.parse_ids(" , ")


def test_catalogue_is_generated_from_the_rule_files() -> None:
    peppol = rs.rule_catalogue("peppol-ubl-3.0.19")
    assert len(peppol) == 156 and len({r.id for r in peppol}) == 156
    r001 = next(r for r in peppol if r.id == "PEPPOL-EN16931-R001")
    assert (r001.flag, r001.ruleset, r001.qualified_id) == (
        "fatal",
        "peppol-ubl-3.0.19",
        "peppol-ubl-3.0.19:PEPPOL-EN16931-R001",
    )
    assert r001.text == "Business process MUST be provided."
    cen = {r.id: r for r in rs.rule_catalogue("cen-ubl-1.3.16")}
    assert len(cen) == 979
    assert cen["BR-CO-15"].flag == "fatal"
    assert cen["BR-CO-15"].text.startswith("[BR-CO-15]-Invoice total amount with VAT (BT-112) = ")
    assert sum(1 for r in cen.values() if r.flag == "warning") == 698
    assert "  " not in "".join(r.text for r in cen.values())  # whitespace-normalised


def test_catalogue_lists_an_id_used_twice_once() -> None:
    cii = rs.rule_catalogue("peppol-cii-3.0.19")
    assert [r.id for r in cii].count("PEPPOL-EN16931-R043") == 1
    assert len(cii) == 84


def test_pint_sg_catalogue_has_shared_and_jurisdiction_rules() -> None:
    ids = {r.id for r in rs.rule_catalogue("pint-sg-ubl-1.4.1")}
    shared = {r.id for r in rs.rule_catalogue("pint-ubl-1.1.3")}
    assert shared < ids
    assert "PEPPOL-EN16931-R004-SG" in ids - shared
    assert len(ids) == 170 + 92


def test_xsd_catalogue_is_its_one_check() -> None:
    (only,) = rs.rule_catalogue("xsd-ubl-2.1")
    assert (only.id, only.flag, only.ruleset) == ("XSD", "fatal", "xsd-ubl-2.1")


def test_describe_lists_every_artefact_with_digest_url_and_provenance() -> None:
    d = rs.describe("pint-sg-ubl-1.4.1")
    assert (d["id"], d["version"], d["provenance"]) == (
        "pint-sg-ubl-1.4.1",
        "1.4.1",
        "third-party copy",
    )
    paths = [a["path"] for a in d["artefacts"]]
    assert paths == list(rs.get_ruleset("pint-sg-ubl-1.4.1").components)
    a = d["artefacts"][0]
    assert a["sha256"] == default_lock()[a["path"]].sha256 and a["archive_member"].startswith(
        "trn-"
    )
    assert "SchXslt2" in rs.describe("peppol-ubl-3.0.19")["engine"]
