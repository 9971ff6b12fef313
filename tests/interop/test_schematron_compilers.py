"""Two Schematron compilers agree on the CEN EN 16931 1.3.16 rules.

ConnectingEurope publishes the CEN rules twice: as XSLT pre-compiled with the ISO Schematron
skeleton (what the harness runs for ``cen-ubl-1.3.16``/``cen-cii-1.3.16``) and as ``.sch``. Here
the ``.sch`` is compiled by the harness's own SchXslt2 pipeline
(:func:`harness.xml.schematron.compile_schematron`, the one used for every rule set without a
published XSLT, e.g. Peppol BIS) and both stylesheets run on the same documents. For every
document they must report the same multiset of (rule id, flag, normalised location) and fire the
same rule contexts. A difference would mean one compiler (or our SVRL reading) gets Schematron
semantics wrong, which the harness's own tests cannot see.

The ``.sch`` compiled is the ``preprocessed`` one, the single-file form the published XSLT is made
from. (The include-and-abstract-pattern source ``EN16931-UBL-validation.sch`` compiles to the same
rules but SchXslt2 1.3.4 takes about 70 s for UBL and 35 s for CII to transpile it, too slow for
this suite.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from harness.peppol import rulesets as rs
from harness.xml import schematron as sch
from harness.xml.safe import document_text, parse_untrusted

from . import support
from .support import Doc

Finding = tuple[str, str, str]  # (id, flag, normalised location)


@dataclass(frozen=True)
class Outcome:
    findings: Counter[Finding]
    contexts: frozenset[str]
    error: str | None = None


@dataclass(frozen=True)
class CompilerPair:
    published: Any  # PyXsltExecutable of the ConnectingEurope XSLT (ISO skeleton)
    schxslt2: Any  # PyXsltExecutable compiled here from the .sch

    def run(self, doc: Doc) -> tuple[Outcome, Outcome]:
        tree = parse_untrusted(doc.data, name=doc.label)
        node = sch.parse_document(document_text(tree, doc.data))
        return (
            _outcome(self.published, node, "iso-skeleton"),
            _outcome(self.schxslt2, node, "schxslt2"),
        )


def _outcome(exe: Any, node: Any, engine: sch.EngineKind) -> Outcome:
    try:
        report = sch.parse_svrl(sch.run_xslt(exe, node), engine=engine)
    except sch.SchematronError as exc:
        return Outcome(Counter(), frozenset(), str(exc))
    return Outcome(
        Counter((f.id, f.flag, f.location) for f in report.findings),
        frozenset(" ".join(ctx.split()) for _, ctx in report.fired_rules),
    )


def _pair(xslt_key: str, sch_key: str) -> CompilerPair:
    st = support.store()
    published = sch.compile_xslt_file(st.path(xslt_key), digest=st.entry(xslt_key).sha256)
    compiled = sch.compile_schematron(
        st.path(sch_key),
        sch_digest=st.entry(sch_key).sha256,
        transpile=st.path(rs.TRANSPILE_KEY),
        transpile_digest=st.entry(rs.TRANSPILE_KEY).sha256,
        cache_dir=st.derived_cache("schematron"),
    )
    return CompilerPair(published, compiled)


@pytest.fixture(scope="module")
def ubl_pair() -> CompilerPair:
    return _pair(support.CEN_UBL_XSLT, support.CEN_UBL_SCH)


@pytest.fixture(scope="module")
def cii_pair() -> CompilerPair:
    return _pair(support.CEN_CII_XSLT, support.CEN_CII_SCH)


def _compare(pair: CompilerPair, docs: Sequence[Doc]) -> tuple[list[str], int]:
    """Every disagreement (one line each) and the number of findings both reported."""
    problems: list[str] = []
    total = 0
    for doc in docs:
        published, compiled = pair.run(doc)
        if published.error or compiled.error:
            problems.append(
                f"{doc.label}: published: {published.error}; SchXslt2: {compiled.error}"
            )
            continue
        if published.findings != compiled.findings:
            only_pub = sorted((published.findings - compiled.findings).elements())
            only_sch = sorted((compiled.findings - published.findings).elements())
            problems.append(
                f"{doc.label}: only the published XSLT: {only_pub[:5]}; only SchXslt2: {only_sch[:5]}"
            )
        if published.contexts != compiled.contexts:
            problems.append(
                f"{doc.label}: fired rule contexts differ: only published "
                f"{sorted(published.contexts - compiled.contexts)[:3]}, only SchXslt2 "
                f"{sorted(compiled.contexts - published.contexts)[:3]}"
            )
        total += sum(published.findings.values())
    return problems, total


# Corpus name -> (documents, the least number of findings the corpus must produce). The minimum
# keeps the comparison from passing vacuously (e.g. if no rule could fire at all).
UBL_CORPORA: dict[str, tuple[Callable[[], Sequence[Doc]], int]] = {
    "cen-1.3.16-ubl-examples": (support.cen_ubl_examples, 0),
    "bis-3.0.19-examples": (support.bis_examples, 0),
    "generated-scenarios": (support.scenario_documents, 0),
    "generated-mutations": (lambda: support.mutation_documents(None), 30),
    "cen-1.3.16-ubl-unit-tests": (lambda: support.cen_unit_test_documents("tc434-ubl"), 500),
}
CII_CORPORA: dict[str, tuple[Callable[[], Sequence[Doc]], int]] = {
    "cen-1.3.16-cii-examples": (support.cen_cii_examples, 0),
    "cen-1.3.16-cii-unit-tests": (lambda: support.cen_unit_test_documents("tc434-cii"), 100),
}


@pytest.mark.parametrize("corpus", list(UBL_CORPORA))
def test_ubl_published_xslt_and_schxslt2_agree(ubl_pair: CompilerPair, corpus: str) -> None:
    load, minimum = UBL_CORPORA[corpus]
    docs = load()
    assert docs, f"corpus {corpus} is empty"
    problems, total = _compare(ubl_pair, docs)
    assert not problems, f"{len(problems)} of {len(docs)} documents differ:\n" + "\n".join(
        problems[:20]
    )
    assert total >= minimum, f"only {total} findings over {len(docs)} documents"


@pytest.mark.parametrize("corpus", list(CII_CORPORA))
def test_cii_published_xslt_and_schxslt2_agree(cii_pair: CompilerPair, corpus: str) -> None:
    load, minimum = CII_CORPORA[corpus]
    docs = load()
    assert docs, f"corpus {corpus} is empty"
    problems, total = _compare(cii_pair, docs)
    assert not problems, f"{len(problems)} of {len(docs)} documents differ:\n" + "\n".join(
        problems[:20]
    )
    assert total >= minimum, f"only {total} findings over {len(docs)} documents"
