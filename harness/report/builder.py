"""Build the run report (``report.json``) from the check results of a run.

:func:`build_report` is the one place where check results become requirement statuses, profile
verdicts and the run's exit code (using :func:`~harness.report.model.requirement_status` and
:func:`~harness.report.model.profile_verdict`). Its output does not depend on the order the
checks arrive in, so a ``pytest -n 2`` run yields the same ``report.json`` as a serial one except
for run id, timestamps and durations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.report.errors import ReportError
from harness.report.evidence import EvidenceItem
from harness.report.model import (
    CheckResult,
    Outcome,
    ProfileResult,
    Requirement,
    RequirementResult,
    RequirementStatus,
    RunMeta,
    Verdict,
    exit_code_for,
    meta_from_json,
    meta_to_json,
    profile_verdict,
    requirement_status,
    worst,
)

SCHEMA_VERSION = "1.0"
SCHEMA_RESOURCE = "report.schema.json"

EPHEMERAL_SENTENCE = "ephemeral key: proves integrity only, not who ran it"


@dataclass(frozen=True)
class SigningInfo:
    """Who sealed the run folder: ``keyid`` is the SHA-256 fingerprint of the public key."""

    keyid: str
    ephemeral: bool

    def to_json(self) -> dict[str, Any]:
        return {"keyid": self.keyid, "ephemeral": self.ephemeral}

    # Mapping-style access, as in report.json (``report.signing["keyid"]``).
    def __getitem__(self, key: str) -> Any:
        if key in ("keyid", "ephemeral"):
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SigningInfo:
        return cls(keyid=data["keyid"], ephemeral=bool(data["ephemeral"]))


@dataclass(frozen=True)
class RunReport:
    """The whole run: the single source every projection (HTML, JUnit, CTRF, Allure, attestation)
    is made from.

    ``checks`` are in canonical order (:func:`check_sort_key`); ``RequirementResult.checks`` are
    indexes into it. ``verdict`` is the worst profile verdict and ``reasons`` says why, one line
    per reason, prefixed with the profile.
    """

    meta: RunMeta
    profiles: tuple[ProfileResult, ...]
    requirements: tuple[Requirement, ...]
    checks: tuple[CheckResult, ...]
    verdict: Verdict
    exit_code: int
    reasons: tuple[str, ...] = ()
    signing: SigningInfo | None = None
    evidence: tuple[EvidenceItem, ...] = ()
    schema_version: str = SCHEMA_VERSION
    accept_partial: bool = False
    _evidence_items: dict[str, EvidenceItem] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        items: dict[str, EvidenceItem] = {}
        for item in self.evidence:
            items.setdefault(item.digest, item)
        object.__setattr__(self, "_evidence_items", items)

    # -- queries used by the projections ---------------------------------------------------------

    def evidence_path(self, digest: str) -> str | None:
        """Run-folder-relative path of the evidence ``digest`` (None when not in the index)."""
        item = self._evidence_items.get(digest)
        return item.path if item else None

    def evidence_item(self, digest: str) -> EvidenceItem | None:
        return self._evidence_items.get(digest)

    def not_tested(self) -> list[tuple[str, RequirementResult]]:
        """(profile, result) for every requirement in scope that no check exercised (no check,
        or only skipped ones), with the reason in ``result.reason``."""
        out: list[tuple[str, RequirementResult]] = []
        for profile in self.profiles:
            for result in profile.requirements:
                ran = any(self.checks[i].outcome is not Outcome.SKIP for i in result.checks)
                if not ran and result.status in (
                    RequirementStatus.NOT_TESTED,
                    RequirementStatus.INCONCLUSIVE,
                ):
                    out.append((profile.profile, result))
        return out

    def checks_by_test(self) -> dict[str, list[CheckResult]]:
        """Checks grouped by pytest node id, in canonical order."""
        grouped: dict[str, list[CheckResult]] = {}
        for check in self.checks:
            grouped.setdefault(check.test, []).append(check)
        return grouped

    # -- JSON ---------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "verdict": self.verdict.value,
            "exit_code": self.exit_code,
            "accept_partial": self.accept_partial,
            "reasons": list(self.reasons),
            "meta": meta_to_json(self.meta),
            "signing": self.signing.to_json() if self.signing else None,
            "profiles": [_profile_to_json(p) for p in self.profiles],
            "requirements": [r.to_json() for r in self.requirements],
            "checks": [c.to_json() for c in self.checks],
            "evidence": [e.to_json() for e in self.evidence],
        }

    def dumps(self) -> str:
        """Canonical text of ``report.json`` (stable key order, UTF-8, trailing newline)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunReport:
        version = data.get("schema_version")
        if not isinstance(version, str) or version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ReportError(
                f"report schema version {version!r} is not supported by this harness (it reads"
                f" {SCHEMA_VERSION.split('.')[0]}.x): use the harness version that wrote it"
            )
        requirements = tuple(Requirement.from_json(r) for r in data["requirements"])
        catalogue = {(r.profile, r.id): r for r in requirements}
        profiles = tuple(_profile_from_json(p, catalogue) for p in data["profiles"])
        signing = data.get("signing")
        return cls(
            meta=meta_from_json(data["meta"]),
            profiles=profiles,
            requirements=requirements,
            checks=tuple(CheckResult.from_json(c) for c in data["checks"]),
            verdict=Verdict(data["verdict"]),
            exit_code=int(data["exit_code"]),
            reasons=tuple(data.get("reasons", ())),
            signing=SigningInfo.from_json(signing) if signing else None,
            evidence=tuple(EvidenceItem.from_json(e) for e in data.get("evidence", ())),
            schema_version=version,
            accept_partial=bool(data.get("accept_partial", False)),
        )

    @classmethod
    def loads(cls, text: str | bytes) -> RunReport:
        return cls.from_json(json.loads(text))


def _profile_to_json(profile: ProfileResult) -> dict[str, Any]:
    return {
        "profile": profile.profile,
        "roles": list(profile.roles),
        "verdict": profile.verdict.value,
        "reasons": list(profile.reasons),
        "no_traffic_scenarios": list(profile.no_traffic_scenarios),
        "requirements": [
            {
                "id": r.requirement.id,
                "status": r.status.value,
                "checks": list(r.checks),
                "reason": r.reason,
            }
            for r in profile.requirements
        ],
    }


def _profile_from_json(
    data: Mapping[str, Any], catalogue: Mapping[tuple[str, str], Requirement]
) -> ProfileResult:
    results: list[RequirementResult] = []
    for r in data["requirements"]:
        key = (data["profile"], r["id"])
        if key not in catalogue:
            raise ReportError(
                f"report lists requirement {r['id']} under profile {data['profile']} but its"
                " catalogue has no such requirement: the report is damaged"
            )
        results.append(
            RequirementResult(
                requirement=catalogue[key],
                status=RequirementStatus(r["status"]),
                checks=tuple(r.get("checks", ())),
                reason=r.get("reason"),
            )
        )
    return ProfileResult(
        profile=data["profile"],
        roles=tuple(data.get("roles", ())),
        verdict=Verdict(data["verdict"]),
        requirements=tuple(results),
        no_traffic_scenarios=tuple(data.get("no_traffic_scenarios", ())),
        reasons=tuple(data.get("reasons", ())),
    )


def check_sort_key(check: CheckResult) -> tuple[Any, ...]:
    """Canonical order of checks: test id, requirements, location, message, then the rest.

    Everything that identifies a check goes in, duration does not (it varies run to run).
    """
    return (
        check.test,
        tuple(check.requirements),
        check.location or "",
        check.message,
        check.outcome.value,
        check.scenario or "",
        check.profile or "",
        tuple(check.evidence),
        check.replay or "",
        check.no_traffic,
    )


def build_report(
    meta: RunMeta,
    requirements: Sequence[Requirement],
    claimed: Mapping[str, Sequence[str]],
    checks: Sequence[CheckResult],
    not_tested: Mapping[str, str] | None = None,
    no_traffic: Mapping[str, Sequence[str]] | None = None,
    *,
    evidence: Iterable[EvidenceItem] = (),
    signing: SigningInfo | None = None,
    accept_partial: bool = False,
) -> RunReport:
    """Roll ``checks`` up into requirement statuses, profile verdicts and the run verdict.

    ``claimed`` maps each profile the participant claims to its claimed roles; only claimed
    profiles get a verdict. A requirement is in a profile's scope when its ``roles`` are empty
    or share a role with the claim, or when some check verified it anyway. ``not_tested`` gives
    the reason a requirement was not exercised (shown in the scope section); ``no_traffic``
    lists, per profile, the scenarios that saw no traffic (checks flagged ``no_traffic`` are
    added automatically).

    Beyond DESIGN.md's roll-up, two situations are never a pass: a claimed profile in which no
    check ran at all is INCONCLUSIVE, and a check citing a requirement id missing from the
    catalogue makes its profile INCONCLUSIVE (the id is reported so the marker can be fixed).
    A run that claims no profile is INCONCLUSIVE.
    """
    not_tested = dict(not_tested or {})
    silent: dict[str, list[str]] = {k: list(v) for k, v in (no_traffic or {}).items()}
    catalogue: dict[tuple[str, str], Requirement] = {}
    for req in requirements:
        catalogue.setdefault((req.profile, req.id), req)
    by_id: dict[str, list[Requirement]] = {}
    for req in catalogue.values():
        by_id.setdefault(req.id, []).append(req)

    ordered = tuple(sorted(checks, key=check_sort_key))
    claimed_profiles = sorted(claimed)

    def check_profiles(check: CheckResult) -> list[str]:
        if check.profile:
            return [check.profile]
        found = sorted({r.profile for rid in check.requirements for r in by_id.get(rid, [])})
        return found or claimed_profiles

    # Which checks verify which (profile, requirement id); unknown ids per profile.
    verifying: dict[tuple[str, str], list[int]] = {}
    unknown: dict[str, set[str]] = {}
    ran_in_profile: dict[str, int] = {}
    for index, check in enumerate(ordered):
        for profile in check_profiles(check):
            if check.outcome is not Outcome.SKIP:
                ran_in_profile[profile] = ran_in_profile.get(profile, 0) + 1
            if check.no_traffic:
                silent.setdefault(profile, []).append(check.scenario or check.test)
            for rid in check.requirements:
                if (profile, rid) in catalogue:
                    verifying.setdefault((profile, rid), []).append(index)
                else:
                    unknown.setdefault(profile, set()).add(rid)

    profile_results: list[ProfileResult] = []
    for profile in claimed_profiles:
        roles = tuple(claimed[profile])
        reqs = sorted(
            (
                r
                for r in catalogue.values()
                if r.profile == profile
                and (not r.roles or set(r.roles) & set(roles) or (profile, r.id) in verifying)
            ),
            key=lambda r: r.id,
        )
        results: list[RequirementResult] = []
        for req in reqs:
            indexes = tuple(verifying.get((profile, req.id), ()))
            in_claim = not req.roles or bool(set(req.roles) & set(roles))
            status, reason = requirement_status(
                req,
                (ordered[i] for i in indexes),
                claimed=in_claim,
                not_tested_reason=not_tested.get(req.id),
            )
            results.append(RequirementResult(req, status, indexes, reason))
        scenarios = tuple(sorted(set(silent.get(profile, ()))))
        verdict, reasons = profile_verdict(results, no_traffic=scenarios)
        extra: list[str] = []
        if ran_in_profile.get(profile, 0) == 0:
            extra.append(f"no check ran for profile {profile}: nothing was judged")
        for rid in sorted(unknown.get(profile, ())):
            extra.append(
                f"a check cites requirement {rid}, which is not in the {profile} catalogue"
                " (fix the test's requirement marker or add the requirement)"
            )
        if extra and verdict in (Verdict.CONFORMANT, Verdict.PARTIALLY_CONFORMANT):
            verdict, reasons = Verdict.INCONCLUSIVE, tuple(extra)
        elif extra and verdict is Verdict.INCONCLUSIVE:
            reasons = tuple(reasons) + tuple(extra)
        profile_results.append(
            ProfileResult(
                profile=profile,
                roles=roles,
                verdict=verdict,
                requirements=tuple(results),
                no_traffic_scenarios=scenarios,
                reasons=tuple(reasons),
            )
        )

    if profile_results:
        overall = worst(p.verdict for p in profile_results)
        overall_reasons = tuple(
            f"{p.profile}: {reason}"
            for p in profile_results
            if p.verdict is overall
            for reason in p.reasons
        )
    else:
        overall = Verdict.INCONCLUSIVE
        overall_reasons = ("the participant claims no profile: nothing was certified",)

    return RunReport(
        meta=meta,
        profiles=tuple(profile_results),
        requirements=tuple(sorted(catalogue.values(), key=lambda r: (r.profile, r.id))),
        checks=ordered,
        verdict=overall,
        exit_code=exit_code_for(overall, accept_partial=accept_partial),
        reasons=overall_reasons,
        signing=signing,
        evidence=tuple(sorted(evidence, key=lambda e: (e.digest, e.path))),
        accept_partial=accept_partial,
    )


def with_evidence(report: RunReport, evidence: Iterable[EvidenceItem]) -> RunReport:
    """``report`` with its evidence list replaced (sorted), e.g. from ``evidence/index.json``."""
    return replace(report, evidence=tuple(sorted(evidence, key=lambda e: (e.digest, e.path))))


def load_report(path: Path) -> RunReport:
    """Read ``report.json`` (a file, or a run folder containing one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path} does not exist: pass a run folder or its report.json") from None
    try:
        return RunReport.loads(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(
            f"{path} is not a valid report.json ({type(exc).__name__}: {exc}); validate it"
            " against harness/data/report.schema.json"
        ) from exc


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``report.json`` shipped with the package."""
    from importlib import resources

    text = resources.files("harness").joinpath("data", SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_report_json(document: Mapping[str, Any]) -> list[str]:
    """Schema errors of a ``report.json`` document, one line each (empty when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


__all__ = [
    "EPHEMERAL_SENTENCE",
    "SCHEMA_VERSION",
    "RunReport",
    "SigningInfo",
    "build_report",
    "check_sort_key",
    "load_report",
    "report_schema",
    "validate_report_json",
    "with_evidence",
]
