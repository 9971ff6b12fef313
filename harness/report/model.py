"""The run model: the values every report projection is built from.

``report.json`` is the serialised :class:`RunReport`; HTML, JUnit, CTRF, Allure and the
attestation are projections of it. Everything here is a frozen dataclass so results can cross
process boundaries (pytest-xdist workers) as plain JSON and be rebuilt unchanged.

Roll-up follows DESIGN.md ("Requirements and verdicts"):

* check outcomes: pass, fail, error, skip, not-applicable, warning;
* a requirement FAILS if any check verifying it failed; it is INCONCLUSIVE if none failed but one
  errored, or if it is a claimed MUST with no check run;
* a profile is NON_CONFORMANT if any MUST requirement failed; else INCONCLUSIVE if any MUST
  requirement is inconclusive or a scenario saw NO_TRAFFIC; else PARTIALLY_CONFORMANT if any SHOULD
  requirement failed; else CONFORMANT.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    """Outcome of one check (one assertion about the participant)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"
    NOT_APPLICABLE = "not-applicable"
    WARNING = "warning"


class Level(str, enum.Enum):
    """RFC 2119 requirement level."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


class RequirementStatus(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTED = "not-tested"
    NOT_APPLICABLE = "not-applicable"


class Verdict(str, enum.Enum):
    """Profile verdict, ordered from best to worst (see :data:`VERDICT_ORDER`)."""

    CONFORMANT = "CONFORMANT"
    PARTIALLY_CONFORMANT = "PARTIALLY_CONFORMANT"
    INCONCLUSIVE = "INCONCLUSIVE"
    NON_CONFORMANT = "NON_CONFORMANT"


VERDICT_ORDER: tuple[Verdict, ...] = (
    Verdict.CONFORMANT,
    Verdict.PARTIALLY_CONFORMANT,
    Verdict.INCONCLUSIVE,
    Verdict.NON_CONFORMANT,
)

#: Exit codes of ``conformance run`` (DESIGN.md, "Exit codes").
EXIT_CODES: Mapping[Verdict, int] = {
    Verdict.CONFORMANT: 0,
    Verdict.PARTIALLY_CONFORMANT: 10,
    Verdict.INCONCLUSIVE: 11,
    Verdict.NON_CONFORMANT: 12,
}
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst verdict of ``verdicts`` (CONFORMANT for an empty iterable)."""
    result = Verdict.CONFORMANT
    for v in verdicts:
        if VERDICT_ORDER.index(v) > VERDICT_ORDER.index(result):
            result = v
    return result


@dataclass(frozen=True)
class Source:
    """Where a requirement comes from: document, version and clause (or rule id)."""

    document: str
    version: str
    clause: str
    url: str | None = None


@dataclass(frozen=True)
class Requirement:
    """One requirement: our own (``BIS-OUT-003``) or an official rule (``cen-ubl-1.3.16:BR-CO-15``).

    ``id`` is always the qualified id used in check results. ``profile`` says which profile's
    verdict it counts towards.
    """

    id: str
    level: Level
    source: Source
    summary: str
    profile: str
    roles: tuple[str, ...] = ()
    ruleset: str | None = None
    flag: str | None = None  # Schematron flag (fatal/error/warning) for official rules

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level.value,
            "source": {
                "document": self.source.document,
                "version": self.source.version,
                "clause": self.source.clause,
                **({"url": self.source.url} if self.source.url else {}),
            },
            "summary": self.summary,
            "profile": self.profile,
            "roles": list(self.roles),
            "ruleset": self.ruleset,
            "flag": self.flag,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Requirement:
        src = data["source"]
        return cls(
            id=data["id"],
            level=Level(data["level"]),
            source=Source(src["document"], src["version"], src["clause"], src.get("url")),
            summary=data["summary"],
            profile=data["profile"],
            roles=tuple(data.get("roles", ())),
            ruleset=data.get("ruleset"),
            flag=data.get("flag"),
        )


@dataclass(frozen=True)
class CheckResult:
    """One check: an assertion about the participant, tied to the requirements it verifies.

    ``test`` is the pytest node id of the test that made the check; ``evidence`` holds
    ``sha256:<hex>`` digests of files in the run folder's ``evidence/``; ``replay`` is a one-line
    command that re-runs exactly this case.
    """

    test: str
    requirements: tuple[str, ...]
    outcome: Outcome
    message: str = ""
    evidence: tuple[str, ...] = ()
    replay: str | None = None
    scenario: str | None = None
    no_traffic: bool = False
    location: str | None = None
    profile: str | None = None
    duration: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "test": self.test,
            "requirements": list(self.requirements),
            "outcome": self.outcome.value,
            "message": self.message,
            "evidence": list(self.evidence),
            "replay": self.replay,
        }
        for key in ("scenario", "location", "profile", "duration"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.no_traffic:
            out["no_traffic"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            test=data["test"],
            requirements=tuple(data.get("requirements", ())),
            outcome=Outcome(data["outcome"]),
            message=data.get("message", ""),
            evidence=tuple(data.get("evidence", ())),
            replay=data.get("replay"),
            scenario=data.get("scenario"),
            no_traffic=bool(data.get("no_traffic", False)),
            location=data.get("location"),
            profile=data.get("profile"),
            duration=data.get("duration"),
        )


@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: RequirementStatus
    checks: tuple[int, ...] = ()  # indexes into RunReport.checks
    reason: str | None = None  # why not tested / why inconclusive


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    roles: tuple[str, ...]
    verdict: Verdict
    requirements: tuple[RequirementResult, ...]
    no_traffic_scenarios: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # one line each: why the verdict is what it is


def requirement_status(
    req: Requirement,
    checks: Iterable[CheckResult],
    *,
    claimed: bool,
    not_tested_reason: str | None = None,
) -> tuple[RequirementStatus, str | None]:
    """Roll the checks verifying ``req`` up into its status (and a reason when not plain)."""
    outcomes = [c.outcome for c in checks]
    if Outcome.FAIL in outcomes:
        return RequirementStatus.FAILED, None
    if req.level is Level.SHOULD and Outcome.WARNING in outcomes:
        return RequirementStatus.FAILED, None
    if Outcome.ERROR in outcomes:
        return RequirementStatus.INCONCLUSIVE, "a check errored: no judgement was possible"
    run = [o for o in outcomes if o not in (Outcome.SKIP,)]
    if not run:
        if claimed and req.level is Level.MUST:
            return (
                RequirementStatus.INCONCLUSIVE,
                not_tested_reason or "claimed MUST requirement with no check run",
            )
        return RequirementStatus.NOT_TESTED, not_tested_reason or "no check run"
    if all(o is Outcome.NOT_APPLICABLE for o in run):
        return RequirementStatus.NOT_APPLICABLE, None
    return RequirementStatus.PASSED, None


def profile_verdict(
    results: Iterable[RequirementResult], *, no_traffic: Iterable[str] = ()
) -> tuple[Verdict, tuple[str, ...]]:
    """DESIGN.md roll-up from requirement results to a profile verdict, with the reasons."""
    results = list(results)
    no_traffic = list(no_traffic)
    must_failed = [
        r for r in results if r.requirement.level is Level.MUST and r.status is RequirementStatus.FAILED
    ]
    if must_failed:
        return Verdict.NON_CONFORMANT, tuple(
            f"MUST requirement {r.requirement.id} failed" for r in must_failed
        )
    reasons: list[str] = []
    must_inconclusive = [
        r
        for r in results
        if r.requirement.level is Level.MUST and r.status is RequirementStatus.INCONCLUSIVE
    ]
    reasons += [
        f"MUST requirement {r.requirement.id} inconclusive: {r.reason}" for r in must_inconclusive
    ]
    reasons += [f"scenario {s} saw no traffic (NO_TRAFFIC)" for s in no_traffic]
    if reasons:
        return Verdict.INCONCLUSIVE, tuple(reasons)
    should_failed = [
        r
        for r in results
        if r.requirement.level is Level.SHOULD and r.status is RequirementStatus.FAILED
    ]
    if should_failed:
        return Verdict.PARTIALLY_CONFORMANT, tuple(
            f"SHOULD requirement {r.requirement.id} failed" for r in should_failed
        )
    return Verdict.CONFORMANT, ()


@dataclass(frozen=True)
class ArtefactInfo:
    """One external normative file used by the run, with its provenance."""

    path: str
    sha256: str
    url: str
    provenance: str  # "official" or "third-party copy"
    version: str | None = None


@dataclass
class RunMeta:
    """Identity and environment of a run (everything needed to reproduce it)."""

    run_id: str
    started: str
    finished: str | None
    harness_version: str
    suite_digest: str
    seed: int
    participant: dict[str, Any]  # redacted participant identity (name, profiles, roles, driver kind)
    observed: dict[str, Any] = field(default_factory=dict)  # what the harness saw of the participant
    environment: dict[str, Any] = field(default_factory=dict)
    artefacts: list[ArtefactInfo] = field(default_factory=list)
    rulesets: list[dict[str, Any]] = field(default_factory=list)
    command: list[str] = field(default_factory=list)


def exit_code_for(verdict: Verdict, *, accept_partial: bool = False) -> int:
    """Exit code of ``conformance run`` for the worst verdict (``--accept-partial`` maps 10 to 0)."""
    if accept_partial and verdict is Verdict.PARTIALLY_CONFORMANT:
        return 0
    return EXIT_CODES[verdict]


# -- JSON forms of the values above (report.json is built from these) ------------------------------


def artefact_to_json(artefact: ArtefactInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": artefact.path,
        "sha256": artefact.sha256,
        "url": artefact.url,
        "provenance": artefact.provenance,
    }
    if artefact.version is not None:
        out["version"] = artefact.version
    return out


def artefact_from_json(data: Mapping[str, Any]) -> ArtefactInfo:
    return ArtefactInfo(
        path=data["path"],
        sha256=data["sha256"],
        url=data["url"],
        provenance=data["provenance"],
        version=data.get("version"),
    )


def meta_to_json(meta: RunMeta) -> dict[str, Any]:
    return {
        "run_id": meta.run_id,
        "started": meta.started,
        "finished": meta.finished,
        "harness_version": meta.harness_version,
        "suite_digest": meta.suite_digest,
        "seed": meta.seed,
        "participant": meta.participant,
        "observed": meta.observed,
        "environment": meta.environment,
        "artefacts": [artefact_to_json(a) for a in meta.artefacts],
        "rulesets": meta.rulesets,
        "command": list(meta.command),
    }


def meta_from_json(data: Mapping[str, Any]) -> RunMeta:
    return RunMeta(
        run_id=data["run_id"],
        started=data["started"],
        finished=data.get("finished"),
        harness_version=data["harness_version"],
        suite_digest=data["suite_digest"],
        seed=int(data["seed"]),
        participant=dict(data.get("participant", {})),
        observed=dict(data.get("observed", {})),
        environment=dict(data.get("environment", {})),
        artefacts=[artefact_from_json(a) for a in data.get("artefacts", [])],
        rulesets=[dict(r) for r in data.get("rulesets", [])],
        command=list(data.get("command", [])),
    )
