"""Generated coverage: every requirement we claim to check has a negative case, and every
negative case names a requirement that exists."""

from __future__ import annotations

import json
import subprocess
import sys

from harness.coverage import coverage
from harness.peppol.mutations import all_mutations
from harness.reference.peppol_variants import VARIANTS
from harness.requirements import catalogue


def test_every_own_requirement_has_a_known_bad_variant() -> None:
    report = coverage("peppol-bis")
    own = [r for r in report.rows if r.requirement.ruleset is None]
    assert own and all(r.covered for r in own), [r.requirement.id for r in own if not r.covered]
    assert all(any(c.startswith("variant:") for c in r.covered_by) for r in own)


def test_declared_ids_of_variants_and_mutations_exist_in_the_catalogue() -> None:
    known = {r.id for r in catalogue("peppol-bis", ("peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1"))}
    for variant in VARIANTS.values():
        assert set(variant.declared) <= known, (variant.name, set(variant.declared) - known)
    for mutation in all_mutations():
        assert set(mutation.declared) <= known, (mutation.id, set(mutation.declared) - known)


def test_coverage_command_json_is_consistent() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli", "requirements", "coverage", "--profile", "peppol-bis", "--json"],
        capture_output=True, text=True, check=True,
    )
    data = json.loads(out.stdout)
    rows = data["requirements"]
    for group, counts in data["summary"].items():
        members = [r for r in rows if (r["id"].split(":", 1)[0] if ":" in r["id"] else "own") == group]
        assert counts["requirements"] == len(members)
        assert counts["covered"] == sum(r["covered"] for r in members)
    assert all(r["covered"] == bool(r["covered_by"]) for r in rows)
