"""The official VEFA-format unit tests of Peppol BIS Billing 3.0 and CEN EN 16931 (pytest-free).

OpenPeppol and CEN TC 434 ship their Schematron unit tests as *test sets* in the VEFA validator
format (namespace ``http://difi.no/xsd/vefa/validator/1.0``)::

    <testSet configuration="tc434-ubl">
      <assert><scope>BR-01</scope></assert>          <!-- applies to every test -->
      <test>
        <assert><description>...</description><error>BR-01</error></assert>
        <Invoice xmlns="urn:oasis:...:Invoice-2">...</Invoice>   <!-- exactly one document -->
      </test>
    </testSet>

This module reads them (:func:`parse_test_set`, :func:`load_test_set`, :func:`official_corpus`),
says which of our rule sets a ``configuration`` runs (:func:`rulesets_for_configuration`), judges
one validation of a case against its expectations (:func:`evaluate`), and lists every rule that
some official test makes fire (:func:`negative_ids`): the official half of generated coverage,
since a requirement counts as covered only when some test can make it fail.

Semantics (issue 2, part 11; VEFA's own ``AbstractExpectation`` is the model):

* the test set's ``<assert>`` children apply to each of its tests, in addition to the test's own;
* ``scope`` limits which rule ids count: with a scope only those ids are judged, otherwise the
  ids named in the expectations are;
* ``success`` -- the rule must not fire at all;
* ``error`` / ``fatal`` -- the rule must fire at error level (flag ``error`` or ``fatal``) exactly
  ``number`` times (default 1);
* ``warning`` -- the rule must fire at warning level exactly ``number`` times;
* any other error-level firing of an id that counts fails the test.

An expectation naming an id outside the scope is handled as VEFA does: VEFA drops every firing of
an out-of-scope id before judging, so a ``success`` there is trivially met and a firing
expectation there can never be met (reported as a problem).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from harness.errors import ArtefactError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from harness.artefacts.store import ArtefactStore

VEFA_NS = "http://difi.no/xsd/vefa/validator/1.0"
_NS = "{" + VEFA_NS + "}"

ExpectationKind = Literal["success", "error", "fatal", "warning"]
_KINDS: tuple[ExpectationKind, ...] = ("success", "error", "fatal", "warning")
#: flags of a fired assert that count as "error level"
ERROR_LEVEL_FLAGS = frozenset({"fatal", "error"})
WARNING_LEVEL_FLAGS = frozenset({"warning"})

#: Where the official unit tests live in the artefact mirror (keys relative to its root).
#: ``prefix`` selects the files in the artefact lock; counts are what upstream ships, so a file
#: silently dropped (or a stray one added) by a sync or a parser change is noticed.
BIS_3_0_19_UNIT_PREFIX = "peppol/bis-billing-3.0.19/rules/unit-"
CEN_1_3_16_UNIT_PREFIXES = (
    "cen/en16931-1.3.16/test/Invoice-unit-UBL/",
    "cen/en16931-1.3.16/test/CreditNote-unit-UBL/",
    "cen/en16931-1.3.16/test/cii/",
)


class VefaFormatError(ArtefactError):
    """A VEFA test file cannot be read as a test set (or names something we cannot run)."""


class FiredAssert(Protocol):
    """What :func:`evaluate` needs of a failed assert (``harness.peppol.validation.FailedAssert``)."""

    @property
    def id(self) -> str: ...

    @property
    def flag(self) -> str: ...


@dataclass(frozen=True)
class Expectation:
    """One ``<success>``/``<error>``/``<fatal>``/``<warning>`` line of an ``<assert>``."""

    kind: ExpectationKind
    rule_id: str
    number: int = 1

    @property
    def fires(self) -> bool:
        """True when the rule is expected to fire (every kind but ``success``)."""
        return self.kind != "success"

    def __str__(self) -> str:
        if self.kind == "success":
            return f"success {self.rule_id}"
        return f"{self.kind} {self.rule_id} x{self.number}"


@dataclass(frozen=True)
class TestCase:
    """One ``<test>`` with the expectations of its test set merged in.

    ``index`` is 1-based, in document order (VEFA's default test id); ``label`` is the test's own
    ``id`` attribute when it has one. ``document`` is the test's single document element,
    serialised as a standalone UTF-8 XML document that declares every namespace in scope.
    """

    __test__ = False  # not a pytest test class

    path: str
    index: int
    label: str | None
    description: str
    scope: tuple[str, ...]
    expectations: tuple[Expectation, ...]
    document: bytes

    @property
    def ref(self) -> str:
        """``<test-set path>#<index>``: how reports and coverage cite this case."""
        return f"{self.path}#{self.index}"

    @property
    def counted_ids(self) -> frozenset[str]:
        """The rule ids this case judges: its scope, or else the ids it names."""
        if self.scope:
            return frozenset(self.scope)
        return frozenset(e.rule_id for e in self.expectations)


@dataclass(frozen=True)
class TestSet:
    """One VEFA test file: its ``configuration`` and its cases, in document order."""

    __test__ = False  # not a pytest test class

    path: str
    configuration: str
    cases: tuple[TestCase, ...]

    @property
    def rulesets(self) -> tuple[str, ...]:
        """Our rule-set ids that the configuration runs (see :func:`rulesets_for_configuration`)."""
        return rulesets_for_configuration(self.configuration)


# -- configurations ------------------------------------------------------------------------------

#: VEFA configuration identifiers -> our rule-set ids. The ``peppolbis-*`` identifiers are those
#: of ``peppol/bis-billing-3.0.19/rules/buildconfig.xml``: Profile 01 inherits the CEN rules
#: bundled with that release (1.3.14.1) and the Peppol rules, ``base`` is the Peppol rules alone,
#: ``cen`` the bundled CEN rules alone. ``tc434-*`` is the CEN 1.3.16 repository's own test
#: configuration (its Schematron alone). Profile 01 also inherits the UBL schema in VEFA; the
#: unit tests never judge schema errors (every test set is scoped to Schematron ids), so the
#: schema is not run here -- ask for ``xsd-ubl-2.1`` yourself to see it.
_CONFIGURATIONS: Mapping[str, tuple[str, ...]] = {
    "peppolbis-en16931-base-3.0-ubl": ("peppol-ubl-3.0.19",),
    "peppolbis-en16931-base-3.0-cii": ("peppol-cii-3.0.19",),
    "peppolbis-en16931-cen-ubl": ("cen-ubl-1.3.14.1",),
    "peppolbis-en16931-cen-cii": ("cen-cii-1.3.14.1",),
    "peppolbis-en16931-01-3.0-cii": ("cen-cii-1.3.14.1", "peppol-cii-3.0.19"),
    "tc434-ubl": ("cen-ubl-1.3.16",),
    "tc434-cii": ("cen-cii-1.3.16",),
}
#: Profile 01 for UBL has one configuration per document type (``-invoice``, ``-creditnote``).
_PROFILE_01_UBL_PREFIX = "peppolbis-en16931-01-3.0-ubl-"


def rulesets_for_configuration(configuration: str) -> tuple[str, ...]:
    """The rule-set ids a VEFA ``configuration`` runs, in the order they are applied.

    Raises :class:`VefaFormatError` for an identifier no shipped test set uses.
    """
    if configuration in _CONFIGURATIONS:
        return _CONFIGURATIONS[configuration]
    if configuration.startswith(_PROFILE_01_UBL_PREFIX):
        return ("cen-ubl-1.3.14.1", "peppol-ubl-3.0.19")
    known = ", ".join(sorted(_CONFIGURATIONS) + [_PROFILE_01_UBL_PREFIX + "*"])
    raise VefaFormatError(
        f"unknown VEFA test configuration {configuration!r}; known: {known}. "
        "Map it in harness.peppol.vefa._CONFIGURATIONS after checking the buildconfig.xml "
        "of the release that ships the test."
    )


# -- parsing -------------------------------------------------------------------------------------


def _parser() -> object:
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False
    )


def _assert_lines(assert_el: object, where: str) -> tuple[str | None, list[str], list[Expectation]]:
    """(description, scope ids, expectations) of one ``<assert>`` element."""
    from lxml import etree

    description: str | None = None
    scope: list[str] = []
    expectations: list[Expectation] = []
    for child in assert_el:  # type: ignore[attr-defined]
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(child).localname
        text = " ".join((child.text or "").split())
        if name == "description":
            description = text
        elif name == "scope":
            if text:
                scope.append(text)
        elif name in _KINDS:
            if not text:
                raise VefaFormatError(f"{where}: empty <{name}> in <assert>")
            raw_number = child.get("number")
            try:
                number = 1 if raw_number is None else int(raw_number)
            except ValueError:
                raise VefaFormatError(
                    f"{where}: <{name} number={raw_number!r}> is not an integer"
                ) from None
            if number < 1:
                raise VefaFormatError(f"{where}: <{name} number={raw_number!r}> must be >= 1")
            expectations.append(Expectation(name, text, number))  # type: ignore[arg-type]
        else:
            raise VefaFormatError(f"{where}: unknown element <{name}> in <assert>")
    return description, scope, expectations


def _merge(
    own: Sequence[Expectation], inherited: Sequence[Expectation], where: str
) -> tuple[Expectation, ...]:
    """The test's expectations followed by its set's; one expectation per rule id.

    VEFA keeps one count per (kind, id), and a ``success`` overrides any firing expectation of the
    same id, which makes such a test impossible to pass; a file that says two things about one id
    is therefore refused rather than guessed at.
    """
    seen: dict[str, Expectation] = {}
    for exp in (*own, *inherited):
        prior = seen.get(exp.rule_id)
        if prior is not None:
            raise VefaFormatError(
                f"{where}: rule {exp.rule_id} has two expectations ({prior}; {exp}); "
                "a test may say one thing per rule"
            )
        seen[exp.rule_id] = exp
    return tuple(seen.values())


def _standalone(element: object) -> bytes:
    """``element`` as its own document; lxml declares every in-scope namespace on the root."""
    from lxml import etree

    return etree.tostring(element, encoding="UTF-8", xml_declaration=True, with_tail=False)


def parse_test_set(data: bytes, *, path: str) -> TestSet:
    """Parse the bytes of one VEFA test file; ``path`` names it in refs and error messages."""
    from lxml import etree

    try:
        root = etree.fromstring(data, _parser())  # type: ignore[call-overload]
    except etree.XMLSyntaxError as exc:
        raise VefaFormatError(f"{path}: not well-formed XML ({exc})") from None
    if root.tag != _NS + "testSet":
        raise VefaFormatError(
            f"{path}: root element is {root.tag}, expected {{{VEFA_NS}}}testSet (a VEFA test set)"
        )
    configuration = root.get("configuration")
    if not configuration:
        raise VefaFormatError(f"{path}: <testSet> has no configuration attribute")
    rulesets_for_configuration(configuration)  # refuse unknown configurations up front

    set_description: str | None = None
    set_scope: list[str] = []
    set_expectations: list[Expectation] = []
    set_asserts = root.findall(_NS + "assert")
    if len(set_asserts) > 1:
        raise VefaFormatError(f"{path}: <testSet> has {len(set_asserts)} <assert> elements")
    if set_asserts:
        set_description, set_scope, set_expectations = _assert_lines(set_asserts[0], path)

    cases: list[TestCase] = []
    for index, test in enumerate(root.findall(_NS + "test"), start=1):
        where = f"{path}#{index}"
        asserts = test.findall(_NS + "assert")
        if len(asserts) > 1:
            raise VefaFormatError(f"{where}: <test> has {len(asserts)} <assert> elements")
        description, scope, own = _assert_lines(asserts[0], where) if asserts else (None, [], [])
        documents = [c for c in test if isinstance(c.tag, str) and c.tag != _NS + "assert"]
        if len(documents) != 1:
            raise VefaFormatError(
                f"{where}: <test> must hold exactly one document element, found {len(documents)}"
            )
        cases.append(
            TestCase(
                path=path,
                index=index,
                label=test.get("id"),
                description=description or set_description or "",
                scope=tuple(dict.fromkeys([*scope, *set_scope])),
                expectations=_merge(own, set_expectations, where),
                document=_standalone(documents[0]),
            )
        )
    return TestSet(path=path, configuration=configuration, cases=tuple(cases))


def load_test_set(file: Path, *, path: str | None = None) -> TestSet:
    """Read and parse a VEFA test file from disk (``path`` defaults to the file name)."""
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise VefaFormatError(f"cannot read VEFA test file {file}: {exc.strerror}") from None
    return parse_test_set(data, path=path or str(file))


# -- the official corpus -------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """A named group of official test files (the keys are artefact-store keys)."""

    name: str
    keys: tuple[str, ...]


def official_corpora(store: ArtefactStore | None = None) -> tuple[Corpus, ...]:
    """The official unit-test corpora pinned in the artefact lock, files sorted by key.

    BIS 3.0.19: every file under ``rules/unit-*`` (upstream has one named ``*.xm``; it is a test
    set like the others and is included). CEN 1.3.16: ``test/*-unit-UBL`` and ``test/cii``.
    """
    store = _store(store)
    bis = tuple(sorted(store.keys(BIS_3_0_19_UNIT_PREFIX)))
    cen = tuple(sorted(k for p in CEN_1_3_16_UNIT_PREFIXES for k in store.keys(p)))
    return (Corpus("bis-3.0.19", bis), Corpus("cen-1.3.16", cen))


def _store(store: ArtefactStore | None) -> ArtefactStore:
    if store is not None:
        return store
    from harness.artefacts.store import ArtefactStore

    return ArtefactStore.default()


def load_corpus(corpus: Corpus, store: ArtefactStore | None = None) -> tuple[TestSet, ...]:
    """Parse every file of ``corpus`` through the artefact store (SHA-256 verified)."""
    store = _store(store)
    return tuple(load_test_set(store.path(key), path=key) for key in corpus.keys)


@lru_cache(maxsize=1)
def official_corpus() -> tuple[TestSet, ...]:
    """Every official unit test set (BIS 3.0.19 then CEN 1.3.16), read once per process."""
    return tuple(ts for corpus in official_corpora() for ts in load_corpus(corpus))


# -- judging -------------------------------------------------------------------------------------


def _plural(n: int) -> str:
    return "1 time" if n == 1 else f"{n} times"


def evaluate(case: TestCase, failed_asserts: Iterable[FiredAssert]) -> list[str]:
    """Problems of one validation of ``case.document`` judged by VEFA semantics; [] = pass.

    ``failed_asserts`` are the asserts that fired when the rule sets of the case's configuration
    were applied (``ValidationResult.failed_asserts``). Every problem names the rule, what the
    test expects and what fired.
    """
    errors: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for fired in failed_asserts:
        if fired.flag in ERROR_LEVEL_FLAGS:
            errors[fired.id] += 1
        elif fired.flag in WARNING_LEVEL_FLAGS:
            warnings[fired.id] += 1

    scope = frozenset(case.scope)
    counted = case.counted_ids
    problems: list[str] = []
    judged_error_level: set[str] = set()
    for exp in case.expectations:
        rid = exp.rule_id
        if scope and rid not in scope:
            if exp.fires:
                problems.append(
                    f"{rid}: expected to fire ({exp}) but is outside the test's scope "
                    f"({', '.join(case.scope)}), so it can never be matched"
                )
            continue
        judged_error_level.add(rid)
        if exp.kind == "success":
            if errors[rid] or warnings[rid]:
                problems.append(
                    f"{rid}: must not fire, but fired {_plural(errors[rid])} at error level "
                    f"and {_plural(warnings[rid])} at warning level"
                )
        elif exp.kind in ("error", "fatal"):
            if errors[rid] != exp.number:
                problems.append(
                    f"{rid}: expected to fire at error level {_plural(exp.number)} ({exp.kind}), "
                    f"fired {_plural(errors[rid])}"
                )
        else:  # warning
            if warnings[rid] != exp.number:
                problems.append(
                    f"{rid}: expected to fire at warning level {_plural(exp.number)}, "
                    f"fired {_plural(warnings[rid])}"
                )
            if errors[rid]:
                problems.append(
                    f"{rid}: expected at warning level only, but fired "
                    f"{_plural(errors[rid])} at error level"
                )
    for rid in sorted(counted - judged_error_level):
        if errors[rid]:
            problems.append(f"{rid}: fired {_plural(errors[rid])} at error level, not expected")
    return problems


# -- coverage ------------------------------------------------------------------------------------


def _catalogue_ids(ruleset_id: str) -> frozenset[str]:
    from harness.peppol.rulesets import rule_catalogue

    return frozenset(rule.id for rule in rule_catalogue(ruleset_id))


def negative_ids(
    corpus: Iterable[TestSet] | None = None,
    *,
    catalogue: Callable[[str], Iterable[str]] | None = None,
) -> dict[str, list[str]]:
    """Qualified rule id -> refs (``<key>#<index>``) of official tests that expect it to FIRE.

    This is the official-test source of generated coverage: a rule counts as covered only when a
    test makes it fire. An id is qualified by the rule set(s) of the test's configuration whose
    catalogue (``harness.peppol.rulesets.rule_catalogue``, or ``catalogue``) contains it; an id no
    rule set of the configuration contains credits nothing (such a test cannot pass, and
    ``tests/official`` says so). Out-of-scope firing expectations credit nothing either.
    ``corpus`` defaults to :func:`official_corpus`.
    """
    sets = official_corpus() if corpus is None else tuple(corpus)
    lookup: Callable[[str], Iterable[str]] = catalogue or _catalogue_ids
    ids_of: dict[str, frozenset[str]] = {}
    out: dict[str, list[str]] = {}
    for test_set in sets:
        rulesets = rulesets_for_configuration(test_set.configuration)
        for ruleset_id in rulesets:
            if ruleset_id not in ids_of:
                ids_of[ruleset_id] = frozenset(lookup(ruleset_id))
        for case in test_set.cases:
            for exp in case.expectations:
                if not exp.fires or (case.scope and exp.rule_id not in case.scope):
                    continue
                for ruleset_id in rulesets:
                    if exp.rule_id in ids_of[ruleset_id]:
                        out.setdefault(f"{ruleset_id}:{exp.rule_id}", []).append(case.ref)
    return out


# -- replay on the CEN copy bundled with Peppol BIS 3.0.19 ----------------------------------------

#: CEN's own unit tests (1.3.16) replayed on the CEN copy Peppol BIS 3.0.19 bundles (1.3.14.1):
#: no official test targets that copy, yet it is what a Peppol BIS participant is judged by.
REPLAY_TARGETS: Mapping[str, str] = {
    "cen-ubl-1.3.16": "cen-ubl-1.3.14.1",
    "cen-cii-1.3.16": "cen-cii-1.3.14.1",
}


@dataclass(frozen=True)
class ReplayOutcome:
    """One official CEN 1.3.16 case judged against the bundled 1.3.14.1 copy."""

    __test__ = False

    case: TestCase
    ruleset: str
    problems: tuple[str, ...]


def replay_on_bundled_cen(validator: Any = None) -> tuple[ReplayOutcome, ...]:
    """Judge every CEN 1.3.16 unit test with the same expectations against the 1.3.14.1 copy.

    Cases whose expectation still holds are negative cases for the bundled copy too; the others
    show where the two releases differ (``tests/official`` pins them).
    """
    from harness.peppol.validation import get_validator

    validator = validator or get_validator()
    out: list[ReplayOutcome] = []
    for test_set in official_corpus():
        if len(test_set.rulesets) != 1 or test_set.rulesets[0] not in REPLAY_TARGETS:
            continue
        target = REPLAY_TARGETS[test_set.rulesets[0]]
        for case in test_set.cases:
            result = validator.validate(case.document, name=case.ref, rulesets=[target])
            problems = (
                (f"not validated: {result.error}",)
                if result.error
                else tuple(evaluate(case, result.failed_asserts))
            )
            out.append(ReplayOutcome(case, target, problems))
    return tuple(out)


def replayed_negative_ids(
    outcomes: Iterable[ReplayOutcome] | None = None,
) -> dict[str, list[str]]:
    """Qualified id (on the bundled copy) -> refs of replayed cases that make it fire there."""
    outcomes = replay_on_bundled_cen() if outcomes is None else outcomes
    out: dict[str, list[str]] = {}
    ids_of: dict[str, frozenset[str]] = {}
    for o in outcomes:
        if o.problems:
            continue
        if o.ruleset not in ids_of:
            ids_of[o.ruleset] = _catalogue_ids(o.ruleset)
        for exp in o.case.expectations:
            if exp.fires and (not o.case.scope or exp.rule_id in o.case.scope) and exp.rule_id in ids_of[o.ruleset]:
                out.setdefault(f"{o.ruleset}:{exp.rule_id}", []).append(f"replay:{o.case.ref}")
    return out
