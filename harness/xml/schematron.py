"""Schematron through SaxonC-HE: compile, run, read SVRL, and list a schema's rules.

- One ``PySaxonProcessor`` per process (:func:`saxon`), shared; every call into Saxon holds
  :data:`SAXON_LOCK` (compiled executables are not thread-safe).
- A ``.sch`` is compiled with SchXslt2 1.3.4's ``transpile.xsl`` (a later snapshot has a known
  regression). The generated XSLT is cached on disk by digest (SHA-256 of the .sch bytes, of
  transpile.xsl and the saxonche version), and every compiled ``PyXsltExecutable`` is kept for
  the life of the process.
- Where the publisher ships a compiled XSLT (CEN, PINT) it is used as is.
- :func:`parse_svrl` turns the SVRL into failed asserts/successful reports with one normalised
  location form (:func:`normalise_location`), plus the set of rule contexts that fired.
- :func:`read_catalogue` lists every assert/report of a .sch (id, flag, text, rule context),
  cached on disk by the .sch digest.

Nothing here knows about Peppol rule sets; that is :mod:`harness.peppol.rulesets`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.errors import HarnessError

if TYPE_CHECKING:
    from saxonche import PySaxonProcessor, PyXdmNode, PyXsltExecutable

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
XSL_NS = "http://www.w3.org/1999/XSL/Transform"

#: Bump when the way a .sch is turned into XSLT changes, to invalidate the disk cache.
COMPILE_SCHEME = "schxslt2-transpile/1"
CATALOGUE_SCHEME = "catalogue/1"

#: Engines whose SVRL places each rule's ``fired-rule`` after its pattern's ``active-pattern``
#: (the ISO skeleton used for the published CEN/PINT XSLT). SchXslt2 lists every
#: ``active-pattern`` first, so its fired rules are matched by context alone.
EngineKind = Literal["iso-skeleton", "schxslt2"]

#: Namespace URI -> prefix used in normalised locations. The UBL document namespaces map to ""
#: (the root is written without a prefix: ``/Invoice[1]``).
DEFAULT_PREFIXES: Mapping[str, str] = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "urn:oasis:names:specification:ubl:schema:xsd:QualifiedDataTypes-2": "qdt",
    "urn:oasis:names:specification:ubl:schema:xsd:UnqualifiedDataTypes-2": "udt",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonSignatureComponents-2": "sig",
    "urn:oasis:names:specification:ubl:schema:xsd:SignatureAggregateComponents-2": "sac",
    "urn:oasis:names:specification:ubl:schema:xsd:SignatureBasicComponents-2": "sbc",
    "http://www.w3.org/2000/09/xmldsig#": "ds",
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
    "urn:un:unece:uncefact:documentation:standard:CoreComponentsTechnicalSpecification:2": "ccts",
}


class SchematronError(HarnessError):
    """A rule file could not be compiled or run (a harness or artefact problem, not the document's)."""


# -- the Saxon processor ----------------------------------------------------------------------

SAXON_LOCK = threading.RLock()
_processor: PySaxonProcessor | None = None
_xslt_compiler: Any = None
_executables: dict[str, PyXsltExecutable] = {}


def saxon() -> PySaxonProcessor:
    """The process-wide SaxonC processor (created on first use)."""
    global _processor, _xslt_compiler
    with SAXON_LOCK:
        if _processor is None:
            from saxonche import PySaxonProcessor

            _processor = PySaxonProcessor(license=False)
            _xslt_compiler = _processor.new_xslt30_processor()
        return _processor


def _compiler() -> Any:
    saxon()
    return _xslt_compiler


@lru_cache(maxsize=1)
def saxonche_version() -> str:
    try:
        return metadata.version("saxonche")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed without metadata
        return saxon().version


def parse_document(text: str) -> PyXdmNode:
    """Parse an already-vetted document (see :mod:`harness.xml.safe`) into a Saxon node."""
    with SAXON_LOCK:
        return saxon().parse_xml(xml_text=text, encoding="UTF-8")


def _api_error(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _saxon_error() -> type[Exception]:
    from saxonche import PySaxonApiError

    return PySaxonApiError


def compile_xslt_file(path: Path, *, digest: str) -> PyXsltExecutable:
    """Compile (once per process) a published XSLT; ``digest`` is its SHA-256."""
    key = f"xslt:{digest}"
    with SAXON_LOCK:
        exe = _executables.get(key)
        if exe is None:
            try:
                exe = _compiler().compile_stylesheet(stylesheet_file=os.fspath(path))
            except _saxon_error() as exc:
                raise SchematronError(
                    f"cannot compile the XSLT {path}: {_api_error(exc)}"
                ) from None
            if exe is None:
                raise SchematronError(f"cannot compile the XSLT {path}")
            _executables[key] = exe
        return exe


def schxslt_digest(sch_digest: str, transpile_digest: str) -> str:
    """Cache key of the XSLT that SchXslt2 generates from one .sch."""
    text = f"{COMPILE_SCHEME}\n{sch_digest}\n{transpile_digest}\n{saxonche_version()}"
    return hashlib.sha256(text.encode()).hexdigest()


def compile_schematron(
    sch: Path, *, sch_digest: str, transpile: Path, transpile_digest: str, cache_dir: Path | None
) -> PyXsltExecutable:
    """Compile a .sch through SchXslt2 into an executable (disk-cached XSLT, per-process exe)."""
    digest = schxslt_digest(sch_digest, transpile_digest)
    key = f"sch:{digest}"
    with SAXON_LOCK:
        exe = _executables.get(key)
        if exe is not None:
            return exe
        cached = cache_dir / f"{digest}.xsl" if cache_dir is not None else None
        xslt_text: str | None = None
        if cached is not None and cached.is_file():
            xslt_text = cached.read_text("utf-8")
        if xslt_text is None:
            transpiler = compile_xslt_file(transpile, digest=transpile_digest)
            try:
                xslt_text = transpiler.transform_to_string(source_file=os.fspath(sch))
            except _saxon_error() as exc:
                raise SchematronError(
                    f"SchXslt2 cannot transpile {sch}: {_api_error(exc)}"
                ) from None
            if not xslt_text:
                raise SchematronError(f"SchXslt2 produced nothing for {sch}")
            if cached is not None and not _atomic_write(cached, xslt_text):
                cached = None
        try:
            # Compile from the file when cached so that relative references resolve from there;
            # SchXslt2 output from these rule files is self-contained.
            if cached is not None and cached.is_file():
                exe = _compiler().compile_stylesheet(stylesheet_file=os.fspath(cached))
            else:
                exe = _compiler().compile_stylesheet(stylesheet_text=xslt_text, encoding="UTF-8")
        except _saxon_error() as exc:
            raise SchematronError(
                f"the XSLT generated by SchXslt2 from {sch} does not compile: {_api_error(exc)}"
            ) from None
        _executables[key] = exe
        return exe


def run_xslt(exe: PyXsltExecutable, node: PyXdmNode) -> bytes:
    """Run a validation XSLT on a parsed document; returns the SVRL as UTF-8 bytes."""
    with SAXON_LOCK:
        try:
            out = exe.transform_to_string(xdm_node=node)
        except _saxon_error() as exc:
            raise SchematronError(f"the Schematron evaluation failed: {_api_error(exc)}") from None
    if out is None:
        raise SchematronError("the Schematron evaluation produced no SVRL")
    return out.encode("utf-8")


def _atomic_write(path: Path, text: str) -> bool:
    """Write a cache file atomically; False (and nothing written) if the cache is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


# -- locations ---------------------------------------------------------------------------------

_STEP = re.compile(
    r"""
    /(?:
        \*:(?P<iso_local>[^\[/]+)\[namespace-uri\(\)='(?P<iso_ns>[^']*)'\]\[(?P<iso_pos>\d+)\]
      | Q\{(?P<q_ns>[^}]*)\}(?P<q_local>[^\[/]+)\[(?P<q_pos>\d+)\]
      | @\*\[local-name\(\)='(?P<isoa_local>[^']*)'\s*and\s*namespace-uri\(\)='(?P<isoa_ns>[^']*)'\]
      | @Q\{(?P<qa_ns>[^}]*)\}(?P<qa_local>[^\[/]+)
      | @(?P<a_name>[\w.:-]+)
      | (?P<kind>text|comment|processing-instruction)\(\)(?:\[(?P<kind_pos>\d+)\])?
      | (?P<plain>[\w.:-]+)(?:\[(?P<plain_pos>\d+)\])?
    )
    """,
    re.VERBOSE,
)


def _qname(ns: str, local: str, prefixes: Mapping[str, str]) -> str:
    if not ns:
        return local
    if ns in prefixes:
        prefix = prefixes[ns]
        return f"{prefix}:{local}" if prefix else local
    return f"Q{{{ns}}}{local}"


def normalise_location(location: str, prefixes: Mapping[str, str] = DEFAULT_PREFIXES) -> str:
    """One location form whichever engine wrote it: ``/Invoice[1]/cac:LegalMonetaryTotal[1]``.

    Reads the ISO skeleton's ``/*:X[namespace-uri()='…'][n]`` and ``@*[local-name()='a' and
    namespace-uri()='…']`` and XPath 3 ``fn:path`` (SchXslt2) ``/Q{…}X[n]`` forms. Unknown
    namespaces stay as ``Q{uri}local``. A location that cannot be read is returned whitespace-
    normalised but otherwise unchanged.
    """
    loc = "".join(location.split())
    if loc in ("", "/"):
        return loc
    out: list[str] = []
    pos = 0
    while pos < len(loc):
        m = _STEP.match(loc, pos)
        if m is None:
            return " ".join(location.split())
        g = m.groupdict()
        if g["iso_local"] is not None:
            out.append(f"{_qname(g['iso_ns'], g['iso_local'], prefixes)}[{g['iso_pos']}]")
        elif g["q_local"] is not None:
            out.append(f"{_qname(g['q_ns'], g['q_local'], prefixes)}[{g['q_pos']}]")
        elif g["isoa_local"] is not None:
            out.append("@" + _qname(g["isoa_ns"], g["isoa_local"], prefixes))
        elif g["qa_local"] is not None:
            out.append("@" + _qname(g["qa_ns"], g["qa_local"], prefixes))
        elif g["a_name"] is not None:
            out.append("@" + g["a_name"])
        elif g["kind"] is not None:
            out.append(f"{g['kind']}()[{g['kind_pos'] or 1}]")
        else:
            out.append(f"{g['plain']}[{g['plain_pos'] or 1}]")
        pos = m.end()
    return "/" + "/".join(out)


# -- SVRL ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SvrlFinding:
    """A failed assert or a successful report, as the SVRL states it (location normalised)."""

    id: str
    flag: str
    location: str
    text: str
    kind: Literal["assert", "report"]
    context: str | None  # the context of the rule it belongs to (the preceding fired-rule)


@dataclass(frozen=True)
class SvrlReport:
    """What one validation XSLT reported about one document."""

    findings: tuple[SvrlFinding, ...]
    #: (pattern id or None, rule context) of every rule that fired; the pattern is None when the
    #: engine does not say which pattern a fired rule belongs to.
    fired_rules: frozenset[tuple[str | None, str]]


def _ws(text: str | None) -> str:
    return " ".join((text or "").split())


def parse_svrl(
    svrl: bytes,
    *,
    engine: EngineKind,
    prefixes: Mapping[str, str] = DEFAULT_PREFIXES,
    default_flag: str = "error",
) -> SvrlReport:
    """Read SVRL: failed asserts and successful reports in order, and which rules fired."""
    from lxml import etree

    root = etree.fromstring(
        svrl, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    )
    active = f"{{{SVRL_NS}}}active-pattern"
    fired = f"{{{SVRL_NS}}}fired-rule"
    failed = f"{{{SVRL_NS}}}failed-assert"
    report = f"{{{SVRL_NS}}}successful-report"
    text_tag = f"{{{SVRL_NS}}}text"
    pattern: str | None = None
    context: str | None = None
    findings: list[SvrlFinding] = []
    fired_rules: set[tuple[str | None, str]] = set()
    track_pattern = engine == "iso-skeleton"
    for el in root:
        tag = el.tag
        if tag == fired:
            context = el.get("context") or ""
            fired_rules.add((pattern if track_pattern else None, context))
        elif tag == failed or tag == report:
            t = el.find(text_tag)
            findings.append(
                SvrlFinding(
                    id=el.get("id") or "",
                    flag=el.get("flag") or default_flag,
                    location=normalise_location(el.get("location") or "", prefixes),
                    text=_ws("".join(t.itertext()) if t is not None else ""),
                    kind="assert" if tag == failed else "report",
                    context=context,
                )
            )
        elif tag == active:
            pattern = el.get("id") or el.get("name")
    return SvrlReport(tuple(findings), frozenset(fired_rules))


# -- rule catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SchematronRule:
    """One assert or report of a .sch, with the rule (context) and pattern it sits in."""

    id: str
    flag: str
    text: str
    context: str
    pattern: str | None
    kind: Literal["assert", "report"]
    test: str


def _message_text(el: Any) -> str:
    """An assert's message with ``<value-of select="x"/>`` shown as ``{x}``, whitespace-normalised."""
    parts: list[str] = [el.text or ""]
    for child in el:
        local = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        if local == "value-of":
            parts.append("{" + (child.get("select") or "") + "}")
        elif local == "name":
            parts.append("{" + (child.get("path") or "name()") + "}")
        elif local in ("emph", "dir", "span"):
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return _ws("".join(parts))


def extract_catalogue(sch: Path) -> tuple[SchematronRule, ...]:
    """Every assert and report of a (preprocessed, include-free) .sch, in document order."""
    from lxml import etree

    tree = etree.parse(
        os.fspath(sch), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    )
    out: list[SchematronRule] = []
    for pattern in tree.getroot().iter(f"{{{SCH_NS}}}pattern"):
        if pattern.get("abstract") == "true":
            continue
        pid = pattern.get("id") or pattern.get("name")
        for rule in pattern.iter(f"{{{SCH_NS}}}rule"):
            if rule.get("abstract") == "true":
                continue
            context = rule.get("context") or ""
            for el in rule:
                local = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
                if local not in ("assert", "report"):
                    continue
                out.append(
                    SchematronRule(
                        id=el.get("id") or "",
                        flag=el.get("flag") or "error",
                        text=_message_text(el),
                        context=context,
                        pattern=pid,
                        kind=local,  # type: ignore[arg-type]
                        test=_ws(el.get("test")),
                    )
                )
    return tuple(out)


_catalogues: dict[str, tuple[SchematronRule, ...]] = {}
_catalogue_lock = threading.Lock()


def read_catalogue(sch: Path, *, digest: str, cache_dir: Path | None) -> tuple[SchematronRule, ...]:
    """:func:`extract_catalogue`, cached per process and on disk by the .sch's SHA-256."""
    with _catalogue_lock:
        hit = _catalogues.get(digest)
    if hit is not None:
        return hit
    cached = cache_dir / f"{digest}.json" if cache_dir is not None else None
    rules: tuple[SchematronRule, ...] | None = None
    if cached is not None and cached.is_file():
        try:
            raw = json.loads(cached.read_text("utf-8"))
            if raw.get("scheme") == CATALOGUE_SCHEME:
                rules = tuple(SchematronRule(**r) for r in raw["rules"])
        except (ValueError, KeyError, TypeError):
            rules = None
    if rules is None:
        rules = extract_catalogue(sch)
        if cached is not None:
            _atomic_write(
                cached,
                json.dumps({"scheme": CATALOGUE_SCHEME, "rules": [asdict(r) for r in rules]}),
            )
    with _catalogue_lock:
        _catalogues[digest] = rules
    return rules
