"""``conformance run``: certify a participant and write a signed run folder.

Runs pytest in-process over the installed suites of the selected profiles, with the harness
plugin active. The participant file is validated first: a configuration error exits 2 before
anything runs. The exit code follows the worst profile verdict (DESIGN.md "Exit codes"); the
last line printed is ``report: <absolute run folder>``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--participant", required=True, metavar="PATH", help="participant file (TOML)")
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="ID",
        help="profile to certify (repeatable; default: every profile the participant claims)",
    )
    parser.add_argument(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="parent folder of run folders; each run writes <run-id>/ inside (default: ./reports)",
    )
    parser.add_argument("--seed", type=int, metavar="N", help="seed of property-based campaigns")
    parser.add_argument(
        "--sign-key",
        metavar="PATH",
        help="Ed25519 private key (PEM) sealing the report (default: $CONFORMANCE_SIGNING_KEY,"
        " else an ephemeral per-run key that proves integrity only)",
    )
    parser.add_argument(
        "--accept-partial",
        action="store_true",
        help="exit 0 (not 10) when the worst verdict is PARTIALLY_CONFORMANT",
    )
    parser.add_argument(
        "--campaign-budget",
        type=int,
        metavar="N",
        help="examples per property-based campaign (default: each suite's fixed budget)",
    )
    parser.add_argument(
        "--endpoints",
        choices=["local", "docker"],
        default="local",
        help="where reference endpoints run: local processes (default) or Docker containers",
    )
    parser.epilog = "Arguments after -- go to pytest, e.g. -- -n 2 -k invoice-standard"


def run(args: argparse.Namespace) -> int:
    from harness.config.participant import load_participant
    from harness.errors import ConfigError
    from harness.plugin.session import new_run_id
    from harness.profiles import get_profile
    from harness.report.model import EXIT_CODES, EXIT_INTERNAL, Verdict, worst

    participant_path = Path(args.participant).resolve()
    participant = load_participant(participant_path)  # ConfigError -> exit 2, nothing runs
    profiles = list(args.profile or participant.profiles)
    for p in profiles:
        get_profile(p)
        if p not in participant.profiles:
            raise ConfigError(
                f"{participant_path}: profile {p!r} is not claimed by the participant"
                f" (participant.profiles = {list(participant.profiles)})"
            )
    if args.sign_key and not Path(args.sign_key).is_file():
        raise ConfigError(f"--sign-key {args.sign_key}: no such file (give an Ed25519 PEM private key)")
    if args.campaign_budget is not None and args.campaign_budget < 1:
        raise ConfigError("--campaign-budget must be at least 1")
    _check_artefacts(participant, profiles)
    if getattr(args, "endpoints", "local") == "docker":
        _check_docker()

    import pytest

    run_id = new_run_id()
    report_dir = Path(args.report_dir).resolve()
    run_dir = report_dir / run_id
    suite_dirs = [str(get_profile(p).suite_dir) for p in profiles]
    suites_root = Path(suite_dirs[0]).parent.parent
    pytest_args = [
        *suite_dirs,
        "--participant", str(participant_path),
        "--report-dir", str(report_dir),
        "--conformance-run-id", run_id,
        "--rootdir", str(suites_root),
        "-c", str(Path(__file__).resolve().parent.parent / "data" / "pytest-run.ini"),
        "-p", "no:cacheprovider",
    ]
    for p in profiles:
        pytest_args += ["--profile", p]
    if args.seed is not None:
        pytest_args += ["--seed", str(args.seed)]
    if args.sign_key:
        pytest_args += ["--sign-key", str(Path(args.sign_key).resolve())]
    if args.campaign_budget:
        pytest_args += ["--campaign-budget", str(args.campaign_budget)]
    pytest_args += ["--endpoints", getattr(args, "endpoints", "local")]
    pytest_args += list(getattr(args, "pytest_args", []) or [])

    print(f"conformance run {run_id}: {participant.name} — profiles {', '.join(profiles)}", flush=True)
    status = pytest.main(pytest_args)
    report_path = run_dir / "report.json"
    if not report_path.is_file():
        print(
            f"conformance run: no report was written (pytest exit status {int(status)});"
            " see the output above",
            file=sys.stderr,
        )
        if int(status) == 4:  # pytest usage error (e.g. a bad pytest argument after --)
            return 2
        print(f"report: {run_dir}")
        return EXIT_INTERNAL

    from harness.report.builder import load_report

    report = load_report(report_path)
    verdict = worst(p.verdict for p in report.profiles)
    print()
    for p in report.profiles:
        print(f"  {p.profile}: {p.verdict.value}")
        for reason in p.reasons[:10]:
            print(f"    - {reason}")
        if len(p.reasons) > 10:
            print(f"    - ... {len(p.reasons) - 10} more in report.html")
    if report.signing is not None and report.signing.ephemeral:
        print("  signed with an ephemeral key: proves integrity only, not who ran it")
    print(f"report: {run_dir}")
    code = EXIT_CODES[verdict]
    if verdict is Verdict.PARTIALLY_CONFORMANT and args.accept_partial:
        code = 0
    return code


def _check_artefacts(participant: object, profiles: list[str]) -> None:
    """Fail fast (exit 2) when a rule set's pinned files are not available here."""
    from harness.artefacts.store import ArtefactStore
    from harness.peppol import rulesets as rs

    store = ArtefactStore.default()
    if "peppol-smp" in profiles:
        from harness.peppol.smp.smp_xml import SCHEMA_KEYS

        for _, key in SCHEMA_KEYS:
            store.path(key)
    for p in profiles:
        claim = participant.profile(p)  # type: ignore[attr-defined]
        for ruleset_id in rs.expand(list(claim.rulesets)):
            for key in rs.get_ruleset(ruleset_id).components:
                store.path(key)  # raises ArtefactError naming the file and how to get it


def _check_docker() -> None:
    """``--endpoints docker`` needs the docker SDK and an engine that answers: say so (exit 2)
    before anything runs, rather than a run whose every endpoint fails to start."""
    from harness.errors import ConfigError
    from harness.runtime.docker import DockerUnavailableError, connect

    try:
        connect(timeout=15).close()
    except DockerUnavailableError as exc:
        raise ConfigError(f"--endpoints docker: {exc}") from None

