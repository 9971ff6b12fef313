"""The rule sets a document can be judged by, and which files make each one.

Ids are ``<family>-<syntax>-<version>`` (issue 2): ``xsd-ubl-2.1``; ``cen-ubl-1.3.16`` and
``cen-cii-1.3.16`` (ConnectingEurope's release, published XSLT); ``cen-ubl-1.3.14.1`` and
``cen-cii-1.3.14.1`` (the CEN copies bundled in Peppol BIS 3.0.19, whose headers say "Schematron
version 1.3.14.1"); ``peppol-ubl-3.0.19`` and ``peppol-cii-3.0.19`` (OpenPeppol; no published
XSLT, compiled with SchXslt2); ``peppol-ubl-3.0.21`` (a third-party copy from phive-rules: the
official file is not reachable offline); ``pint-ubl-1.1.3``; ``pint-sg-ubl-1.4.1`` (the shared
PINT rules plus the SG jurisdiction rules; its PINT file is byte-identical to
``pint-ubl-1.1.3``'s, so a validation asking for both runs and reports it once).

``implies`` lists what a claim of a rule set brings with it (its bundled CEN set, the UBL XSD);
:func:`expand` follows it. The validator itself runs exactly the ids it is given, so "CEN alone",
"Peppol alone" and "CEN + Peppol" (without XSD) are expressible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from harness.artefacts.lock import OFFICIAL, THIRD_PARTY, ArtefactLock, Provenance, default_lock
from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.artefacts.store import ArtefactStore

Syntax = Literal["ubl", "cii"]

TRANSPILE_KEY = "schxslt2/1.3.4/transpile.xsl"
UBL_XSD_PREFIX = "oasis/ubl-2.1/xsd/"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDITNOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

#: CustomizationID (BT-24) values, see :func:`rulesets_for_document`.
PEPPOL_BIS_BILLING = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PINT_BILLING = "urn:peppol:pint:billing-1"
EN16931 = "urn:cen.eu:en16931:2017"


@dataclass(frozen=True)
class SchematronStage:
    """One validation stylesheet of a rule set.

    ``source`` is the artefact key of a published XSLT (used as is) or of a .sch (compiled with
    SchXslt2); ``catalogue`` is the .sch whose asserts the stylesheet checks. ``root`` limits the
    stage to documents with that root element (PINT ships one folder per transaction).
    """

    source: str
    catalogue: str
    root: Literal["Invoice", "CreditNote"] | None = None

    @property
    def compiled_here(self) -> bool:
        """True when the harness compiles ``source`` (.sch) rather than using a published XSLT."""
        return self.source.endswith(".sch")


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned set of rules (XSD or Schematron) and the pinned files it is made of."""

    id: str
    family: str
    syntax: Syntax
    version: str
    title: str
    provenance: Provenance
    components: tuple[str, ...]  # artefact keys of every file used
    implies: tuple[str, ...] = ()
    stages: tuple[SchematronStage, ...] = ()
    #: (root element local name, artefact key of the main XSD), for the XSD family.
    xsd: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @property
    def is_xsd(self) -> bool:
        return bool(self.xsd)

    def stages_for(self, root: str) -> tuple[SchematronStage, ...]:
        """The stages that apply to a document whose root element has local name ``root``."""
        return tuple(s for s in self.stages if s.root is None or s.root == root)


@dataclass(frozen=True)
class RuleInfo:
    """One rule of a rule set's catalogue (generated from the rule files, never written by hand)."""

    id: str
    flag: str
    text: str
    context: str
    ruleset: str

    @property
    def qualified_id(self) -> str:
        return f"{self.ruleset}:{self.id}"


@dataclass(frozen=True)
class _Spec:
    id: str
    family: str
    syntax: Syntax
    version: str
    title: str
    implies: tuple[str, ...] = ()
    stages: tuple[SchematronStage, ...] = ()
    xsd: tuple[tuple[str, str], ...] = ()
    note: str = ""
    extra: tuple[str, ...] = field(default=())


_BIS19 = "peppol/bis-billing-3.0.19/rules/sch/"
_CEN16 = "cen/en16931-1.3.16/"
_PINT = "peppol/pint-1.1.3/"
_PINTSG = "peppol/pint-sg-1.4.1/"
_PINT_SHARED = "schematron/PINT-UBL-validation-preprocessed"
_SG_RULES = "schematron/PINT-jurisdiction-aligned-rules"


def _sch(key: str) -> SchematronStage:
    return SchematronStage(source=key, catalogue=key)


def _per_transaction(base: str, *names: str) -> tuple[SchematronStage, ...]:
    out: list[SchematronStage] = []
    for root, folder in (("Invoice", "trn-invoice"), ("CreditNote", "trn-creditnote")):
        for name in names:
            out.append(
                SchematronStage(
                    source=f"{base}{folder}/{name}.xslt",
                    catalogue=f"{base}{folder}/{name}.sch",
                    root=root,  # type: ignore[arg-type]
                )
            )
    return tuple(out)


_SPECS: tuple[_Spec, ...] = (
    _Spec(
        "xsd-ubl-2.1",
        "xsd",
        "ubl",
        "2.1",
        "OASIS UBL 2.1 XML Schema (Invoice, CreditNote)",
        xsd=(
            ("Invoice", "oasis/ubl-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd"),
            ("CreditNote", "oasis/ubl-2.1/xsd/maindoc/UBL-CreditNote-2.1.xsd"),
        ),
    ),
    _Spec(
        "cen-ubl-1.3.16",
        "cen",
        "ubl",
        "1.3.16",
        "CEN EN 16931 validation artefacts 1.3.16, UBL binding",
        implies=("xsd-ubl-2.1",),
        stages=(
            SchematronStage(
                source=_CEN16 + "ubl/xslt/EN16931-UBL-validation.xslt",
                catalogue=_CEN16
                + "ubl/schematron/preprocessed/EN16931-UBL-validation-preprocessed.sch",
            ),
        ),
        extra=(_CEN16 + "LICENSE.txt",),
    ),
    _Spec(
        "cen-cii-1.3.16",
        "cen",
        "cii",
        "1.3.16",
        "CEN EN 16931 validation artefacts 1.3.16, CII binding",
        stages=(
            SchematronStage(
                source=_CEN16 + "cii/xslt/EN16931-CII-validation.xslt",
                catalogue=_CEN16
                + "cii/schematron/preprocessed/EN16931-CII-validation-preprocessed.sch",
            ),
        ),
        extra=(_CEN16 + "LICENSE.txt",),
        note="No CII XML Schema is pinned, so CII documents get no XSD check.",
    ),
    _Spec(
        "cen-ubl-1.3.14.1",
        "cen",
        "ubl",
        "1.3.14.1",
        "CEN EN 16931 rules 1.3.14.1, UBL binding (the copy bundled in Peppol BIS Billing 3.0.19)",
        implies=("xsd-ubl-2.1",),
        stages=(_sch(_BIS19 + "CEN-EN16931-UBL.sch"),),
    ),
    _Spec(
        "cen-cii-1.3.14.1",
        "cen",
        "cii",
        "1.3.14.1",
        "CEN EN 16931 rules 1.3.14.1, CII binding (the copy bundled in Peppol BIS Billing 3.0.19)",
        stages=(_sch(_BIS19 + "CEN-EN16931-CII.sch"),),
    ),
    _Spec(
        "peppol-ubl-3.0.19",
        "peppol",
        "ubl",
        "3.0.19",
        "Peppol BIS Billing 3.0.19 rules, UBL",
        implies=("cen-ubl-1.3.14.1", "xsd-ubl-2.1"),
        stages=(_sch(_BIS19 + "PEPPOL-EN16931-UBL.sch"),),
        note="OpenPeppol publishes no compiled XSLT; the .sch is compiled with SchXslt2 1.3.4.",
    ),
    _Spec(
        "peppol-cii-3.0.19",
        "peppol",
        "cii",
        "3.0.19",
        "Peppol BIS Billing 3.0.19 rules, CII",
        implies=("cen-cii-1.3.14.1",),
        stages=(_sch(_BIS19 + "PEPPOL-EN16931-CII.sch"),),
        note="OpenPeppol publishes no compiled XSLT; the .sch is compiled with SchXslt2 1.3.4.",
    ),
    _Spec(
        "peppol-ubl-3.0.21",
        "peppol",
        "ubl",
        "3.0.21",
        "Peppol BIS Billing 3.0.21 rules, UBL (third-party copy)",
        implies=("cen-ubl-1.3.16", "xsd-ubl-2.1"),
        stages=(_sch("peppol/bis-billing-3.0.21/sch/PEPPOL-EN16931-UBL.sch"),),
        note=(
            "Copy from phax/phive-rules; its SHA-256 differs from the one pinned elsewhere for the "
            "official file. The CEN rules bundled with 3.0.21 are identical to CEN 1.3.16."
        ),
    ),
    _Spec(
        "pint-ubl-1.1.3",
        "pint",
        "ubl",
        "1.1.3",
        "Peppol PINT Billing 1.1.3 (third-party copy)",
        implies=("xsd-ubl-2.1",),
        stages=_per_transaction(_PINT, _PINT_SHARED),
        note="Members of pint-resources-dev-1.1.3.zip as mirrored in phax/phive-rules.",
    ),
    _Spec(
        "pint-sg-ubl-1.4.1",
        "pint-sg",
        "ubl",
        "1.4.1",
        "Peppol PINT SG (InvoiceNow) 1.4.1 (third-party copy)",
        implies=("xsd-ubl-2.1",),
        stages=_per_transaction(_PINTSG, _PINT_SHARED, _SG_RULES),
        note=(
            "Members of pint-sg-resources-dev-1.4.1.zip as mirrored in phax/phive-rules; the shared "
            "PINT rules are byte-identical to pint-ubl-1.1.3's."
        ),
    ),
)


def _build(spec: _Spec, lock: ArtefactLock) -> RuleSet:
    keys: list[str] = []
    for stage in spec.stages:
        keys += [stage.source, stage.catalogue]
        if stage.compiled_here:
            keys.append(TRANSPILE_KEY)
    if spec.xsd:
        keys += [e.key for e in lock.under(UBL_XSD_PREFIX)]
    keys += spec.extra
    components = tuple(dict.fromkeys(keys))
    for key in components:
        lock[key]  # every component must be pinned (ArtefactError otherwise)
    provenance: Provenance = (
        OFFICIAL if all(lock[k].provenance == OFFICIAL for k in components) else THIRD_PARTY
    )
    return RuleSet(
        id=spec.id,
        family=spec.family,
        syntax=spec.syntax,
        version=spec.version,
        title=spec.title,
        provenance=provenance,
        components=components,
        implies=spec.implies,
        stages=spec.stages,
        xsd=spec.xsd,
        note=spec.note,
    )


@lru_cache(maxsize=1)
def _registry() -> dict[str, RuleSet]:
    lock = default_lock()
    return {spec.id: _build(spec, lock) for spec in _SPECS}


def list_rulesets() -> tuple[RuleSet, ...]:
    """Every rule set the harness knows, in a stable order."""
    return tuple(_registry().values())


def claimable_ids() -> tuple[str, ...]:
    """Rule-set ids a participant may claim in its ``rulesets`` list."""
    return tuple(_registry())


def get_ruleset(ruleset_id: str) -> RuleSet:
    """The rule set ``ruleset_id``; ConfigError listing the valid ids if there is none."""
    try:
        return _registry()[ruleset_id]
    except KeyError:
        raise ConfigError(
            f"unknown rule set {ruleset_id!r}; valid ids: {', '.join(_registry())}"
        ) from None


def parse_ids(text: str) -> tuple[str, ...]:
    """Comma-separated ids (``--rules``), validated and deduplicated in order."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise ConfigError(f"no rule-set id given; valid ids: {', '.join(_registry())}")
    for i in ids:
        get_ruleset(i)
    return tuple(dict.fromkeys(ids))


def expand(ids: Iterable[str]) -> list[str]:
    """``ids`` and everything they imply, depth first, deduplicated, in order."""
    out: dict[str, None] = {}

    def visit(i: str) -> None:
        if i in out:
            return
        rs = get_ruleset(i)
        out[i] = None
        for j in rs.implies:
            visit(j)

    for i in ids:
        visit(i)
    return list(out)


def rulesets_for_document(customization_id: str | None, syntax: str) -> tuple[str, ...]:
    """The rule sets a document is judged by when none are given, from its CustomizationID.

    Peppol BIS Billing -> ``peppol-<syntax>-3.0.19`` + the CEN copy bundled with it + XSD for UBL
    (no CII XSD is pinned); PINT SG (``urn:peppol:pint:billing-1@sg-1``) -> ``pint-sg-ubl-1.4.1``
    + XSD; other PINT billing -> ``pint-ubl-1.1.3`` + XSD; plain EN 16931 -> CEN 1.3.16 (+ XSD for
    UBL). Anything else is a ConfigError asking for ``--rules``.
    """
    cid = (customization_id or "").strip()
    if syntax not in ("ubl", "cii"):
        raise ConfigError(f"unknown syntax {syntax!r}: expected 'ubl' or 'cii'")
    chosen: str | None = None
    if cid.startswith(PEPPOL_BIS_BILLING):
        chosen = f"peppol-{syntax}-3.0.19"
    elif cid == PINT_BILLING or cid.startswith(PINT_BILLING + "@"):
        if syntax == "ubl":
            jurisdiction = cid.partition("@")[2]
            chosen = "pint-sg-ubl-1.4.1" if jurisdiction.startswith("sg-") else "pint-ubl-1.1.3"
    elif cid == EN16931:
        chosen = f"cen-{syntax}-1.3.16"
    if chosen is None:
        shown = repr(cid) if cid else "missing"
        raise ConfigError(
            f"the CustomizationID (BT-24) is {shown} in a {syntax.upper()} document, which names no "
            "specification whose rules the harness selects by itself; choose the rule sets with "
            f"--rules (valid ids: {', '.join(_registry())})"
        )
    return tuple(expand([chosen]))


def _store(store: ArtefactStore | None) -> ArtefactStore:
    if store is not None:
        return store
    from harness.artefacts.store import ArtefactStore

    return ArtefactStore.default()


XSD_RULE_TEXT = "The document is valid against the OASIS UBL 2.1 XML Schema of its document type."


def rule_catalogue(ruleset_id: str, store: ArtefactStore | None = None) -> tuple[RuleInfo, ...]:
    """Every rule of a rule set, generated from its rule files (cached): one entry per id.

    For the XSD rule set the catalogue is its one check, ``XSD``. An id that occurs in several
    rules (e.g. once for Invoice, once for CreditNote) appears once, with its first text.
    """
    rs = get_ruleset(ruleset_id)
    if rs.is_xsd:
        return (RuleInfo("XSD", "fatal", XSD_RULE_TEXT, "/", rs.id),)
    from harness.xml.schematron import read_catalogue

    st = _store(store)
    digests = tuple(st.entry(stage.catalogue).sha256 for stage in rs.stages)
    memo_key = (rs.id, digests)
    hit = _catalogue_memo.get(memo_key)
    if hit is not None:
        return hit
    cache = st.derived_cache("catalogues")
    out: dict[str, RuleInfo] = {}
    for stage, digest in zip(rs.stages, digests, strict=True):
        for rule in read_catalogue(st.path(stage.catalogue), digest=digest, cache_dir=cache):
            if rule.id not in out:
                out[rule.id] = RuleInfo(rule.id, rule.flag, rule.text, rule.context, rs.id)
    result = _catalogue_memo[memo_key] = tuple(out.values())
    return result


_catalogue_memo: dict[tuple[str, tuple[str, ...]], tuple[RuleInfo, ...]] = {}


def describe(ruleset_id: str, store: ArtefactStore | None = None) -> dict[str, Any]:
    """A JSON-ready description for reports: id, version, provenance and every pinned file."""
    rs = get_ruleset(ruleset_id)
    lock = store.lock if store is not None else default_lock()
    artefacts = []
    for key in rs.components:
        e = lock[key]
        artefacts.append(
            {
                "path": key,
                "sha256": e.sha256,
                "url": e.url,
                "provenance": e.provenance,
                "licence": e.licence,
                **(
                    {"archive_member": e.member, "archive_sha256": e.archive_sha256}
                    if e.member
                    else {}
                ),
            }
        )
    compiled = [s.source for s in rs.stages if s.compiled_here]
    return {
        "id": rs.id,
        "family": rs.family,
        "syntax": rs.syntax,
        "version": rs.version,
        "title": rs.title,
        "provenance": rs.provenance,
        "implies": list(rs.implies),
        "engine": (
            "lxml XML Schema"
            if rs.is_xsd
            else "SaxonC-HE; "
            + ("SchXslt2 1.3.4 compiled " + ", ".join(compiled) if compiled else "published XSLT")
        ),
        "note": rs.note,
        "artefacts": artefacts,
    }


def distinct_stages(
    ids: Sequence[str], root: str, lock: ArtefactLock | None = None
) -> list[tuple[str, SchematronStage]]:
    """(rule set id, stage) pairs to run for ``ids`` on a document with root ``root``.

    A stylesheet whose bytes (SHA-256) already appear for an earlier rule set is skipped, so that
    asking for ``pint-ubl-1.1.3`` and ``pint-sg-ubl-1.4.1`` together runs and reports the shared
    PINT rules once, under the first of the two in ``ids``.
    """
    lock = lock or default_lock()
    seen: set[str] = set()
    out: list[tuple[str, SchematronStage]] = []
    for i in ids:
        for stage in get_ruleset(i).stages_for(root):
            digest = lock[stage.source].sha256
            if digest in seen:
                continue
            seen.add(digest)
            out.append((i, stage))
    return out
