"""Write a complete, sealed run folder from a :class:`~harness.report.builder.RunReport`.

Order matters: the evidence index is built from the workers' sidecars first (so ``report.json``
lists every stored artefact), then every projection is written, and the folder is sealed last,
over every file it then holds (including evidence and logs written earlier by the run).

Resulting layout::

    report.json  report.html  junit.xml  ctrf.json  allure-results/
    evidence/index.json  evidence/sha256/...  (anything else the run wrote)
    signing-key.pub  attestation.json
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from harness.report.allure import write_allure_results
from harness.report.attest import ATTESTATION_FILE, SigningKey, seal
from harness.report.builder import RunReport, SigningInfo, with_evidence
from harness.report.ctrf import render_ctrf
from harness.report.evidence import build_evidence_index, redact_secrets
from harness.report.html import render_html
from harness.report.junit import render_junit

REPORT_FILES = ("report.json", "report.html", "junit.xml", "ctrf.json")


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run_folder(
    run_dir: Path,
    report: RunReport,
    key: SigningKey,
    *,
    secrets: Iterable[str] = (),
) -> RunReport:
    """Write every projection of ``report`` into ``run_dir`` and seal the folder with ``key``.

    ``secrets`` are redacted from every file written here (evidence was already redacted when
    stored). Returns the report as written (with the evidence index and signing info filled in).
    An earlier ``attestation.json`` is removed first, so a half-written folder is never sealed.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / ATTESTATION_FILE).unlink(missing_ok=True)
    secrets = tuple(s for s in secrets if s)

    index = build_evidence_index(run_dir)
    known = {(e.digest, e.path) for e in index}
    merged = list(index) + [e for e in report.evidence if (e.digest, e.path) not in known]
    report = replace(
        with_evidence(report, merged),
        signing=SigningInfo(keyid=key.keyid, ephemeral=key.ephemeral),
    )

    def out(name: str, data: bytes) -> None:
        _write(run_dir / name, redact_secrets(data, secrets) if secrets else data)

    out("report.json", report.dumps().encode("utf-8"))
    out("report.html", render_html(report).encode("utf-8"))
    out("junit.xml", render_junit(report))
    out("ctrf.json", render_ctrf(report))
    results = write_allure_results(report, run_dir)
    if secrets:
        for path in results.glob("*-result.json"):
            path.write_bytes(redact_secrets(path.read_bytes(), secrets))
    seal(run_dir, key, report=report)
    return report
