"""``conformance requirements``: list a profile's requirements and their generated coverage."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("list", "list the requirements of a profile (ours and the generated official ones)"),
        ("coverage", "which requirements some negative case can make fail (generated)"),
    ):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--profile", required=True, metavar="ID")
        p.add_argument(
            "--rules",
            metavar="IDS",
            help="comma-separated rule-set ids (default: those of the reference participant)",
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "coverage":
            p.add_argument(
                "--uncovered", action="store_true", help="list only requirements with no negative case"
            )


def run(args: argparse.Namespace) -> int:
    from harness.coverage import DEFAULT_RULESETS, coverage
    from harness.profiles import get_profile
    from harness.requirements import catalogue

    get_profile(args.profile)
    rulesets = [r.strip() for r in args.rules.split(",") if r.strip()] if args.rules else None
    if args.action == "list":
        reqs = catalogue(args.profile, rulesets or DEFAULT_RULESETS.get(args.profile, ()))
        if args.json:
            print(json.dumps([r.to_json() for r in reqs], indent=1))
        else:
            for r in reqs:
                print(f"{r.id:45} {r.level.value:6} {r.summary[:100]}")
            print(f"{len(reqs)} requirements")
        return 0
    report = coverage(args.profile, rulesets)
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
        return 0
    for row in report.rows:
        if args.uncovered and row.covered:
            continue
        mark = "covered  " if row.covered else "UNCOVERED"
        first = row.covered_by[0] if row.covered_by else "-"
        more = f" (+{len(row.covered_by) - 1})" if len(row.covered_by) > 1 else ""
        print(f"{mark} {row.requirement.id:45} {row.requirement.level.value:6} {first}{more}")
        if not row.covered and row.reason:
            print(f"{'':10}{'':46}{'':7}(why: {row.reason})")
    print()
    print(f"coverage of profile {report.profile} (rule sets: {', '.join(report.rulesets)}):")
    for group, counts in report.summary().items():
        pct = 100.0 * counts["covered"] / counts["requirements"] if counts["requirements"] else 0.0
        print(f"  {group:24} {counts['covered']:5}/{counts['requirements']:<5} ({pct:.1f}%)")
    return 0
