"""Generated requirement coverage (never hand-written).

DESIGN.md: a requirement counts as covered only when some test can make it fail, i.e. a
negative case shows it firing. The negative cases are read from their sources:

* our own requirements: the known-bad variants of the reference participant that declare them
  (``tests/integration`` runs each variant and asserts it fails exactly its declared set);
* profile peppol-smp: the known-bad variants of the reference SMP and lookup participant
  (``harness.reference.smp_variants``; ``tests/integration/test_smp_self_certification.py``
  runs each one and asserts it fails exactly its declared set); a requirement no variant can
  make fail is listed with the reason in :data:`UNCOVERED_REASONS`;
* official rules: the official VEFA unit tests that expect the rule to fire (run as our tests in
  ``tests/official``; CEN 1.3.16's cases also replayed on the CEN copy bundled with BIS 3.0.19),
  and the mutations of ``harness.peppol.mutations`` that declare it
  (checked by the campaign and the mutation tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.report.model import Requirement

#: rule sets whose coverage is reported when none are named: those of the reference participant
DEFAULT_RULESETS: dict[str, tuple[str, ...]] = {
    "peppol-bis": ("peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1"),
}


#: Why a requirement has no negative case yet (shown next to it in the coverage listing), by
#: profile. Empty today: every own requirement of peppol-smp has a known-bad variant.
UNCOVERED_REASONS: dict[str, dict[str, str]] = {"peppol-smp": {}}


@dataclass(frozen=True)
class CoverageRow:
    requirement: Requirement
    covered_by: tuple[str, ...]
    #: Why nothing covers it (when known).
    reason: str | None = None

    @property
    def covered(self) -> bool:
        return bool(self.covered_by)


@dataclass(frozen=True)
class CoverageReport:
    profile: str
    rulesets: tuple[str, ...]
    rows: tuple[CoverageRow, ...]

    def summary(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for row in self.rows:
            group = row.requirement.ruleset or "own"
            bucket = out.setdefault(group, {"requirements": 0, "covered": 0})
            bucket["requirements"] += 1
            bucket["covered"] += int(row.covered)
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "rulesets": list(self.rulesets),
            "summary": self.summary(),
            "requirements": [
                {
                    "id": r.requirement.id,
                    "level": r.requirement.level.value,
                    "summary": r.requirement.summary,
                    "covered": r.covered,
                    "covered_by": list(r.covered_by),
                    **({"uncovered_reason": r.reason} if r.reason and not r.covered else {}),
                }
                for r in self.rows
            ],
        }


def negative_cases(profile_id: str, rulesets: Sequence[str]) -> dict[str, list[str]]:
    """Qualified requirement id -> the negative cases that make it fire."""
    from harness.peppol import rulesets as rs

    cases: dict[str, list[str]] = {}
    if profile_id == "peppol-smp":
        from harness.reference.smp_variants import LOOKUP_VARIANTS, SMP_VARIANTS

        for smp_variant in (*SMP_VARIANTS.values(), *LOOKUP_VARIANTS.values()):
            for rid in smp_variant.declared:
                cases.setdefault(rid, []).append(f"variant:{smp_variant.name}")
        return cases
    expanded = set(rs.expand(list(rulesets)))
    if profile_id == "peppol-bis":
        from harness.peppol.mutations import all_mutations
        from harness.reference.peppol_variants import VARIANTS

        for variant in VARIANTS.values():
            for rid in variant.declared:
                cases.setdefault(rid, []).append(f"variant:{variant.name}")
        for mutation in all_mutations():
            for rid in mutation.declared:
                if rid.split(":", 1)[0] in expanded:
                    cases.setdefault(rid, []).append(f"mutation:{mutation.id}")
        from harness.peppol.vefa import negative_ids, replayed_negative_ids

        for rid, refs in negative_ids().items():
            if rid.split(":", 1)[0] in expanded:
                cases.setdefault(rid, []).extend(f"official-test:{ref}" for ref in refs)
        for rid, refs in replayed_negative_ids().items():
            if rid.split(":", 1)[0] in expanded:
                cases.setdefault(rid, []).extend(f"official-test:{ref}" for ref in refs)
    return cases


def coverage(profile_id: str, rulesets: Sequence[str] | None = None) -> CoverageReport:
    from harness.requirements import catalogue

    chosen = tuple(rulesets or DEFAULT_RULESETS.get(profile_id, ()))
    reqs = catalogue(profile_id, chosen)
    cases = negative_cases(profile_id, chosen)
    reasons = UNCOVERED_REASONS.get(profile_id, {})
    rows = tuple(
        CoverageRow(r, tuple(sorted(set(cases.get(r.id, [])))), reasons.get(r.id)) for r in reqs
    )
    return CoverageReport(profile_id, chosen, rows)
