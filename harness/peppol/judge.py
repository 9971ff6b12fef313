"""Turn validation results into checks: one check per applied Schematron assert (pytest-free).

DESIGN.md: each applied assert is its own check: fired -> fail; its rule context fired and the
assert held -> pass; context never fired -> not-applicable. A fired ``warning`` assert is a
SHOULD-level finding (outcome ``warning``). XSD failures are checks of ``xsd-ubl-2.1:XSD``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.report.model import Outcome


@dataclass(frozen=True)
class Judgement:
    """One check derived from a validation: requirement id, outcome, message, location."""

    requirement: str
    outcome: Outcome
    message: str
    location: str | None = None


def judge_validation(result: object, *, document_label: str) -> list[Judgement]:
    """Checks for every assert of every rule set applied in ``result`` (a ValidationResult)."""
    out: list[Judgement] = []
    failed_by_key: dict[tuple[str, str], list[object]] = {}
    for fa in result.failed_asserts:  # type: ignore[attr-defined]
        failed_by_key.setdefault((fa.ruleset, fa.id), []).append(fa)
    seen: set[tuple[str, str]] = set()
    for chk in result.checks:  # type: ignore[attr-defined]
        key = (chk.ruleset, chk.id)
        if key in seen:
            continue
        seen.add(key)
        qid = f"{chk.ruleset}:{chk.id}"
        if chk.outcome == "fail":
            fired = failed_by_key.get(key, [])
            first = fired[0] if fired else None
            text = getattr(first, "text", "") if first else ""
            where = getattr(first, "location", None) if first else None
            more = f" (fired {len(fired)} times)" if len(fired) > 1 else ""
            outcome = Outcome.WARNING if chk.flag == "warning" else Outcome.FAIL
            out.append(
                Judgement(qid, outcome, f"{chk.id} [{chk.flag}] fired in {document_label}{more}: {text}", where)
            )
        elif chk.outcome == "pass":
            out.append(Judgement(qid, Outcome.PASS, ""))
        else:
            out.append(Judgement(qid, Outcome.NOT_APPLICABLE, "rule context not present in the document"))
    # Fired asserts that have no catalogue check (XSD, or an assert outside the catalogue).
    for (ruleset, rid), fired in failed_by_key.items():
        if (ruleset, rid) in seen:
            continue
        first = fired[0]
        outcome = Outcome.WARNING if getattr(first, "flag", "") == "warning" else Outcome.FAIL
        out.append(
            Judgement(
                f"{ruleset}:{rid}",
                outcome,
                f"{rid} [{first.flag}] fired in {document_label}: {first.text}",  # type: ignore[attr-defined]
                first.location,  # type: ignore[attr-defined]
            )
        )
    return out


def rule_ids_named(rule_ids: Iterable[str]) -> set[str]:
    """Normalise rule ids a participant names (qualified or not) to bare ids for comparison."""
    return {r.rsplit(":", 1)[-1].strip().upper() for r in rule_ids if r and r.strip()}
