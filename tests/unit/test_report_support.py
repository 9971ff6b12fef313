"""Builders of realistic run reports and run folders for the report tests (no tests here).

Other test modules import these as ``tests.unit.test_report_support``. Everything goes through the
real library: :class:`EvidenceStore` for evidence, :func:`build_report` for the roll-up and
:func:`write_run_folder` for the folder, so the tests see what a certification run produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.report.attest import SigningKey
from harness.report.builder import RunReport, build_report
from harness.report.evidence import EvidenceStore
from harness.report.model import (
    ArtefactInfo,
    CheckResult,
    Level,
    Outcome,
    Requirement,
    RunMeta,
    Source,
)
from harness.report.writer import write_run_folder

PROFILE = "peppol-bis"
RUN_ID = "20261127T120000Z-a1b2c3"
SECRET = "tok-9f8e7d6c5b4a"
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'

BIS = Source("Peppol BIS Billing 3.0", "3.0.19", "scenario catalogue")
CEN = Source(
    "CEN EN 16931-1 UBL rules", "1.3.16", "BR-CO-15", "https://example.org/en16931#BR-CO-15"
)


def req(
    rid: str,
    level: Level = Level.MUST,
    *,
    profile: str = PROFILE,
    roles: Sequence[str] = (),
    source: Source = BIS,
    summary: str | None = None,
) -> Requirement:
    return Requirement(
        id=rid,
        level=level,
        source=source,
        summary=summary or f"summary of {rid}",
        profile=profile,
        roles=tuple(roles),
    )


def check(
    rid: str | Sequence[str],
    outcome: Outcome,
    *,
    test: str = "suites/peppol_bis/test_outbound.py::test_x",
    profile: str | None = PROFILE,
    **kwargs: object,
) -> CheckResult:
    rids = (rid,) if isinstance(rid, str) else tuple(rid)
    return CheckResult(test=test, requirements=rids, outcome=outcome, profile=profile, **kwargs)  # type: ignore[arg-type]


def meta(run_id: str = RUN_ID, started: str = "2026-11-27T12:00:00+00:00") -> RunMeta:
    return RunMeta(
        run_id=run_id,
        started=started,
        finished="2026-11-27T12:03:10+00:00",
        harness_version="0.1.0",
        suite_digest="3" * 64,
        seed=20261127,
        participant={
            "name": "Example Bank trade platform",
            "profiles": [PROFILE],
            "driver": "embedded",
        },
        observed={"endpoints": ["http://127.0.0.1:43121/conformance/v1"]},
        environment={"python": "3.11.7", "platform": "linux"},
        artefacts=[
            ArtefactInfo(
                path="peppol-bis/3.0.19/PEPPOL-EN16931-UBL.xslt",
                sha256="a" * 64,
                url="https://github.com/OpenPEPPOL/peppol-bis-invoice-3/raw/3.0.19/rules/PEPPOL-EN16931-UBL.xslt",
                provenance="official",
                version="3.0.19",
            ),
            ArtefactInfo(
                path="pint-sg/1.4.1/PINT-jurisdiction-aligned-rules.xslt",
                sha256="b" * 64,
                url="https://github.com/phax/phive-rules/raw/main/pint-sg.xslt",
                provenance="third-party copy",
                version="1.4.1",
            ),
        ],
        rulesets=[
            {"id": "peppol-ubl-3.0.19", "version": "3.0.19", "provenance": "official"},
            {"id": "pint-sg-ubl-1.4.1", "version": "1.4.1", "provenance": "third-party copy"},
        ],
        command=["conformance", "run", "--participant", "p.toml", "--profile", PROFILE],
    )


def catalogue() -> list[Requirement]:
    return [
        req(
            "BIS-OUT-001",
            roles=("sender",),
            summary="The participant produces a document for every scenario.",
        ),
        req(
            "BIS-OUT-003",
            roles=("sender",),
            summary="A document produced for a scenario is the document that scenario asks for.",
        ),
        req("BIS-IN-001", roles=("receiver",), summary="A valid inbound document is accepted."),
        req(
            "cen-ubl-1.3.16:BR-CO-15",
            source=CEN,
            summary="Invoice total with VAT = total without VAT + VAT.",
        ),
        req("peppol-ubl-3.0.19:PEPPOL-EN16931-R001", summary="Business process MUST be provided."),
        req(
            "peppol-ubl-3.0.19:PEPPOL-EN16931-R002",
            Level.SHOULD,
            summary="No more than one note SHOULD be present.",
        ),
        req(
            "BIS-OUT-009",
            Level.MAY,
            roles=("sender",),
            summary="The participant MAY add attachments.",
        ),
    ]


def build_sample_report(run_dir: Path, *, evidence: bool = True) -> RunReport:
    """A NON_CONFORMANT run with every outcome, evidence of several media types, a secret and a
    hostile message; evidence is stored under ``run_dir`` (when ``evidence``)."""
    digests: dict[str, str] = {}
    if evidence:
        store = EvidenceStore(run_dir, secrets=[SECRET])
        invoice = (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
            b'<cbc:ID xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
            b"INV-1</cbc:ID></Invoice>\n"
        )
        digests["invoice"] = store.put(
            invoice, media_type="application/xml", label="invoice-standard.xml"
        )
        request = (
            "POST /conformance/v1/peppol-bis/documents HTTP/1.1\r\n"
            f"Authorization: Bearer {SECRET}\r\nContent-Type: application/json\r\n\r\n"
            '{"scenario": "invoice-standard", "ruleset": "peppol-ubl-3.0.19"}'
        ).encode()
        digests["request"] = store.put(
            request, media_type="message/http", label="POST documents (request)"
        )
        digests["response"] = store.put(
            b'{"accepted": false, "rule_ids": ["BR-CO-15"], "message": "totals"}',
            media_type="application/json",
            label="POST inbound (response)",
        )
        log = run_dir / "logs" / "reference-participant.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            "INFO listening on 127.0.0.1:43121\nINFO POST /documents 200\n", encoding="utf-8"
        )
        digests["log"] = store.put(
            log.read_bytes(), media_type="text/plain", label="reference participant log"
        )
    ev = lambda *names: tuple(digests[n] for n in names if n in digests)
    replay = "conformance run --participant p.toml --profile peppol-bis --seed 20261127 -- -k invoice-standard"
    checks = [
        check(
            "BIS-OUT-001",
            Outcome.PASS,
            test="suites/peppol_bis/test_outbound.py::test_document_for[invoice-standard]",
            evidence=ev("request", "invoice"),
            duration=0.12,
        ),
        check(
            "BIS-OUT-003",
            Outcome.PASS,
            test="suites/peppol_bis/test_outbound.py::test_document_for[invoice-standard]",
            evidence=ev("invoice"),
            duration=0.01,
        ),
        check(
            "cen-ubl-1.3.16:BR-CO-15",
            Outcome.FAIL,
            test="suites/peppol_bis/test_outbound.py::test_documents_are_valid[invoice-standard]",
            message=f"BR-CO-15 fired: TaxInclusiveAmount 1250.00 != 1000.00 + 251.00 {HOSTILE}",
            location="/Invoice[1]/cac:LegalMonetaryTotal[1]",
            evidence=ev("invoice"),
            replay=replay,
            scenario="invoice-standard",
            duration=0.3,
        ),
        check(
            "peppol-ubl-3.0.19:PEPPOL-EN16931-R001",
            Outcome.NOT_APPLICABLE,
            test="suites/peppol_bis/test_outbound.py::test_documents_are_valid[invoice-standard]",
            duration=0.0,
        ),
        check(
            "peppol-ubl-3.0.19:PEPPOL-EN16931-R002",
            Outcome.WARNING,
            test="suites/peppol_bis/test_outbound.py::test_documents_are_valid[invoice-standard]",
            message="two notes present",
            location="/Invoice[1]/cbc:Note[2]",
            evidence=ev("invoice"),
        ),
        check(
            "BIS-OUT-009",
            Outcome.SKIP,
            test="suites/peppol_bis/test_outbound.py::test_attachments",
            message="no attachment scenario",
        ),
        check(
            "BIS-OUT-001",
            Outcome.ERROR,
            test="suites/peppol_bis/test_outbound.py::test_document_for[credit-note]",
            message="participant answered 500 Internal Server Error",
            evidence=ev("response", "log"),
            replay=replay.replace("invoice-standard", "credit-note"),
        ),
    ]
    return build_report(
        meta(),
        catalogue(),
        {PROFILE: ("sender",)},
        checks,
        {"BIS-OUT-009": "no scenario needs attachments yet"},
        {},
    )


def write_sample_run(run_dir: Path, key: SigningKey | None = None) -> RunReport:
    """A sealed run folder with realistic content, written through :func:`write_run_folder`."""
    key = key or SigningKey.generate()
    report = build_sample_report(run_dir)
    return write_run_folder(run_dir, report, key, secrets=[SECRET])
