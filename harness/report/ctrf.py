"""``ctrf.json``: the run in the Common Test Report Format (https://ctrf.io, spec 0.1.0).

One CTRF test per check. Status mapping: ``pass`` and ``not-applicable`` -> ``passed``;
``fail`` and ``error`` -> ``failed`` (an error is no judgement, so never green); ``skip`` ->
``skipped``; ``warning`` -> ``other``. The original outcome is kept in ``rawStatus``; requirement
ids are in ``labels.requirements`` and ``tags``. Like ``junit.xml``, each profile adds one
``profile verdict`` test that fails unless the profile is CONFORMANT.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from harness.report.builder import RunReport
from harness.report.model import CheckResult, Outcome, Verdict

SPEC_VERSION = "0.1.0"
TOOL_NAME = "trade-conformance-harness"
_NAMESPACE = uuid.UUID("6f1f3c8e-4b9a-4b57-9a43-2f4d1c0e8a11")

CTRF_STATUS = {
    Outcome.PASS: "passed",
    Outcome.NOT_APPLICABLE: "passed",
    Outcome.FAIL: "failed",
    Outcome.ERROR: "failed",
    Outcome.SKIP: "skipped",
    Outcome.WARNING: "other",
}


def epoch_ms(timestamp: str | None) -> int:
    """Milliseconds since the epoch for an ISO 8601 timestamp (0 when absent or unparsable)."""
    if not timestamp:
        return 0
    try:
        return int(datetime.fromisoformat(timestamp).timestamp() * 1000)
    except ValueError:
        return 0


def _test(report: RunReport, check: CheckResult, evidence_path: dict[str, str]) -> dict[str, Any]:
    name = check.test
    if check.requirements:
        name += f" [{', '.join(check.requirements)}]"
    if check.location:
        name += f" @ {check.location}"
    path = check.test.split("::", 1)[0]
    test: dict[str, Any] = {
        "id": str(uuid.uuid5(_NAMESPACE, f"{report.meta.run_id}\n{name}\n{check.message}")),
        "name": name,
        "status": CTRF_STATUS[check.outcome],
        "rawStatus": check.outcome.value,
        "duration": round((check.duration or 0.0) * 1000),
        "filePath": path,
        "suite": [check.profile or "conformance", path],
        "tags": list(check.requirements),
        "extra": {"test": check.test},
    }
    if check.message:
        test["message"] = check.message
    if check.requirements:
        test["labels"] = {"requirements": list(check.requirements)}
    if check.replay:
        test["extra"]["replay"] = check.replay
    if check.location:
        test["extra"]["location"] = check.location
    if check.scenario:
        test["parameters"] = {"scenario": check.scenario}
    if check.no_traffic:
        test["extra"]["no_traffic"] = True
    attachments = []
    for digest in check.evidence:
        item = report.evidence_item(digest)
        attachments.append(
            {
                "name": (item.labels[0] if item and item.labels else digest),
                "contentType": item.media_type if item else "application/octet-stream",
                "path": evidence_path.get(digest, digest),
            }
        )
    if attachments:
        test["attachments"] = attachments
    return test


def build_ctrf(report: RunReport) -> dict[str, Any]:
    """The CTRF document (a dict) for ``report``."""
    evidence_path = {e.digest: e.path for e in report.evidence}
    tests = [_test(report, c, evidence_path) for c in report.checks]
    for p in report.profiles:
        verdict_test: dict[str, Any] = {
            "name": f"profile verdict: {p.profile}",
            "status": "passed" if p.verdict is Verdict.CONFORMANT else "failed",
            "rawStatus": p.verdict.value,
            "duration": 0,
            "suite": [p.profile],
            "extra": {"verdict": p.verdict.value, "roles": list(p.roles)},
        }
        if p.reasons:
            verdict_test["message"] = "\n".join(p.reasons)
        tests.append(verdict_test)
    summary = {status: 0 for status in ("passed", "failed", "skipped", "pending", "other")}
    for t in tests:
        summary[t["status"]] += 1
    start = epoch_ms(report.meta.started)
    stop = epoch_ms(report.meta.finished) or start
    participant = report.meta.participant
    environment: dict[str, Any] = {
        "reportName": f"conformance run {report.meta.run_id}",
        "extra": {
            "seed": report.meta.seed,
            "suiteDigest": report.meta.suite_digest,
            "profiles": {p.profile: list(p.roles) for p in report.profiles},
        },
    }
    if participant.get("name"):
        environment["appName"] = str(participant["name"])
    return {
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "reportId": str(uuid.uuid5(_NAMESPACE, f"report:{report.meta.run_id}")),
        "runId": report.meta.run_id,
        **({"timestamp": report.meta.finished} if report.meta.finished else {}),
        "generatedBy": f"{TOOL_NAME} {report.meta.harness_version}",
        "results": {
            "tool": {"name": TOOL_NAME, "version": report.meta.harness_version},
            "summary": {
                "tests": len(tests),
                **summary,
                "start": start,
                "stop": stop,
                "duration": max(0, stop - start),
                "extra": {
                    "verdict": report.verdict.value,
                    "exitCode": report.exit_code,
                },
            },
            "tests": tests,
            "environment": environment,
            "extra": {
                "verdict": report.verdict.value,
                "reasons": list(report.reasons),
            },
        },
    }


def render_ctrf(report: RunReport) -> bytes:
    # Compact: CTRF is read by machines, and compact JSON is written by the C encoder (fast for
    # tens of thousands of checks).
    text = json.dumps(build_ctrf(report), ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")
