"""An independent Java implementation judges the documents the harness generates.

The Java side (``tests/interop/java``, built with Maven, see :mod:`tests.interop.javatool`) runs

- ph-schematron-pure 9.0.0: reads the ``.sch`` itself and evaluates every rule context, let,
  assert and report as an XPath expression -- no XSLT, no SchXslt2, no ISO skeleton. Its XPath
  engine is Saxon-HE 12 for Java (a different build and major version of the Saxon code that
  SaxonC 13 compiles natively; the harness's own XPath engine is SaxonC);
- the JDK's ``javax.xml.validation`` (Xerces) for the UBL 2.1 XML Schema, instead of lxml/libxml2.

Rules judged: the CEN rules bundled with Peppol BIS 3.0.19 (``cen-ubl-1.3.14.1``), in full, and
the Peppol BIS 3.0.19 rules (``peppol-ubl-3.0.19``) **restricted** to the asserts that read no
``<let>`` variable (55 of 156): ph-schematron-pure passes ``let`` values through JAXP, whose only
value types are XPath 1.0's, and guesses the type from the expression's outer form, so
``$profile``/``$supplierCountry`` (``if ... then 'NO' else ...``) become the boolean ``true``, the
``tokenize(...)`` code lists a single string and ``xs:decimal`` values doubles; the 101 asserts
reading them are not evaluated as written (``test_let_dependent_peppol_asserts_are_excluded_for_a_reason``
shows it happening, so the restriction is lifted as soon as it is no longer needed). Two more
ph-schematron-pure gaps are bridged in the Java CLI, not excluded: the Peppol ``u:`` functions
(``xsl:function``s, which a pure-XPath engine cannot read) are given as Java functions checked
against the originals in ``test_peppol_functions.py``, and union rule contexts
(``cac:InvoiceLine | cac:CreditNoteLine``) get ``//`` on every branch (ph-schematron-pure prefixes
only the first, so credit-note line rules never fired).

Documents: every scenario document of ``peppol-ubl-3.0.19`` (each scenario, seeds 0-2), the BIS
3.0.19 examples, one document per mutation of ``peppol-ubl-3.0.19``, and 30 invoices drawn by the
Hypothesis strategy with a fixed seed. For each, both engines must report the same multiset of
(rule id, flag, location) over the compared rules, agree on XSD validity, and: valid documents are
clean, a mutated document fires exactly its declared error-level rules (restricted as above).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from harness.peppol import rulesets as rs
from harness.peppol.validation import ValidationResult, get_validator

from . import support
from .javatool import JavaResult, JavaTool
from .support import CEN_BUNDLED, ERROR_FLAGS, RULESET_BIS, XSD, Doc

HYPOTHESIS_COUNT = 30
HYPOTHESIS_SEED = 20261127
VALIDATION_RULESETS = (XSD, CEN_BUNDLED, RULESET_BIS)

Finding = tuple[str, str, str]  # (qualified rule id, flag, normalised location)


@dataclass(frozen=True)
class BisRules:
    schematron: dict[str, Path]  # Java label -> .sch
    labels: dict[str, str]  # Java label -> rule-set id
    namespaces: dict[str, dict[str, str]]  # Java label -> the .sch's prefixes
    xsd: dict[str, Path]  # root element -> main XSD
    peppol_ids: frozenset[str]
    #: Peppol assert ids left out of every comparison (they read a <let> variable)
    peppol_excluded: frozenset[str]

    def compared(self, qualified: str) -> bool:
        ruleset, _, rule = qualified.partition(":")
        return not (ruleset == RULESET_BIS and rule in self.peppol_excluded)


@lru_cache(maxsize=1)
def bis_rules() -> BisRules:
    st = support.store()
    sch = {}
    for label, ruleset in (("cen", CEN_BUNDLED), ("peppol", RULESET_BIS)):
        (stage,) = rs.get_ruleset(ruleset).stages
        sch[label] = st.path(stage.source)
    xsd_rs = rs.get_ruleset(XSD)
    base = st.root_for(xsd_rs.components)
    return BisRules(
        schematron=sch,
        labels={"cen": CEN_BUNDLED, "peppol": RULESET_BIS},
        namespaces={label: support.sch_namespaces(p) for label, p in sch.items()},
        xsd={root: base / main for root, main in xsd_rs.xsd},
        peppol_ids=frozenset(a.id for a in support.sch_asserts(sch["peppol"])),
        peppol_excluded=support.let_dependent_ids(sch["peppol"]),
    )


@dataclass(frozen=True)
class Judged:
    doc: Doc
    ours: ValidationResult
    java: JavaResult


@dataclass(frozen=True)
class BisRun:
    header: dict[str, Any]  # what the Java CLI says it ran
    corpora: dict[str, list[Judged]]

    def __getitem__(self, corpus: str) -> list[Judged]:
        return self.corpora[corpus]


def _corpora() -> dict[str, list[Doc]]:
    return {
        "scenarios": support.scenario_documents(),
        "bis-examples": support.bis_examples(),
        "mutations": support.mutation_documents(RULESET_BIS),
        "hypothesis": support.hypothesis_documents(HYPOTHESIS_COUNT, HYPOTHESIS_SEED),
    }


@pytest.fixture(scope="module")
def judged(java_tool: JavaTool, tmp_path_factory: pytest.TempPathFactory) -> BisRun:
    """Every corpus judged by both engines; the Java engines run once, in one JVM."""
    rules = bis_rules()
    corpora = _corpora()
    tmp = tmp_path_factory.mktemp("interop-bis")
    files: dict[str, dict[str, Doc]] = {
        name: support.write_all(tmp / name, docs) for name, docs in corpora.items()
    }
    run = java_tool.validate(
        [Path(p) for by_path in files.values() for p in by_path],
        schematron=rules.schematron,
        xsd=rules.xsd,
    )
    header = run.header
    for label in rules.schematron:
        info = header["schematron"][label]
        assert info["bound"] and not info["errors"], (
            f"ph-schematron-pure cannot read {label}: {info}"
        )
    for root, info in header["xsd"].items():
        assert info["error"] is None, f"Xerces cannot read the {root} XSD: {info['error']}"
    validator = get_validator()
    return BisRun(
        dict(header),
        {
            name: [
                Judged(
                    doc,
                    validator.validate(doc.data, name=doc.label, rulesets=VALIDATION_RULESETS),
                    run.results[path],
                )
                for path, doc in by_path.items()
            ]
            for name, by_path in files.items()
        },
    )


# -- reading both engines the same way ------------------------------------------------------------


def java_findings(rules: BisRules, result: JavaResult) -> Counter[Finding]:
    out: Counter[Finding] = Counter()
    for label, findings in result.schematron.items():
        ruleset = rules.labels[label]
        for f in findings:
            q = f"{ruleset}:{f.id}"
            if rules.compared(q):
                out[
                    (
                        q,
                        f.flag or "error",
                        support.pure_location(f.location, rules.namespaces[label]),
                    )
                ] += 1
    return out


def our_findings(rules: BisRules, result: ValidationResult) -> Counter[Finding]:
    return Counter(
        (f"{fa.ruleset}:{fa.id}", fa.flag, fa.location)
        for fa in result.failed_asserts
        if fa.ruleset != XSD and rules.compared(f"{fa.ruleset}:{fa.id}")
    )


def error_ids(findings: Iterable[Finding]) -> set[str]:
    return {q for q, flag, _ in findings if flag in ERROR_FLAGS}


def _engine_problems(result: JavaResult) -> list[str]:
    """What the Java engines reported as errors, except evaluation failures of ``let`` variables
    (and of rule contexts that read them), which belong to the excluded asserts."""
    out = [result.error] if result.error else []
    for label, errors in result.engine_errors.items():
        for e in errors:
            let_related = "for variable '" in e or (
                "Failed to evaluate XPath expression to a nodeset" in e and "$" in e
            )
            if not let_related:
                out.append(f"{label}: {e}")
    return out


def _compare(rules: BisRules, j: Judged) -> list[str]:
    """Disagreements between the engines on one document (empty: they agree)."""
    problems = [f"Java engine: {p}" for p in _engine_problems(j.java)]
    if j.ours.error:
        problems.append(f"harness validator: {j.ours.error}")
    ours, theirs = our_findings(rules, j.ours), java_findings(rules, j.java)
    if ours != theirs:
        problems.append(
            f"only the harness: {sorted((ours - theirs).elements())[:6]}; "
            f"only ph-schematron-pure: {sorted((theirs - ours).elements())[:6]}"
        )
    ours_xsd_ok = not any(fa.ruleset == XSD for fa in j.ours.failed_asserts)
    java_xsd_ok = j.java.xsd_errors == ()
    if ours_xsd_ok != java_xsd_ok:
        problems.append(
            f"XSD: lxml says {'valid' if ours_xsd_ok else 'invalid'}, Xerces says "
            f"{'valid' if java_xsd_ok else 'invalid: ' + str(j.java.xsd_errors[:2])}"
        )
    return [f"{j.doc.label}: {p}" for p in problems]


def _report(problems: list[str], n: int) -> str:
    return f"{len(problems)} problems over {n} documents:\n" + "\n".join(problems[:25])


# -- the tests ---------------------------------------------------------------------------------------


def test_the_java_engines_are_the_independent_ones(judged: BisRun) -> None:
    """The header names what ran: ph-schematron-pure (with its Saxon-HE XPath) and JDK Xerces."""
    header = judged.header
    assert header["ph_schematron"] == "9.0.0"
    assert header["saxon"].startswith("12."), header["saxon"]
    assert header["xsd_factory"].startswith("com.sun.org.apache.xerces."), header["xsd_factory"]
    for label in ("cen", "peppol"):
        info = header["schematron"][label]
        assert info["xpath_factory"] == "net.sf.saxon.xpath.XPathFactoryImpl"
        assert info["rewritten_contexts"] > 0  # union contexts given "//" on every branch
    assert {j.java.root for j in judged["scenarios"]} == {"Invoice", "CreditNote"}


@pytest.mark.parametrize("corpus", ["scenarios", "bis-examples", "hypothesis"])
def test_valid_documents_are_clean_for_both_engines(judged: BisRun, corpus: str) -> None:
    rules = bis_rules()
    docs = judged[corpus]
    assert docs
    problems: list[str] = []
    for j in docs:
        problems += _compare(rules, j)
        if not j.ours.valid:
            problems.append(
                f"{j.doc.label}: the harness finds it invalid: {[(f.ruleset, f.id) for f in j.ours.errors]}"
            )
        java_errors = error_ids(java_findings(rules, j.java))
        if java_errors or j.java.xsd_errors:
            problems.append(
                f"{j.doc.label}: ph-schematron-pure/Xerces find errors: {sorted(java_errors)} "
                f"{list(j.java.xsd_errors or ())[:2]}"
            )
    assert not problems, _report(problems, len(docs))


def test_hypothesis_drew_the_documents_asked_for(judged: BisRun) -> None:
    docs = judged["hypothesis"]
    assert len(docs) == HYPOTHESIS_COUNT
    assert len({j.doc.data for j in docs}) > HYPOTHESIS_COUNT // 2, (
        "Hypothesis drew mostly duplicates"
    )
    assert {j.java.root for j in docs} <= {"Invoice", "CreditNote"}


def test_mutations_fire_the_same_declared_rules_in_both_engines(judged: BisRun) -> None:
    rules = bis_rules()
    docs = judged["mutations"]
    assert docs
    problems: list[str] = []
    compared_ids = 0
    for j in docs:
        assert j.doc.declared is not None
        problems += _compare(rules, j)
        ours = {f"{fa.ruleset}:{fa.id}" for fa in j.ours.errors}
        if ours != j.doc.declared:
            problems.append(
                f"{j.doc.label}: the harness fires {sorted(ours)}, declared {sorted(j.doc.declared)}"
            )
        expected = {q for q in j.doc.declared if rules.compared(q)}
        theirs = error_ids(java_findings(rules, j.java))
        if j.java.xsd_errors:
            theirs.add(f"{XSD}:XSD")
        if theirs != expected:
            problems.append(
                f"{j.doc.label}: ph-schematron-pure/Xerces fire {sorted(theirs)}, expected {sorted(expected)}"
            )
        compared_ids += len(expected)
    assert not problems, _report(problems, len(docs))
    # Most declared ids are compared; the rest are let-dependent Peppol asserts.
    declared = sum(len(j.doc.declared or ()) for j in docs)
    assert compared_ids >= 0.75 * declared, (compared_ids, declared)


def test_let_dependent_peppol_asserts_are_excluded_for_a_reason(judged: BisRun) -> None:
    """The restriction is needed, and is exactly the let-reading asserts.

    On valid scenario documents ph-schematron-pure fires let-dependent asserts that do not hold
    (e.g. PEPPOL-EN16931-R007, the profile check, because ``$profile`` arrives as a boolean).
    If a ph-schematron release fixes ``let`` typing this test fails: widen the comparison then.
    """
    rules = bis_rules()
    assert len(rules.peppol_ids) == 156
    assert len(rules.peppol_excluded) == 101, sorted(rules.peppol_excluded)
    assert rules.peppol_excluded < rules.peppol_ids
    spurious: Counter[str] = Counter()
    for j in judged["scenarios"]:
        assert j.ours.valid
        for f in j.java.schematron["peppol"]:
            if f.flag in ERROR_FLAGS:
                assert f.id in rules.peppol_excluded, f"{j.doc.label}: {f.id} fired and is compared"
                spurious[f.id] += 1
    assert spurious["PEPPOL-EN16931-R007"] == len(judged["scenarios"]), spurious
