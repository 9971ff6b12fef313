"""Validate e-invoice documents against rule sets (XSD + Schematron), one warm engine per process.

A caller may rely on:

- :meth:`DocumentValidator.validate` never raises for a bad *document* (unreadable, too big,
  not XML, DTD, unknown CustomizationID, rule-set/syntax mismatch): the result says
  ``valid=False`` and ``error`` says why. It raises ConfigError for an unknown rule-set id and
  ArtefactError when a pinned file is missing here (problems of the caller/environment).
- exactly the rule sets given run (``rulesets=[...]``); XSD runs only when ``xsd-ubl-2.1`` is
  among them. Without ``rulesets`` they follow the CustomizationID
  (:func:`harness.peppol.rulesets.rulesets_for_document`).
- ``failed_asserts`` lists every fired assert/report (warnings included, flag ``warning``), in
  rule-set order; XSD failures have id ``XSD``, flag ``fatal`` and location ``line:column``.
  ``location`` has one normalised form (``/Invoice[1]/cac:LegalMonetaryTotal[1]``).
- ``checks`` holds one :class:`AssertCheck` per distinct assert id of every applied rule set:
  fail (it fired), pass (a rule holding it fired and it held), not-applicable (none of its rules
  fired).
- ``valid`` is False when a fatal/error assert fired, the XSD check failed, or ``error`` is set.

The document is parsed once by lxml (safely, :mod:`harness.xml.safe`; the XSD runs on that
tree) and once by Saxon, and every validation stylesheet runs on that one Saxon node.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.errors import ConfigError, UntrustedInputError
from harness.peppol import rulesets as rs
from harness.xml.safe import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from lxml import etree

    from harness.artefacts.store import ArtefactStore
    from harness.xml.schematron import EngineKind

Outcome = Literal["pass", "fail", "not-applicable"]
INVALIDATING_FLAGS = frozenset({"fatal", "error"})
XSD_RULESET = "xsd-ubl-2.1"

_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_RSM = rs.CII_NS
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_CII_CID_PATH = f"{{{_RSM}}}ExchangedDocumentContext/{{{_RAM}}}GuidelineSpecifiedDocumentContextParameter/{{{_RAM}}}ID"


@dataclass(frozen=True)
class FailedAssert:
    """A fired assert (or successful report, or XSD error) of one rule set."""

    id: str
    flag: str
    location: str
    text: str
    ruleset: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "flag": self.flag,
            "location": self.location,
            "text": self.text,
            "ruleset": self.ruleset,
        }


@dataclass(frozen=True)
class AssertCheck:
    """The outcome of one assert id of one applied rule set for one document."""

    ruleset: str
    id: str
    flag: str
    outcome: Outcome
    locations: tuple[str, ...] = ()

    @property
    def qualified_id(self) -> str:
        return f"{self.ruleset}:{self.id}"


@dataclass(frozen=True)
class ValidationResult:
    """The verdict on one document (see the module docstring for what each field guarantees)."""

    file: str
    valid: bool
    rulesets: tuple[str, ...]
    failed_asserts: tuple[FailedAssert, ...]
    checks: tuple[AssertCheck, ...] = ()
    error: str | None = None
    customization_id: str | None = None
    #: ``ubl`` or ``cii`` when the root element was recognised.
    syntax: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``conformance validate --json`` object (a JSON-ready dict, exactly these keys)."""
        return {
            "file": self.file,
            "valid": self.valid,
            "rulesets": list(self.rulesets),
            "failed_asserts": [fa.to_json() for fa in self.failed_asserts],
            "error": self.error,
        }

    @property
    def errors(self) -> tuple[FailedAssert, ...]:
        """Fired asserts that make the document invalid (fatal/error flags)."""
        return tuple(fa for fa in self.failed_asserts if fa.flag in INVALIDATING_FLAGS)

    @property
    def warnings(self) -> tuple[FailedAssert, ...]:
        return tuple(fa for fa in self.failed_asserts if fa.flag not in INVALIDATING_FLAGS)


# -- compiled stages -----------------------------------------------------------------------------


@dataclass
class _CompiledStage:
    """A validation stylesheet, compiled, with its catalogue pre-indexed for the per-assert checks."""

    executable: Any  # PyXsltExecutable
    engine: EngineKind
    #: (id, flag, rule keys) per distinct assert id, catalogue order; a rule key is
    #: (pattern or None, context) matching :attr:`SvrlReport.fired_rules`.
    index: tuple[tuple[str, str, frozenset[tuple[str | None, str]]], ...]
    #: rule key -> the assert ids of that rule (the inverse of ``index``).
    ids_by_rule: dict[tuple[str | None, str], tuple[str, ...]] = field(default_factory=dict)
    #: ruleset label -> (pass checks, not-applicable checks) by id, built once per label.
    prebuilt: dict[str, tuple[dict[str, AssertCheck], dict[str, AssertCheck]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        inverse: dict[tuple[str | None, str], list[str]] = {}
        for i, _, keys in self.index:
            for key in keys:
                inverse.setdefault(key, []).append(i)
        self.ids_by_rule = {k: tuple(v) for k, v in inverse.items()}

    def checks_for(self, label: str) -> tuple[dict[str, AssertCheck], dict[str, AssertCheck]]:
        hit = self.prebuilt.get(label)
        if hit is None:
            passed = {i: AssertCheck(label, i, flag, "pass") for i, flag, _ in self.index}
            na = {i: AssertCheck(label, i, flag, "not-applicable") for i, flag, _ in self.index}
            hit = self.prebuilt[label] = (passed, na)
        return hit


_CLARK = re.compile(r"\{([^}]*)\}([\w.-]+)")


def _prefixed(message: str) -> str:
    from harness.xml.schematron import DEFAULT_PREFIXES

    def repl(m: re.Match[str]) -> str:
        ns, local = m.group(1), m.group(2)
        prefix = DEFAULT_PREFIXES.get(ns)
        if prefix is None:
            return m.group(0)
        return f"{prefix}:{local}" if prefix else local

    return " ".join(_CLARK.sub(repl, message).split())


class DocumentValidator:
    """Validates documents; compiled stylesheets and schemas are kept for the life of the object
    (and, for Saxon executables, of the process). Thread-safe."""

    def __init__(
        self, store: ArtefactStore | None = None, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if store is None:
            from harness.artefacts.store import ArtefactStore

            store = ArtefactStore.default()
        self.store = store
        self.max_bytes = max_bytes
        self._lock = threading.RLock()
        self._stages: dict[str, _CompiledStage] = {}
        self._schemas: dict[str, etree.XMLSchema] = {}

    # -- engine parts (also used by the benchmark's bare-engine comparison) ----------------------

    def compiled_stage(self, stage: rs.SchematronStage) -> _CompiledStage:
        """The compiled stylesheet of ``stage`` with its indexed catalogue (compiled on first use)."""
        with self._lock:
            hit = self._stages.get(stage.source)
            if hit is not None:
                return hit
            from harness.xml import schematron as sch

            store = self.store
            src_entry = store.entry(stage.source)
            if stage.compiled_here:
                exe = sch.compile_schematron(
                    store.path(stage.source),
                    sch_digest=src_entry.sha256,
                    transpile=store.path(rs.TRANSPILE_KEY),
                    transpile_digest=store.entry(rs.TRANSPILE_KEY).sha256,
                    cache_dir=store.derived_cache("schematron"),
                )
                engine: EngineKind = "schxslt2"
            else:
                exe = sch.compile_xslt_file(store.path(stage.source), digest=src_entry.sha256)
                engine = "iso-skeleton"
            rules = sch.read_catalogue(
                store.path(stage.catalogue),
                digest=store.entry(stage.catalogue).sha256,
                cache_dir=store.derived_cache("catalogues"),
            )
            by_id: dict[str, tuple[str, set[tuple[str | None, str]]]] = {}
            for r in rules:
                key = (r.pattern if engine == "iso-skeleton" else None, r.context)
                if r.id in by_id:
                    by_id[r.id][1].add(key)
                else:
                    by_id[r.id] = (r.flag, {key})
            index = tuple((i, flag, frozenset(keys)) for i, (flag, keys) in by_id.items())
            compiled = self._stages[stage.source] = _CompiledStage(exe, engine, index)
            return compiled

    def xsd_schema(self, ruleset: rs.RuleSet, root: str) -> etree.XMLSchema | None:
        """The compiled XML Schema of ``ruleset`` for a root element local name (None: no schema)."""
        main = dict(ruleset.xsd).get(root)
        if main is None:
            return None
        with self._lock:
            schema = self._schemas.get(main)
            if schema is None:
                from lxml import etree

                base = self.store.root_for(ruleset.components)
                parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
                schema = etree.XMLSchema(etree.parse(os.fspath(base / main), parser))
                self._schemas[main] = schema
            return schema

    def warm(self, rulesets: Sequence[str] | None = None) -> None:
        """Compile everything ``rulesets`` (default: all) need, so the first document is fast."""
        for i in rulesets if rulesets is not None else rs.claimable_ids():
            ruleset = rs.get_ruleset(i)
            for stage in ruleset.stages:
                self.compiled_stage(stage)
            for root, _ in ruleset.xsd:
                self.xsd_schema(ruleset, root)

    # -- validation ------------------------------------------------------------------------------

    def validate_file(
        self, path: str | os.PathLike[str], rulesets: Sequence[str] | None = None
    ) -> ValidationResult:
        """:meth:`validate` for a file; the size limit is checked before it is read."""
        from harness.xml.safe import read_untrusted

        name = os.fspath(path)
        requested = self._requested(rulesets)
        try:
            data = read_untrusted(Path(path), name=name, max_bytes=self.max_bytes)
        except UntrustedInputError as exc:
            return ValidationResult(name, False, requested, (), (), str(exc))
        return self.validate(data, name=name, rulesets=rulesets)

    @staticmethod
    def _requested(rulesets: Sequence[str] | None) -> tuple[str, ...]:
        if rulesets is None:
            return ()
        if isinstance(rulesets, str):
            raise ConfigError("rulesets must be a sequence of rule-set ids, not one string")
        ids = tuple(dict.fromkeys(rulesets))
        if not ids:
            raise ConfigError(
                "an empty list of rule sets was given; pass rule-set ids, or None to choose them by "
                "the document's CustomizationID"
            )
        for i in ids:
            rs.get_ruleset(i)  # ConfigError listing the valid ids
        return ids

    def validate(
        self, data: bytes, *, name: str = "<document>", rulesets: Sequence[str] | None = None
    ) -> ValidationResult:
        """Validate one document (see the module docstring)."""
        from harness.xml.safe import parse_untrusted

        requested = self._requested(rulesets)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"validate() takes the document as bytes, not {type(data).__name__}")
        data = bytes(data)
        try:
            tree = parse_untrusted(data, name=name, max_bytes=self.max_bytes)
        except UntrustedInputError as exc:
            return ValidationResult(name, False, requested, (), (), str(exc))

        root = tree.getroot()
        ns, _, local = (
            root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
        )
        syntax: str | None
        customization_id: str | None
        if ns in (rs.UBL_INVOICE_NS, rs.UBL_CREDITNOTE_NS) and local in ("Invoice", "CreditNote"):
            syntax = "ubl"
            el = root.find(f"{{{_CBC}}}CustomizationID")
        elif ns == rs.CII_NS and local == "CrossIndustryInvoice":
            syntax = "cii"
            el = root.find(_CII_CID_PATH)
        else:
            syntax, el = None, None
        customization_id = " ".join(el.text.split()) if el is not None and el.text else None
        shown_root = _prefixed(root.tag)

        if requested:
            ids = requested
        else:
            if syntax is None:
                return ValidationResult(
                    name,
                    False,
                    (),
                    (),
                    (),
                    f"{name}: the root element {shown_root} is not a UBL 2.1 Invoice or CreditNote or a "
                    "CII CrossIndustryInvoice, so no rule set applies to it",
                    customization_id,
                    syntax,
                )
            try:
                ids = rs.rulesets_for_document(customization_id, syntax)
            except ConfigError as exc:
                return ValidationResult(
                    name, False, (), (), (), f"{name}: {exc}", customization_id, syntax
                )

        problems: list[str] = []
        for i in ids:
            ruleset = rs.get_ruleset(i)
            if syntax is not None and ruleset.syntax != syntax:
                problems.append(
                    f"rule set {i} is for {ruleset.syntax.upper()} documents, but this is a {syntax.upper()} "
                    f"{local}"
                )
            elif syntax is None and not ruleset.is_xsd:
                problems.append(
                    f"rule set {i} has rules for {ruleset.syntax.upper()} documents; the root element "
                    f"{shown_root} is not one"
                )
            elif syntax == "ubl" and ruleset.stages and not ruleset.stages_for(local):
                problems.append(f"rule set {i} has no rules for a {local}")

        failed_by: dict[str, list[FailedAssert]] = {i: [] for i in ids}
        checks_by: dict[str, list[AssertCheck]] = {i: [] for i in ids}
        with self._lock:
            for i in ids:
                ruleset = rs.get_ruleset(i)
                if ruleset.is_xsd:
                    self._run_xsd(
                        ruleset, tree, data, local, ns, shown_root, failed_by[i], checks_by[i]
                    )
            stages = rs.distinct_stages(
                [i for i in ids if not rs.get_ruleset(i).is_xsd], local, self.store.lock
            )
            if stages and syntax is not None:
                from harness.xml import schematron as sch
                from harness.xml.safe import document_text

                node = sch.parse_document(document_text(tree, data))
                for label, stage in stages:
                    if rs.get_ruleset(label).syntax != syntax:
                        continue
                    compiled = self.compiled_stage(stage)
                    try:
                        svrl = sch.run_xslt(compiled.executable, node)
                        report = sch.parse_svrl(svrl, engine=compiled.engine)
                    except sch.SchematronError as exc:
                        problems.append(f"rule set {label}: {exc}")
                        continue
                    self._collect(label, compiled, report, failed_by[label], checks_by[label])
        failed = [fa for i in ids for fa in failed_by[i]]
        checks = [c for i in ids for c in checks_by[i]]
        error = f"{name}: " + "; ".join(problems) if problems else None
        valid = error is None and not any(fa.flag in INVALIDATING_FLAGS for fa in failed)
        return ValidationResult(
            name, valid, tuple(ids), tuple(failed), tuple(checks), error, customization_id, syntax
        )

    def _run_xsd(
        self,
        ruleset: rs.RuleSet,
        tree: etree._ElementTree,
        data: bytes,
        local: str,
        ns: str,
        shown_root: str,
        failed: list[FailedAssert],
        checks: list[AssertCheck],
    ) -> None:
        root = tree.getroot()
        schema = (
            self.xsd_schema(ruleset, local)
            if ns in (rs.UBL_INVOICE_NS, rs.UBL_CREDITNOTE_NS)
            else None
        )
        found: list[FailedAssert] = []
        if schema is None:
            found.append(
                FailedAssert(
                    "XSD",
                    "fatal",
                    f"{root.sourceline or 1}:1",
                    f"The root element {shown_root} is not a UBL 2.1 Invoice or CreditNote; "
                    "no UBL 2.1 schema declares it.",
                    ruleset.id,
                )
            )
        elif not schema.validate(tree):
            lines: list[str] | None = None
            for e in schema.error_log:
                column = e.column
                if column <= 0 and e.line > 0:
                    # libxml2 gives no column for validity errors: point at the element's start tag.
                    if lines is None:
                        lines = _source_lines(tree, data)
                    column = _tag_column(
                        tree, e.path, lines[e.line - 1] if e.line <= len(lines) else ""
                    )
                found.append(
                    FailedAssert(
                        "XSD", "fatal", f"{e.line}:{column}", _prefixed(e.message), ruleset.id
                    )
                )
        failed.extend(found)
        checks.append(
            AssertCheck(
                ruleset.id,
                "XSD",
                "fatal",
                "fail" if found else "pass",
                tuple(f.location for f in found),
            )
        )

    @staticmethod
    def _collect(
        label: str,
        compiled: _CompiledStage,
        report: Any,
        failed: list[FailedAssert],
        checks: list[AssertCheck],
    ) -> None:
        locations: dict[str, list[str]] = {}
        for f in report.findings:
            failed.append(FailedAssert(f.id, f.flag, f.location, f.text, label))
            locations.setdefault(f.id, []).append(f.location)
        passed, na = compiled.checks_for(label)
        by_rule = compiled.ids_by_rule
        held: set[str] = set()
        for key in report.fired_rules:
            ids = by_rule.get(key)
            if ids:
                held.update(ids)
        for i, flag, _ in compiled.index:
            locs = locations.pop(i, None)
            if locs is not None:
                checks.append(AssertCheck(label, i, flag, "fail", tuple(locs)))
            else:
                checks.append(passed[i] if i in held else na[i])
        for i, locs in locations.items():  # fired ids the catalogue does not list
            flag = next(f.flag for f in report.findings if f.id == i)
            checks.append(AssertCheck(label, i, flag, "fail", tuple(locs)))


def _source_lines(tree: etree._ElementTree, data: bytes) -> list[str]:
    """The source text's lines (decoded as the parser did), to place XSD errors on a column."""
    from harness.xml.safe import document_text

    return document_text(tree, data).splitlines()


def _tag_column(tree: etree._ElementTree, path: str | None, line: str) -> int:
    """1-based column of the start tag that ``path`` names on ``line`` (1 if it cannot be found)."""
    if not path:
        return 1
    namespaces: dict[str, str] = {}
    for prefix in set(re.findall(r"([A-Za-z_][\w.-]*):", path)):
        for el in tree.iter():
            uri = el.nsmap.get(prefix)
            if uri:
                namespaces[prefix] = uri
                break
    try:
        nodes = tree.xpath(path, namespaces=namespaces)
    except Exception:  # noqa: BLE001 - libxml2 paths of odd nodes may not evaluate
        return 1
    if not nodes or not hasattr(nodes[0], "tag"):
        return 1
    el = nodes[0]
    local = el.tag.rsplit("}", 1)[-1]
    name = f"{el.prefix}:{local}" if el.prefix else local
    m = re.search(r"<" + re.escape(name) + r"(?=[\s/>])", line)
    return m.start() + 1 if m else 1


_validator: DocumentValidator | None = None
_validator_lock = threading.Lock()


def get_validator() -> DocumentValidator:
    """The process-wide validator (artefacts from :meth:`ArtefactStore.default`), created once."""
    global _validator
    with _validator_lock:
        if _validator is None:
            _validator = DocumentValidator()
        return _validator
