"""Projections of the run report: report.html, junit.xml, ctrf.json, allure-results/."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from harness.report.builder import EPHEMERAL_SENTENCE, RunReport, SigningInfo, build_report
from harness.report.ctrf import build_ctrf
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.model import Outcome, Verdict
from tests.unit.test_report_support import (
    HOSTILE,
    PROFILE,
    SECRET,
    build_sample_report,
    catalogue,
    check,
    meta,
    req,
    write_sample_run,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunReport]:
    run_dir = tmp_path_factory.mktemp("proj") / "run"
    report = write_sample_run(run_dir)
    return run_dir, report


# -- report.html ----------------------------------------------------------------------------------


def test_html_puts_the_verdict_first_in_big_letters_with_reasons(
    run: tuple[Path, RunReport],
) -> None:
    text = (run[0] / "report.html").read_text("utf-8")
    doc = lxml_html.fromstring(text)
    body = doc.find("body")
    first = body[0]
    assert first.tag == "header" and first.get("id") == "verdict"
    assert first.find(".//h1").text_content() == "NON CONFORMANT"
    assert "MUST requirement cen-ubl-1.3.16:BR-CO-15 failed" in first.text_content()
    order = [
        text.index(marker)
        for marker in (
            'id="verdict"',
            'id="scope"',
            'id="signing"',
            f'id="profile-{PROFILE}"',
            'id="reproducibility"',
        )
    ]
    assert order == sorted(order)
    assert doc.find(".//title").text_content().startswith("NON CONFORMANT")


def test_html_escapes_hostile_strings(run: tuple[Path, RunReport]) -> None:
    text = (run[0] / "report.html").read_text("utf-8")
    assert HOSTILE not in text
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"
        in text
    )


def test_html_escapes_hostile_values_everywhere() -> None:
    evil = '"><script>x()</script>'
    m = meta()
    m.participant["name"] = evil
    m.rulesets.append({"id": evil, "version": evil, "provenance": "third-party copy"})
    m.environment[evil] = evil
    m.command.append(evil)
    report = build_report(
        m,
        [
            req("R<1>", summary=evil),
            replace(req("R-2"), source=replace(req("R-2").source, url="javascript:alert(1)")),
        ],
        {PROFILE: (evil,)},
        [
            check("R<1>", Outcome.FAIL, message=evil, location=evil, replay=evil, test=evil),
            check("R-2", Outcome.PASS),
        ],
        {},
        {PROFILE: [evil]},
    )
    text = render_html(replace(report, signing=SigningInfo("d" * 64, True)))
    assert "<script" not in text
    assert 'href="javascript:' not in text
    doc = lxml_html.fromstring(text)  # still a parseable document
    assert evil in doc.get_element_by_id("verdict").text_content()
    assert all(h.startswith(("#", "http")) for h in doc.xpath("//a/@href"))


def test_html_has_no_external_assets(run: tuple[Path, RunReport]) -> None:
    text = (run[0] / "report.html").read_text("utf-8")
    doc = lxml_html.fromstring(text)
    assert not doc.xpath("//script | //link | //img | //iframe | //object | //embed")
    assert not doc.xpath("//@src")
    assert "@import" not in text and "url(" not in text
    assert doc.xpath("//style"), "CSS must be inline"


def test_html_links_to_evidence_relative_to_the_run_folder(run: tuple[Path, RunReport]) -> None:
    run_dir, report = run
    doc = lxml_html.fromstring((run_dir / "report.html").read_text("utf-8"))
    hrefs = [h for h in doc.xpath("//a/@href") if not h.startswith(("#", "http://", "https://"))]
    assert hrefs, "evidence must be linked"
    for href in hrefs:
        assert not href.startswith("/")
        assert (run_dir / urllib.parse.unquote(href)).is_file(), href
    linked = {urllib.parse.unquote(h) for h in hrefs}
    cited = {report.evidence_path(d) for c in report.checks for d in c.evidence}
    assert cited <= linked


def test_html_states_scope_signing_and_reproducibility(run: tuple[Path, RunReport]) -> None:
    run_dir, report = run
    doc = lxml_html.fromstring((run_dir / "report.html").read_text("utf-8"))
    scope = doc.get_element_by_id("scope").text_content()
    assert "sender" in scope and PROFILE in scope
    assert "pint-sg-ubl-1.4.1" in scope and "3.0.19" in scope
    assert len(doc.find_class("third-party")) >= 3  # banner + rule set + artefact
    assert "BIS-OUT-009" in scope and "no scenario needs attachments yet" in scope
    signing = doc.get_element_by_id("signing").text_content()
    assert report.signing is not None and report.signing.keyid in signing
    assert EPHEMERAL_SENTENCE in signing
    repro = doc.get_element_by_id("reproducibility").text_content()
    for value in (
        "0.1.0",
        "3" * 64,
        "20261127",
        "a" * 64,
        "b" * 64,
        "conformance run --participant p.toml",
    ):
        assert value in repro


def test_html_makes_failures_stand_out_and_collapses_passes(run: tuple[Path, RunReport]) -> None:
    doc = lxml_html.fromstring((run[0] / "report.html").read_text("utf-8"))
    section = doc.get_element_by_id(f"profile-{PROFILE}")
    rows = section.xpath(".//tbody/tr[starts-with(@id, 'req-')]")
    statuses = [r.get("class") for r in rows]
    assert statuses[0] == "s-failed", "the failed requirement comes first"
    failed_row = rows[0]
    assert "cen-ubl-1.3.16:BR-CO-15" in failed_row.text_content()
    assert "EN 16931-1 UBL rules 1.3.16, BR-CO-15" in failed_row.text_content()
    details = failed_row.getnext().find(".//details")
    assert details.get("open") is not None
    body = details.text_content()
    assert "/Invoice[1]/cac:LegalMonetaryTotal[1]" in body
    assert "conformance run --participant p.toml --profile peppol-bis --seed 20261127" in body
    passed = [r for r in rows if r.get("class") == "s-passed"]
    assert passed
    for row in passed:
        nxt = row.getnext()
        if nxt is not None and nxt.get("class") == "checks":
            assert nxt.find(".//details").get("open") is None


def test_html_never_shows_the_secret(run: tuple[Path, RunReport]) -> None:
    for path in run[0].rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_html_of_an_operator_key_omits_the_ephemeral_sentence(tmp_path: Path) -> None:
    report = replace(
        build_sample_report(tmp_path, evidence=False),
        signing=SigningInfo("e" * 64, ephemeral=False),
    )
    text = render_html(report)
    assert EPHEMERAL_SENTENCE not in text and "e" * 64 in text


def test_html_scales_to_thousands_of_checks() -> None:
    requirements = [req(f"R-{i:04d}") for i in range(1000)]
    checks = [
        check(f"R-{i % 1000:04d}", Outcome.PASS, test=f"suites/x/test_a.py::test_{i}")
        for i in range(5000)
    ]
    checks.append(check("R-0007", Outcome.FAIL, message="the one failure"))
    report = build_report(meta(), requirements, {PROFILE: ("sender",)}, checks, {}, {})
    text = render_html(report)
    doc = lxml_html.fromstring(text)
    opened = doc.xpath("//details[@open]")
    assert len(opened) == 1 and "the one failure" in opened[0].text_content()
    assert len(doc.xpath("//details")) == 1000
    assert len(text) < 8_000_000


# -- junit.xml ------------------------------------------------------------------------------------


def test_junit_parses_and_carries_requirement_properties(run: tuple[Path, RunReport]) -> None:
    run_dir, report = run
    root = etree.parse(str(run_dir / "junit.xml")).getroot()
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    assert len(cases) == len(report.checks) + len(report.profiles)
    failed = [c for c in cases if c.find("failure") is not None]
    assert {c.get("name") for c in failed} == {
        "test_documents_are_valid[invoice-standard] [cen-ubl-1.3.16:BR-CO-15] @ /Invoice[1]/cac:LegalMonetaryTotal[1]",
        f"profile verdict: {PROFILE}",
    }
    br = failed[0] if "BR-CO-15" in failed[0].get("name") else failed[1]
    props = {(p.get("name"), p.get("value")) for p in br.findall("properties/property")}
    assert ("requirement", "cen-ubl-1.3.16:BR-CO-15") in props
    assert ("outcome", "fail") in props
    assert any(name == "replay" for name, _ in props)
    assert any(name == "evidence" and value.startswith("evidence/sha256/") for name, value in props)
    assert "TaxInclusiveAmount 1250.00" in br.find("failure").get("message")
    assert len(root.findall(".//testcase/error")) == 1
    assert len(root.findall(".//testcase/skipped")) == 1
    assert root.get("failures") == "2" and root.get("errors") == "1" and root.get("skipped") == "1"
    assert root.get("tests") == str(len(cases))
    suite = root.find("testsuite")
    assert suite.get("name") == PROFILE


def test_junit_survives_control_characters_in_messages() -> None:
    report = build_report(
        meta(),
        [req("R-1")],
        {PROFILE: ("sender",)},
        [check("R-1", Outcome.FAIL, message="bad\x00byte\x1b[31m")],
        {},
        {},
    )
    root = etree.fromstring(render_junit(report))
    assert "bad\ufffdbyte" in root.find(".//failure").get("message")


def test_junit_conformant_profile_has_a_passing_verdict_case() -> None:
    report = build_report(
        meta(), [req("R-1")], {PROFILE: ("sender",)}, [check("R-1", Outcome.PASS)], {}, {}
    )
    assert report.verdict is Verdict.CONFORMANT
    root = etree.fromstring(render_junit(report))
    assert root.get("failures") == "0" and root.get("errors") == "0"


# -- ctrf.json ------------------------------------------------------------------------------------

CTRF_STATUSES = {"passed", "failed", "skipped", "pending", "other"}


def test_ctrf_has_the_shape_of_the_spec(run: tuple[Path, RunReport]) -> None:
    run_dir, report = run
    doc = json.loads((run_dir / "ctrf.json").read_text("utf-8"))
    assert doc["reportFormat"] == "CTRF"
    assert re.fullmatch(r"\d+\.\d+\.\d+", doc["specVersion"])
    results = doc["results"]
    assert set(results) >= {"tool", "summary", "tests"}
    assert results["tool"]["name"] == "trade-conformance-harness"
    summary = results["summary"]
    for key in ("tests", "passed", "failed", "skipped", "pending", "other", "start", "stop"):
        assert isinstance(summary[key], int), key
    tests = results["tests"]
    assert summary["tests"] == len(tests) == len(report.checks) + len(report.profiles)
    for status in CTRF_STATUSES:
        assert summary[status] == sum(1 for t in tests if t["status"] == status)
    assert summary["stop"] - summary["start"] == 190_000
    for t in tests:
        assert isinstance(t["name"], str) and t["name"]
        assert t["status"] in CTRF_STATUSES
        assert isinstance(t["duration"], int)
    br = next(t for t in tests if "BR-CO-15" in t["name"])
    assert br["status"] == "failed" and br["rawStatus"] == "fail"
    assert br["labels"] == {"requirements": ["cen-ubl-1.3.16:BR-CO-15"]}
    assert br["attachments"][0]["path"].startswith("evidence/sha256/")
    assert (run_dir / br["attachments"][0]["path"]).is_file()
    assert br["duration"] == 300
    errored = next(t for t in tests if t["rawStatus"] == "error")
    assert errored["status"] == "failed"
    verdict = next(t for t in tests if t["name"] == f"profile verdict: {PROFILE}")
    assert verdict["status"] == "failed" and verdict["rawStatus"] == "NON_CONFORMANT"


def test_ctrf_is_deterministic_for_a_run(tmp_path: Path) -> None:
    report = build_sample_report(tmp_path, evidence=False)
    assert build_ctrf(report) == build_ctrf(RunReport.loads(report.dumps()))


# -- allure-results/ ------------------------------------------------------------------------------


def test_allure_results_one_file_per_test_with_requirement_labels(
    run: tuple[Path, RunReport],
) -> None:
    run_dir, report = run
    results = run_dir / "allure-results"
    files = sorted(results.glob("*-result.json"))
    tests = report.checks_by_test()
    assert len(files) == len(tests) + len(report.profiles)
    by_name: dict[str, dict] = {}
    for path in files:
        data = json.loads(path.read_text("utf-8"))
        assert path.name == f"{data['uuid']}-result.json"
        assert data["status"] in {"passed", "failed", "broken", "skipped", "unknown"}
        assert data["stage"] == "finished"
        assert isinstance(data["start"], int) and data["stop"] >= data["start"]
        for att in data["attachments"] + [a for s in data["steps"] for a in s["attachments"]]:
            assert (results / att["source"]).is_file(), att
            assert "/" not in att["source"]
        by_name[data["fullName"]] = data
    valid = by_name[
        "suites/peppol_bis/test_outbound.py::test_documents_are_valid[invoice-standard]"
    ]
    assert valid["status"] == "failed"
    labels = {(lab["name"], lab["value"]) for lab in valid["labels"]}
    assert ("requirement", "cen-ubl-1.3.16:BR-CO-15") in labels
    assert ("requirement", "peppol-ubl-3.0.19:PEPPOL-EN16931-R002") in labels
    assert ("suite", PROFILE) in labels and ("severity", "critical") in labels
    assert "TaxInclusiveAmount" in valid["statusDetails"]["message"]
    assert {
        "name": "cen-ubl-1.3.16:BR-CO-15",
        "url": "https://example.org/en16931#BR-CO-15",
        "type": "link",
    } in valid["links"]
    assert [s["status"] for s in valid["steps"]] == ["failed", "passed", "passed"]
    credit = by_name["suites/peppol_bis/test_outbound.py::test_document_for[credit-note]"]
    assert credit["status"] == "broken"
    skipped = by_name["suites/peppol_bis/test_outbound.py::test_attachments"]
    assert skipped["status"] == "skipped"
    attached = valid["attachments"][0]
    evidence = report.evidence_item("sha256:" + attached["source"].split("-", 1)[0])
    assert evidence is not None
    assert (results / attached["source"]).read_bytes() == (run_dir / evidence.path).read_bytes()
    assert "seed=20261127" in (results / "environment.properties").read_text("utf-8")


def test_allure_and_other_projections_agree_on_counts(run: tuple[Path, RunReport]) -> None:
    run_dir, report = run
    ctrf = json.loads((run_dir / "ctrf.json").read_text("utf-8"))
    junit = etree.parse(str(run_dir / "junit.xml")).getroot()
    assert ctrf["results"]["summary"]["tests"] == int(junit.get("tests"))
    assert sum(1 for c in report.checks if c.outcome is Outcome.FAIL) + 1 == int(
        junit.get("failures")
    )
    assert (
        report.to_json()["checks"]
        == json.loads((run_dir / "report.json").read_text("utf-8"))["checks"]
    )


def test_report_catalogue_is_complete(run: tuple[Path, RunReport]) -> None:
    assert {r.id for r in run[1].requirements} == {r.id for r in catalogue()}
