"""Assemble the run report at the end of a session (controller only) and seal the run folder."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import __version__

if TYPE_CHECKING:
    import pytest

    from harness.plugin.session import ConformanceSession


def _observed(run_dir: Path) -> dict[str, Any]:
    """Merge what the workers observed of the participant (set-valued, order-independent)."""
    folder = run_dir / ".observed"
    merged: dict[str, list[Any]] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                item = json.loads(line)
                values = merged.setdefault(item["key"], [])
                if item["value"] not in values:
                    values.append(item["value"])
        shutil.rmtree(folder)
    return {k: sorted(v, key=lambda x: json.dumps(x, sort_keys=True)) for k, v in sorted(merged.items())}


def write_report(
    session_plugin: ConformanceSession, session: pytest.Session, exitstatus: int
) -> tuple[Path, dict[str, str]]:
    from harness.peppol import rulesets as rs
    from harness.plugin.session import environment
    from harness.profiles import get_profile
    from harness.report.attest import load_signing_key
    from harness.report.builder import SigningInfo, build_report
    from harness.report.model import ArtefactInfo, Requirement, RunMeta
    from harness.report.writer import write_run_folder
    from harness.requirements import catalogue

    ctx = session_plugin.ctx
    participant = session_plugin.participant
    requirements: list[Requirement] = []
    claimed: dict[str, tuple[str, ...]] = {}
    used_rulesets: list[str] = []
    for profile_id in ctx.profiles:
        claim = participant.profile(profile_id)
        claimed[profile_id] = tuple(claim.roles)
        requirements.extend(catalogue(profile_id, claim.rulesets, claim.roles))
        used_rulesets.extend(claim.rulesets)

    no_traffic: dict[str, list[str]] = {}
    for check in session_plugin.checks:
        if check.no_traffic and check.profile:
            scen = check.scenario or check.test
            if scen not in no_traffic.setdefault(check.profile, []):
                no_traffic[check.profile].append(scen)

    ruleset_info: list[dict[str, Any]] = []
    artefacts: dict[str, ArtefactInfo] = {}
    for ruleset_id in rs.expand(used_rulesets):
        info = rs.describe(ruleset_id)
        ruleset_info.append(info)
        for art in info.get("artefacts", []):
            artefacts[art["path"]] = ArtefactInfo(
                path=art["path"],
                sha256=art["sha256"],
                url=art["url"],
                provenance=art["provenance"],
                version=info.get("version"),
            )

    for artefact_key in _profile_artefact_keys(ctx.profiles):
        if artefact_key not in artefacts:
            from harness.artefacts.lock import default_lock

            entry = default_lock()[artefact_key]
            artefacts[artefact_key] = ArtefactInfo(
                path=artefact_key, sha256=entry.sha256, url=entry.url, provenance=entry.provenance
            )

    suite_digest_parts = [f"{p}:{get_profile(p).suite_digest()}" for p in ctx.profiles]
    meta = RunMeta(
        run_id=ctx.run_id,
        started=ctx.started,
        finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        harness_version=__version__,
        suite_digest=";".join(suite_digest_parts),
        seed=ctx.seed,
        participant=participant.public_view(),
        observed=_observed(ctx.run_dir),
        environment=environment(),
        artefacts=sorted(artefacts.values(), key=lambda a: a.path),
        rulesets=ruleset_info,
        command=[str(a) for a in session.config.invocation_params.args],
    )
    meta.environment["pytest_exit_status"] = int(exitstatus)
    key = load_signing_key(Path(ctx.sign_key) if ctx.sign_key else None)
    report = build_report(
        meta=meta,
        requirements=requirements,
        claimed=claimed,
        checks=session_plugin.checks,
        not_tested={},
        no_traffic=no_traffic,
        signing=SigningInfo(keyid=key.keyid, ephemeral=key.ephemeral),
    )
    report = write_run_folder(ctx.run_dir, report, key, secrets=participant.secrets)
    verdicts = {p.profile: p.verdict.value for p in report.profiles}
    return ctx.run_dir / "report.json", verdicts


def _profile_artefact_keys(profiles: tuple[str, ...]) -> list[str]:
    """Pinned files a profile uses besides rule sets (peppol-smp: the SMP 1.0 schemas)."""
    keys: list[str] = []
    if "peppol-smp" in profiles:
        from harness.peppol.smp.smp_xml import SCHEMA_KEYS

        keys.extend(key for _, key in SCHEMA_KEYS)
    return keys
