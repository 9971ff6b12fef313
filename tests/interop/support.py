"""Document corpora and Schematron helpers shared by the interop tests (pytest-free).

Documents: the official examples (CEN 1.3.16 UBL/CII, BIS 3.0.19), the official CEN 1.3.16 unit
test documents, and documents the harness generates (scenario documents, mutated documents,
Hypothesis-drawn invoices). Every generated document is built by :mod:`harness.peppol` from the
EN 16931 model, never from a mirror file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from harness.artefacts.store import ArtefactStore

if TYPE_CHECKING:
    from harness.peppol.mutations import Mutation

SCH_NS = "http://purl.oclc.org/dsdl/schematron"

RULESET_BIS = "peppol-ubl-3.0.19"
CEN_BUNDLED = "cen-ubl-1.3.14.1"
XSD = "xsd-ubl-2.1"
ERROR_FLAGS = frozenset({"error", "fatal"})

CEN_UBL_XSLT = "cen/en16931-1.3.16/ubl/xslt/EN16931-UBL-validation.xslt"
CEN_UBL_SCH = (
    "cen/en16931-1.3.16/ubl/schematron/preprocessed/EN16931-UBL-validation-preprocessed.sch"
)
CEN_CII_XSLT = "cen/en16931-1.3.16/cii/xslt/EN16931-CII-validation.xslt"
CEN_CII_SCH = (
    "cen/en16931-1.3.16/cii/schematron/preprocessed/EN16931-CII-validation-preprocessed.sch"
)

#: Seeds of the scenario documents used by the interop tests (each scenario, each seed).
SCENARIO_SEEDS = (0, 1, 2)


def store() -> ArtefactStore:
    return ArtefactStore.default()


@dataclass(frozen=True)
class Doc:
    """One document of a corpus: a label for messages, its bytes, and (for mutations) the rule
    ids it must fire at error level."""

    label: str
    data: bytes
    declared: frozenset[str] | None = None


# -- corpora -------------------------------------------------------------------------------------


def official_files(prefix: str, *, suffixes: Sequence[str] = (".xml",)) -> list[Doc]:
    st = store()
    keys = sorted(k for k in st.keys(prefix) if k.lower().endswith(tuple(suffixes)))
    return [Doc(k, st.read_bytes(k)) for k in keys]


def cen_ubl_examples() -> list[Doc]:
    return official_files("cen/en16931-1.3.16/ubl/examples/")


def cen_cii_examples() -> list[Doc]:
    return official_files("cen/en16931-1.3.16/cii/examples/")


def bis_examples() -> list[Doc]:
    return official_files("peppol/bis-billing-3.0.19/rules/examples/")


@lru_cache(maxsize=4)
def cen_unit_test_documents(configuration: str) -> tuple[Doc, ...]:
    """The documents of every official CEN 1.3.16 unit test of ``configuration`` (``tc434-ubl`` or
    ``tc434-cii``): documents written to break one rule each, so they make many rules fire."""
    from harness.peppol.vefa import load_corpus, official_corpora

    corpus = next(c for c in official_corpora() if c.name == "cen-1.3.16")
    return tuple(
        Doc(case.ref, case.document)
        for ts in load_corpus(corpus)
        if ts.configuration == configuration
        for case in ts.cases
    )


def scenario_documents(
    ruleset: str = RULESET_BIS, seeds: Iterable[int] = SCENARIO_SEEDS
) -> list[Doc]:
    from harness.peppol.scenarios import build_document, scenarios_for

    return [
        Doc(f"{ruleset}/{s.id}/seed-{seed}", build_document(s.id, ruleset, seed=seed))
        for s in scenarios_for(ruleset)
        for seed in seeds
    ]


def mutation_documents(ruleset: str | None = RULESET_BIS) -> list[Doc]:
    """One mutated document per mutation meant for ``ruleset`` (None: every mutation, on the
    first rule set it is meant for), with its declared rule ids."""
    from harness.peppol.cases import mutated_document
    from harness.peppol.mutations import all_mutations, mutations_for

    chosen: list[Mutation] = list(all_mutations() if ruleset is None else mutations_for(ruleset))
    out = []
    for m in chosen:
        base = ruleset or min(m.applies_to)
        out.append(Doc(f"{base}/mutation/{m.id}", mutated_document(m.id, base, seed=0), m.declared))
    return out


def hypothesis_documents(count: int, seed: int, ruleset: str = RULESET_BIS) -> list[Doc]:
    """``count`` invoices drawn by :func:`harness.peppol.strategies.invoices` with a fixed seed
    (generation phase only: no shrinking, no example database), as UBL."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    from harness.peppol.strategies import invoices
    from harness.peppol.ubl import to_ubl

    drawn: list[bytes] = []

    @fixed_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(invoices(ruleset))
    def collect(invoice: object) -> None:
        drawn.append(to_ubl(invoice))  # type: ignore[arg-type]

    collect()
    return [Doc(f"hypothesis/seed-{seed}/{i}", data) for i, data in enumerate(drawn)]


def write_all(directory: Path, docs: Sequence[Doc]) -> dict[str, Doc]:
    """Write each document to its own file; returns path -> document."""
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Doc] = {}
    for i, doc in enumerate(docs):
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", doc.label)[-80:]
        path = directory / f"{i:04d}-{safe}.xml"
        path.write_bytes(doc.data)
        out[str(path)] = doc
    return out


# -- Schematron facts -----------------------------------------------------------------------------


def _parse_sch(sch: Path):  # type: ignore[no-untyped-def]
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(sch), parser)


def sch_namespaces(sch: Path) -> dict[str, str]:
    """prefix -> namespace URI of the ``<ns>`` declarations of a .sch."""
    tree = _parse_sch(sch)
    return {ns.get("prefix"): ns.get("uri") for ns in tree.getroot().iter(f"{{{SCH_NS}}}ns")}


@dataclass(frozen=True)
class SchAssert:
    id: str
    flag: str
    kind: str
    context: str
    test: str


def sch_asserts(sch: Path) -> tuple[SchAssert, ...]:
    tree = _parse_sch(sch)
    out = []
    for rule in tree.getroot().iter(f"{{{SCH_NS}}}rule"):
        context = " ".join((rule.get("context") or "").split())
        for el in rule:
            if not isinstance(el.tag, str):
                continue
            local = el.tag.rsplit("}", 1)[-1]
            if local in ("assert", "report"):
                out.append(
                    SchAssert(
                        el.get("id") or "",
                        el.get("flag") or "error",
                        local,
                        context,
                        " ".join((el.get("test") or "").split()),
                    )
                )
    return tuple(out)


def let_names(sch: Path) -> frozenset[str]:
    tree = _parse_sch(sch)
    return frozenset(let.get("name") for let in tree.getroot().iter(f"{{{SCH_NS}}}let"))


def let_dependent_ids(sch: Path) -> frozenset[str]:
    """Ids of the asserts/reports whose test or rule context reads a ``<let>`` variable.

    ph-schematron-pure hands ``let`` values to its XPath engine through JAXP, which only has the
    XPath 1.0 value types (node-set, string, number, boolean), and guesses the type from the
    expression's top-level form: an ``if ... then 'NO' else ...`` string becomes the boolean
    ``true``, a ``tokenize(...)`` code list becomes one string, an ``xs:decimal`` a double. So
    these asserts are not evaluated as written and are left out of the comparisons (never
    silently: the tests name them and check that the limitation is real).
    """
    names = let_names(sch)
    out = set()
    for a in sch_asserts(sch):
        used = set(re.findall(r"\$([\w.-]+)", a.context + " " + a.test))
        if used & names:
            out.add(a.id)
    return frozenset(out)


_PURE_STEP = re.compile(r"(@)?(?:([\w.-]+):)?([\w.-]+|\*)(?:\[(\d+)\])?$")


def pure_location(location: str, namespaces: Mapping[str, str]) -> str:
    """ph-schematron-pure's location (``/ubl-invoice:Invoice/cac:AllowanceCharge[2]``: the .sch's
    prefixes, a position only where a sibling has the same name) in the harness's normalised
    form (:func:`harness.xml.schematron.normalise_location`: ``/Invoice[1]/cac:AllowanceCharge[2]``)."""
    from harness.xml.schematron import normalise_location

    if location in ("", "/"):
        return location
    parts = []
    for step in location.strip("/").split("/"):
        m = _PURE_STEP.match(step)
        if m is None:
            return location
        attr, prefix, local, pos = m.groups()
        ns = namespaces.get(prefix, "") if prefix else ""
        if prefix and prefix not in namespaces:
            return location
        name = f"Q{{{ns}}}{local}" if ns else local
        parts.append(f"@{name}" if attr else f"{name}[{pos or 1}]")
    return normalise_location("/" + "/".join(parts))
