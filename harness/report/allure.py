"""``allure-results/``: the run as Allure result files (``allure generate allure-results``).

One ``<uuid>-result.json`` per pytest test (its checks become steps), following Allure's test
result file format: ``uuid``, ``historyId``, ``testCaseId``, ``name``, ``fullName``, ``status``
(passed/failed/broken/skipped), ``statusDetails``, ``stage``, ``start``/``stop`` (ms), ``labels``,
``links``, ``parameters``, ``steps`` and ``attachments``. Requirement ids are ``requirement``
labels (and ``tag`` labels, which Allure shows and filters by). Evidence is copied next to the
result files as ``<sha256>-attachment<ext>`` because Allure resolves an attachment's ``source``
inside the results folder; each piece of evidence is copied once, however many tests cite it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from harness.report.builder import RunReport
from harness.report.ctrf import epoch_ms
from harness.report.evidence import extension_for
from harness.report.model import CheckResult, Level, Outcome, Requirement, Verdict

RESULTS_DIR = "allure-results"
_NAMESPACE = uuid.UUID("0b9f8a57-3c61-4e0e-8d52-7a4e2b6d9c13")

_STEP_STATUS = {
    Outcome.PASS: "passed",
    Outcome.NOT_APPLICABLE: "passed",
    Outcome.WARNING: "passed",
    Outcome.FAIL: "failed",
    Outcome.ERROR: "broken",
    Outcome.SKIP: "skipped",
}
_SEVERITY = {Level.MUST: "critical", Level.SHOULD: "normal", Level.MAY: "minor"}


def allure_status(checks: list[CheckResult]) -> str:
    """Allure status of a test from its checks: any fail -> failed, else any error -> broken,
    else all skipped -> skipped, else passed."""
    outcomes = {c.outcome for c in checks}
    if Outcome.FAIL in outcomes:
        return "failed"
    if Outcome.ERROR in outcomes:
        return "broken"
    if outcomes == {Outcome.SKIP}:
        return "skipped"
    return "passed"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _attachment(
    report: RunReport, run_dir: Path, results: Path, digest: str, copied: set[str]
) -> dict[str, str] | None:
    item = report.evidence_item(digest)
    if item is None:
        return None
    hexdigest = digest.split(":", 1)[1]
    source = f"{hexdigest}-attachment{extension_for(item.media_type)}"
    if source not in copied:
        src = run_dir / item.path
        if not src.is_file():
            return None
        shutil.copyfile(src, results / source)
        copied.add(source)
    return {
        "name": item.labels[0] if item.labels else item.path,
        "source": source,
        "type": item.media_type,
    }


def _result(
    report: RunReport,
    test: str,
    checks: list[CheckResult],
    catalogue: dict[str, Requirement],
    run_dir: Path,
    results: Path,
    copied: set[str],
    start: int,
) -> dict[str, Any]:
    path, _, rest = test.partition("::")
    module = (path.removesuffix(".py")).replace("/", ".")
    method = rest.rsplit("::", 1)[-1] if rest else test
    requirement_ids = sorted({rid for c in checks for rid in c.requirements})
    profiles = sorted({c.profile for c in checks if c.profile})
    levels = [catalogue[r].level for r in requirement_ids if r in catalogue]
    severity = _SEVERITY[min(levels, key=lambda lv: list(Level).index(lv))] if levels else "normal"

    labels = [
        {"name": "parentSuite", "value": "conformance"},
        {"name": "suite", "value": profiles[0] if profiles else "conformance"},
        {"name": "subSuite", "value": module},
        {"name": "package", "value": module},
        {"name": "testMethod", "value": method},
        {"name": "framework", "value": "pytest"},
        {"name": "language", "value": "python"},
        {"name": "severity", "value": severity},
    ]
    labels += [{"name": "requirement", "value": rid} for rid in requirement_ids]
    labels += [{"name": "tag", "value": rid} for rid in requirement_ids]
    links = []
    for rid in requirement_ids:
        req = catalogue.get(rid)
        if req and req.source.url:
            links.append({"name": rid, "url": req.source.url, "type": "link"})

    steps = []
    attachments: list[dict[str, str]] = []
    seen_sources: set[str] = set()
    clock = start
    for check in checks:
        duration = round((check.duration or 0.0) * 1000)
        step_attachments = []
        for digest in check.evidence:
            att = _attachment(report, run_dir, results, digest, copied)
            if att is not None:
                step_attachments.append(att)
                if att["source"] not in seen_sources:
                    seen_sources.add(att["source"])
                    attachments.append(att)
        name = ", ".join(check.requirements) or "check"
        if check.location:
            name += f" @ {check.location}"
        step: dict[str, Any] = {
            "name": f"{name}: {check.outcome.value}",
            "status": _STEP_STATUS[check.outcome],
            "stage": "finished",
            "start": clock,
            "stop": clock + duration,
            "statusDetails": {"message": check.message},
            "attachments": step_attachments,
            "parameters": [],
            "steps": [],
        }
        if check.replay:
            step["statusDetails"]["trace"] = f"replay: {check.replay}"
        steps.append(step)
        clock += duration

    status = allure_status(checks)
    bad = [c for c in checks if c.outcome in (Outcome.FAIL, Outcome.ERROR)]
    details: dict[str, Any] = {}
    if bad:
        details["message"] = "\n".join(f"[{', '.join(c.requirements)}] {c.message}" for c in bad)
        replays = sorted({c.replay for c in bad if c.replay})
        if replays:
            details["trace"] = "\n".join(f"replay: {r}" for r in replays)
    parameters = []
    scenarios = sorted({c.scenario for c in checks if c.scenario})
    if scenarios:
        parameters.append({"name": "scenario", "value": ", ".join(scenarios)})

    base = test.split("[", 1)[0]
    return {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{report.meta.run_id}\n{test}")),
        "historyId": _md5(test),
        "testCaseId": _md5(base),
        "name": method,
        "fullName": test,
        "status": status,
        "statusDetails": details,
        "stage": "finished",
        "start": start,
        "stop": clock,
        "labels": labels,
        "links": links,
        "parameters": parameters,
        "steps": steps,
        "attachments": attachments,
    }


def write_allure_results(report: RunReport, run_dir: Path) -> Path:
    """Write ``run_dir/allure-results/`` (replacing an earlier one) and return its path."""
    run_dir = Path(run_dir)
    results = run_dir / RESULTS_DIR
    if results.exists():
        shutil.rmtree(results)
    results.mkdir(parents=True)
    catalogue = {r.id: r for r in report.requirements}
    copied: set[str] = set()
    start = epoch_ms(report.meta.started)
    for test, checks in sorted(report.checks_by_test().items()):
        result = _result(report, test, checks, catalogue, run_dir, results, copied, start)
        (results / f"{result['uuid']}-result.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    for p in report.profiles:
        name = f"profile verdict: {p.profile}"
        result = {
            "uuid": str(uuid.uuid5(_NAMESPACE, f"{report.meta.run_id}\nverdict\n{p.profile}")),
            "historyId": _md5(name),
            "testCaseId": _md5(name),
            "name": name,
            "fullName": f"conformance::{name}",
            "status": "passed" if p.verdict is Verdict.CONFORMANT else "failed",
            "statusDetails": {
                "message": f"{p.profile} is {p.verdict.value}\n" + "\n".join(p.reasons)
            },
            "stage": "finished",
            "start": start,
            "stop": start,
            "labels": [
                {"name": "parentSuite", "value": "conformance"},
                {"name": "suite", "value": p.profile},
                {"name": "severity", "value": "blocker"},
            ],
            "links": [],
            "parameters": [{"name": "roles", "value": ", ".join(p.roles)}],
            "steps": [],
            "attachments": [],
        }
        (results / f"{result['uuid']}-result.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    env = {
        "harness.version": report.meta.harness_version,
        "run.id": report.meta.run_id,
        "seed": str(report.meta.seed),
        "suite.digest": report.meta.suite_digest,
        "verdict": report.verdict.value,
    }
    (results / "environment.properties").write_text(
        "".join(f"{k}={_prop(v)}\n" for k, v in env.items()), encoding="utf-8"
    )
    return results


def _prop(value: str) -> str:
    """Escape a Java .properties value (backslash, newlines)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
