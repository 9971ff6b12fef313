"""Participant as a sending AP doing a lookup (control API ``lookupReceiver``): the harness publishes
receivers on its own reference SMP, registers them in its own reference SML, and asks the AP where
it would send to. The AP must ask the SML for the right U-NAPTR name and the SMP for the right
URL, answer exactly the published endpoint, and refuse -- give no endpoint -- for unregistered
receivers, unpublished document types, metadata with a bad signature or a certificate that is
expired, revoked (by the CRL handed with the lookup) or not of the SMP CA, and endpoints of
transport profiles it does not support. Redirects
are followed once, inactive endpoints ignored (SHOULD).

What the AP asked of the SML and the SMP comes from their logs; those logs, the control API
exchange and the SML's answer are the evidence.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.peppol.smp import judge
from harness.report.model import Outcome

pytestmark = [pytest.mark.profile("peppol-smp"), pytest.mark.role("ap")]

#: Hypothesis phases of the campaign: no "explain" phase, which would replay hundreds of
#: variations of a failing example through the network only to annotate the report.
CAMPAIGN_PHASES = ("explicit", "reuse", "generate", "target", "shrink")
#: examples of the property-based campaign in a certification run (fixed: part of the suite digest)
CAMPAIGN_BUDGET = 8


def _evidence(smp_evidence: Any, run: Any, label: str) -> list[str]:
    refs = smp_evidence.records(run.answer.exchange)
    refs.append(
        smp_evidence.json(run.dns_queries, f"{label}: DNS queries the reference SML received")
    )
    refs.append(
        smp_evidence.json(run.smp_requests, f"{label}: requests the reference SMP received")
    )
    return refs


def _answered(checks: Any, run: Any, requirement: str, refs: list[str], scenario: str) -> bool:
    """Record the control API contract check; False when there is no outcome to judge."""
    answer = run.answer
    if answer.unreachable:
        checks.errored(
            requirement,
            answer.error or "the participant did not answer",
            evidence=refs,
            scenario=scenario,
        )
        return False
    if answer.api_problem:
        checks.failed("LOOKUP-API-001", answer.api_problem, evidence=refs, scenario=scenario)
        return answer.outcome is not None
    checks.passed("LOOKUP-API-001", evidence=refs, scenario=scenario)
    return True


def _expected(endpoint: Any) -> judge.ExpectedEndpoint:
    return judge.ExpectedEndpoint(
        endpoint.endpoint_uri, endpoint.certificate, endpoint.transport_profile
    )


def _found(
    checks: Any,
    run: Any,
    expected: Any,
    requirement: str,
    refs: list[str],
    scenario: str,
    what: str,
) -> None:
    from harness.peppol.smp.control import certificate_der

    a = run.answer
    j = judge.judge_found_endpoint(
        a.outcome, a.endpoint_url, certificate_der(a.certificate) if a.certificate else None,
        a.transport_profile, _expected(expected), requirement, what, a.summary if a.outcome != "endpoint" else "",
    )  # fmt: skip
    checks.record(j.requirement, j.outcome, j.message, evidence=refs, scenario=scenario)


def _positive(checks: Any, run: Any, case: Any, refs: list[str]) -> None:
    """A case where the AP must answer ``case.expected``. If it refused without ever obtaining
    the receiver's metadata from the SMP, the case's own requirement (transport profile,
    activation, redirect) cannot be judged: that is LOOKUP-RES-001 failing (for a DNS or URL
    fault of the AP), not the case's requirement."""
    from harness.peppol.smp.identifiers import service_metadata_path

    path = service_metadata_path(case.receiver, case.document_type).lower()
    reached = any(
        str(r.get("raw_path", "")).lower() == path and r.get("status") == 200
        for r in run.smp_requests
    )
    if run.answer.outcome != "endpoint" and not reached:
        checks.record(case.requirement, Outcome.NOT_APPLICABLE,
                      f"{case.description}: the AP never obtained the receiver's metadata, so this"
                      " cannot be judged (see LOOKUP-RES-001)", scenario=case.id)  # fmt: skip
        checks.failed("LOOKUP-RES-001",
                      f"{case.description}: the AP answered {run.answer.summary} for a registered"
                      " receiver whose metadata it never obtained from the SMP", evidence=refs,
                      scenario=case.id)  # fmt: skip
        return
    _found(checks, run, case.expected, case.requirement, refs, case.id, case.description)


def _refused(
    checks: Any, run: Any, requirement: str, refs: list[str], scenario: str, what: str
) -> None:
    a = run.answer
    checks.check(a.outcome == "refused", requirement,
                 f"{what}: the AP answered {a.summary} instead of refusing", evidence=refs, scenario=scenario)  # fmt: skip


def _judge_case(case: Any, lookup_bench: Any, smp_evidence: Any, checks: Any) -> None:
    """Publish ``case``, ask the AP, and judge its answer: the expected endpoint, or a refusal."""
    lookup_bench.publish(case)
    run = lookup_bench.ask(case.receiver, case.document_type)
    refs = _evidence(smp_evidence, run, case.id)
    if _answered(checks, run, case.requirement, refs, case.id):
        if case.expect == "endpoint":
            _positive(checks, run, case, refs)
        else:
            _refused(checks, run, case.requirement, refs, case.id, case.description)
    checks.verify()


@pytest.mark.requirement("LOOKUP-DNS-001", "LOOKUP-URL-001", "LOOKUP-RES-001", "LOOKUP-API-001")
def test_published_receiver_is_found(
    lookup_bench: Any, smp_network: Any, smp_evidence: Any, checks: Any
) -> None:
    """The AP asks the SML for NAPTR at base32(sha256(lowercase(value))).scheme.zone, the SMP for
    /{participant}/services/{documentType} encoded once, and answers the published endpoint."""
    from harness.peppol.smp.identifiers import service_metadata_path
    from harness.peppol.smp.sml import participant_dns_name

    case = lookup_bench.cases()["found"]
    lookup_bench.publish(case)
    run = lookup_bench.ask(case.receiver, case.document_type)
    refs = _evidence(smp_evidence, run, case.id)
    refs.append(
        smp_evidence.dns(
            smp_network.naptr_answer(case.receiver), f"the SML's NAPTR answer for {case.receiver}"
        )
    )
    if _answered(checks, run, case.requirement, refs, case.id):
        dns_name = participant_dns_name(case.receiver, smp_network.zone)
        for j in (
            judge.judge_dns_queries(run.dns_queries, dns_name),
            judge.judge_smp_requests(
                run.smp_requests, service_metadata_path(case.receiver, case.document_type)
            ),
        ):
            checks.record(j.requirement, j.outcome, j.message, evidence=refs, scenario=case.id)
        _found(checks, run, case.expected, case.requirement, refs, case.id, case.description)
    checks.verify()


@pytest.mark.requirement("LOOKUP-RES-002", "LOOKUP-API-001")
@pytest.mark.parametrize("case_id", ["not-registered", "no-such-document-type"])
def test_no_endpoint_without_registration_or_metadata(
    case_id: str, lookup_bench: Any, smp_evidence: Any, checks: Any
) -> None:
    case = lookup_bench.cases()[case_id]
    _judge_case(case, lookup_bench, smp_evidence, checks)


@pytest.mark.requirement("LOOKUP-SIG-001", "LOOKUP-SIG-002", "LOOKUP-SIG-003", "LOOKUP-SIG-004",
                         "LOOKUP-API-001")  # fmt: skip
@pytest.mark.parametrize(
    "signing",
    [
        "unsigned",
        "corrupt-signature",
        "tampered",
        "wrong-ca",
        "ap-certificate",
        "expired-certificate",
        "revoked-certificate",
    ],
)
def test_untrusted_metadata_is_refused(
    signing: str, lookup_bench: Any, smp_evidence: Any, checks: Any
) -> None:
    """Metadata that is unsigned, changed after signing, signed by a certificate that is not of the
    SMP CA, by an expired one, or by one the SMP CA's CRL (handed with the lookup) lists as
    revoked, gives no endpoint."""
    case = lookup_bench.cases()[f"signing-{signing}"]
    _judge_case(case, lookup_bench, smp_evidence, checks)


@pytest.mark.requirement("LOOKUP-TP-001", "LOOKUP-RES-001", "LOOKUP-API-001")
@pytest.mark.parametrize("case_id", ["unsupported-transport-only", "supported-transport-second"])
def test_only_supported_transport_profiles(
    case_id: str, lookup_bench: Any, smp_evidence: Any, checks: Any
) -> None:
    case = lookup_bench.cases()[case_id]
    _judge_case(case, lookup_bench, smp_evidence, checks)


@pytest.mark.requirement("LOOKUP-ACT-001", "LOOKUP-RES-001", "LOOKUP-API-001")
@pytest.mark.parametrize("case_id", ["expired-endpoint-only", "not-yet-active-first"])
def test_inactive_endpoints_are_ignored(
    case_id: str, lookup_bench: Any, smp_evidence: Any, checks: Any
) -> None:
    case = lookup_bench.cases()[case_id]
    _judge_case(case, lookup_bench, smp_evidence, checks)


@pytest.mark.requirement("LOOKUP-RED-001", "LOOKUP-RED-002", "LOOKUP-RES-001", "LOOKUP-API-001")
@pytest.mark.parametrize(
    "case_id", ["redirect-followed", "redirect-wrong-certificate", "redirect-twice"]
)
def test_redirects(case_id: str, lookup_bench: Any, smp_evidence: Any, checks: Any) -> None:
    """A Redirect is followed (MUST), once (SHOULD NOT follow a second), to metadata signed by the
    certificate it names (SHOULD check CertificateUID): SMP 1.4.0 sections 4.3 and 5.5.3."""
    case = lookup_bench.cases()[case_id]
    _judge_case(case, lookup_bench, smp_evidence, checks)


@pytest.mark.requirement("LOOKUP-DNS-001", "LOOKUP-URL-001", "LOOKUP-RES-001")
def test_awkward_identifiers_are_found(
    lookup_bench: Any, smp_network: Any, smp_evidence: Any, smp_token: str, checks: Any,
    run_seed: int, conformance_run: Any,
) -> None:  # fmt: skip
    """Property: receivers of scheme 0088, 0192, 0195, 0208 or 9925 with any characters the
    identifier policy allows, and document types with awkward characters, are found: the right
    DNS name, the SMP URL encoded once, the published endpoint. Recorded seed, fixed budget."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from harness.peppol.smp.control import Publication, certificate_der
    from harness.peppol.smp.identifiers import service_metadata_path
    from harness.peppol.smp.scenarios import BILLING, endpoint
    from harness.peppol.smp.sml import participant_dns_name
    from harness.peppol.smp.strategies import document_type_identifiers, participant_identifiers
    from harness.reproducible import deterministic_generation

    budget = conformance_run.campaign_budget or CAMPAIGN_BUDGET
    tp = lookup_bench.claim.transport_profiles[0]
    failures: list[tuple[Any, Any, Any]] = []

    @seed(run_seed)
    @settings(max_examples=budget, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), print_blob=False,
              phases=[Phase[p] for p in CAMPAIGN_PHASES])  # fmt: skip
    @given(
        receiver=participant_identifiers(suffix=f"-{smp_token}-ap"),
        document_type=document_type_identifiers(),
    )
    def campaign(receiver: Any, document_type: Any) -> None:
        ep = endpoint("https://ap.example.test/awkward", smp_network.ap_certificate_der(), tp)
        smp_network.publish(
            Publication.one_service(receiver, document_type, BILLING, [ep]), register=False
        )
        lookup_bench.register(receiver)
        run = lookup_bench.ask(receiver, document_type)
        a = run.answer
        if a.unreachable or a.outcome is None:
            failures.append((run, Outcome.ERROR if a.unreachable else Outcome.FAIL, None))
            raise AssertionError(a.summary)
        for j in (
            judge.judge_dns_queries(run.dns_queries, participant_dns_name(receiver, smp_network.zone)),
            judge.judge_smp_requests(run.smp_requests, service_metadata_path(receiver, document_type)),
            judge.judge_found_endpoint(
                a.outcome, a.endpoint_url, certificate_der(a.certificate) if a.certificate else None,
                a.transport_profile, _expected(ep), "LOOKUP-RES-001",
                f"receiver {receiver}, document type {document_type}", a.summary,
            ),
        ):  # fmt: skip
            if j.outcome is Outcome.FAIL:
                failures.append((run, j.outcome, j))
                raise AssertionError(j.message)

    try:
        with deterministic_generation():
            campaign()
    except AssertionError:
        run, outcome, j = failures[-1]  # the last failure is hypothesis' shrunk example
        refs = _evidence(smp_evidence, run, "shrunk failing example")
        example = f"minimal failing example: receiver {run.request.receiver}, document type {run.request.document_type}; seed {run_seed}"
        if j is None:
            requirement = "LOOKUP-RES-001" if outcome is Outcome.ERROR else "LOOKUP-API-001"
            checks.record(requirement, outcome, f"{run.answer.summary} ({example})", evidence=refs)
        else:
            checks.record(j.requirement, j.outcome, f"{j.message} ({example})", evidence=refs)
    else:
        checks.passed(("LOOKUP-DNS-001", "LOOKUP-URL-001", "LOOKUP-RES-001"),
                      f"{budget} receivers with awkward identifiers found (seed {run_seed})")  # fmt: skip
    checks.verify()
