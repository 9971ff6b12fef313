"""Fixtures of the peppol-smp suite, built from the participant's claim and the harness's network.

Tests of a role the participant does not claim are deselected. Everything here is glue: the test
participants and lookup cases come from :mod:`harness.peppol.smp.scenarios`, the judgements from
:mod:`harness.peppol.smp.judge`, the network from :mod:`harness.reference.smp_network`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

PROFILE = "peppol-smp"


def _claim(config: pytest.Config) -> Any | None:
    plugin = config.pluginmanager.get_plugin("conformance-session")
    if plugin is None or PROFILE not in plugin.ctx.profiles:
        return None
    return plugin.participant.profile(PROFILE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests of a role the participant does not claim."""
    claim = _claim(config)
    if claim is None:
        return
    keep, drop = [], []
    for item in items:
        profile = item.get_closest_marker("profile")
        role = item.get_closest_marker("role")
        if profile and profile.args[0] == PROFILE and role and role.args[0] not in claim.roles:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- shared ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smp_claim(participant: Any) -> Any:
    """``[profiles.peppol-smp]`` of the participant (``harness.config.participant.SmpSettings``)."""
    return participant.profile(PROFILE).smp


@pytest.fixture(scope="session")
def smp_token(conformance_run: Any) -> str:
    """Keeps this run's (and this worker's) test participants apart from any other's."""
    text = f"{conformance_run.run_id}/{conformance_run.worker_id}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]


class SmpEvidence:
    """Stores what the SMP and the AP exchanged with the harness, returns the evidence digests."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def http(self, exchanges: Iterable[Any]) -> list[str]:
        refs: list[str] = []
        for ex in exchanges:
            refs.append(
                self.store.put(
                    ex.request_message,
                    media_type="message/http",
                    label=f"request {ex.method} {ex.url}",
                )
            )
            if ex.response_message:
                refs.append(
                    self.store.put(
                        ex.response_message,
                        media_type="message/http",
                        label=f"response to GET {ex.url}: HTTP {ex.status}",
                    )
                )
        return refs

    def records(self, records: Iterable[Any]) -> list[str]:
        return [self.store.put(r.data, media_type=r.media_type, label=r.label) for r in records]

    def json(self, value: Any, label: str) -> str:
        data = json.dumps(value, indent=1, sort_keys=True).encode()
        return self.store.put(data, media_type="application/json", label=label)

    def dns(self, wire: bytes, label: str) -> str:
        return self.store.put(wire, media_type="application/dns-message", label=label)


@pytest.fixture(scope="session")
def smp_evidence(evidence: Any) -> SmpEvidence:
    return SmpEvidence(evidence)


# -- role smp ----------------------------------------------------------------------------------


@dataclass
class Published:
    """The test participants and how publishing each of them went."""

    participants: Any  # harness.peppol.smp.scenarios.SmpTestParticipants
    results: dict[str, Any] = field(default_factory=dict)  # name -> drivers.smp.PublishResult

    def failure(self, *names: str) -> str | None:
        """Why the named publications are not there (None: all published)."""
        for name in names:
            result = self.results[name]
            if not result.published:
                return f"the harness could not publish its test participant {name!r}: {result.error or result.api_problem}"
        return None


class SmpPublisher:
    """Publishes on the SMP under test through the driver and remembers what it published, so that
    :meth:`unpublish_all` leaves no test participant of this process behind."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self._published: dict[Any, Any] = {}  # ParticipantIdentifier.key -> ParticipantIdentifier

    def publish(self, publication: Any) -> Any:
        """``driver.publish`` (a ``harness.drivers.smp.PublishResult``), remembering success."""
        result = self.driver.publish(publication)
        if result.published:
            self._published[publication.participant.key] = publication.participant
        return result

    def unpublish(self, participant: Any) -> Any:
        """``driver.unpublish`` (a ``harness.drivers.smp.UnpublishResult``); forgets on success."""
        result = self.driver.unpublish(participant)
        if result.unpublished:
            self._published.pop(participant.key, None)
        return result

    def unpublish_all(self) -> dict[str, Any]:
        """Unpublish every participant still remembered; what happened, for the report."""
        removed, kept = [], []
        for participant in list(self._published.values()):
            result = self.unpublish(participant)
            if result.unpublished:
                removed.append(participant.uri)
            else:
                kept.append(
                    {"participant": participant.uri, "error": result.error or result.api_problem}
                )
        return {"unpublished": removed, "not_unpublished": kept}


@pytest.fixture(scope="session")
def smp_publisher(smp_driver: Any, conformance_run: Any) -> Iterator[SmpPublisher]:
    """Publishes the test participants of this process; at the end of the session (after every
    check of this process that reads them: pytest-xdist workers publish their own, under their own
    token) unpublishes them all and records how that went as an observed fact of the run."""
    from harness.plugin.session import write_observed

    publisher = SmpPublisher(smp_driver)
    try:
        yield publisher
    finally:
        write_observed(conformance_run, "peppol-smp cleanup", publisher.unpublish_all())


@pytest.fixture(scope="session")
def smp_published(
    smp_publisher: SmpPublisher, smp_network: Any, smp_token: str, smp_claim: Any
) -> Published:
    """Publishes the test participants on the SMP under test (and the redirect's target on the
    harness's reference SMP), once per process; :func:`smp_publisher` removes them at the end."""
    from harness.peppol.smp.scenarios import smp_test_participants

    tp = smp_claim.transport_profiles[0]
    participants = smp_test_participants(
        smp_token,
        smp_network.ap_certificate_der(),
        tp,
        redirect_smp_url=smp_network.smp.base_url,
        redirect_certificate_uid=smp_network.smp_certificate_uid,
    )
    smp_network.publish(participants.redirect_target, register=False)
    published = Published(participants)
    for name in ("main", "awkward", "redirect"):
        published.results[name] = smp_publisher.publish(getattr(participants, name))
    return published


@pytest.fixture(scope="session")
def smp_reader(smp_driver: Any) -> Iterator[Any]:
    """Reads the SMP under test (``harness.peppol.smp.reader.SmpReader``)."""
    from harness.peppol.smp.reader import SmpReader

    url = smp_driver.smp_url
    if url is None:
        pytest.fail("the SMP under test did not start or has no URL (see the driver's error)")
    with SmpReader(
        url, tls_ca=smp_driver.tls_ca, volatile_headers=smp_driver.volatile_headers
    ) as reader:
        yield reader


@pytest.fixture(scope="session")
def smp_trust(smp_driver: Any) -> Any:
    """The SMP CA of the SMP under test, as trust anchors."""
    from harness.peppol.smp.signing import TrustAnchors

    pem = smp_driver.smp_trust_anchor
    if not pem:
        pytest.fail("no SMP CA configured for the SMP under test ([profiles.peppol-smp] smp_ca)")
    return TrustAnchors.from_pem(pem)


@pytest.fixture(scope="session")
def smp_revocation(smp_network: Any) -> Any:
    """The CRLs SMP-SIG-004 is judged by (``harness.peppol.smp.judge.RevocationSource``): those of
    the harness's test SMP CA, which an embedded SMP signs under; a participant's own SMP CA is
    not among them (its certificate's revocation is then not applicable, with the reason)."""
    return smp_network.revocation_source()


# -- role ap -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupRun:
    """One question to the AP and everything seen while it answered."""

    request: Any  # harness.peppol.smp.client.LookupRequest
    answer: Any  # harness.drivers.smp.LookupAnswer
    dns_queries: list[dict[str, Any]]
    smp_requests: list[dict[str, Any]]


class LookupBench:
    """Publishes a lookup case on the harness's network and asks the AP about it.

    Every reference SMP is served over HTTPS and registered in the SML with its https URL (as
    the AP reaches it); each request hands the AP the CA of their TLS certificates as
    ``smp_tls_trust_anchors``. Before each question the bench reads the receiver's NAPTR record
    as the AP will (:attr:`naptr_smp_urls`: every SMP URL the SML gave during the lookups).
    """

    def __init__(self, driver: Any, network: Any, claim: Any, token: str) -> None:
        self.driver = driver
        self.network = network
        self.claim = claim
        self.token = token
        self.naptr_smp_urls: set[str] = set()
        second, self.second_admin = network.redirect_target()
        peer = driver.ap_is_peer
        self.addresses = network.for_peer() if peer else None
        second_peer = network.for_peer(second) if peer else None
        self.smp_url = self.addresses.smp_url if self.addresses else network.smp.base_url
        self.dns = self.addresses.dns if self.addresses else network.dns
        self.second_smp_url = second_peer.smp_url if second_peer else second.base_url

    def cases(self) -> dict[str, Any]:
        from harness.peppol.smp.scenarios import lookup_cases

        return {
            c.id: c
            for c in lookup_cases(
                self.token,
                self.network.ap_certificate_der(),
                tuple(self.claim.transport_profiles),
                second_smp_url=self.second_smp_url,
                smp_certificate_uid=self.network.smp_certificate_uid,
            )
        }

    def publish(self, case: Any) -> None:
        for where, publication in case.publications:
            if where == "second":
                self.network.publish(publication, register=False, admin=self.second_admin)
            else:
                self.network.publish(publication, register=False)
        if case.register:
            self.register(case.receiver)

    def register(self, receiver: Any) -> None:
        """Register ``receiver`` in the SML with the main reference SMP (https)."""
        self.network.register(receiver, self.smp_url)

    def _read_naptr(self, receiver: Any) -> None:
        from harness.peppol.smp.errors import SmlLookupError
        from harness.peppol.smp.sml import resolve_smp_url

        try:
            location = resolve_smp_url(receiver, self.network.zone, self.network.dns)
        except SmlLookupError:
            return  # not registered (a case of its own)
        self.naptr_smp_urls.add(location.smp_url)

    def ask(self, receiver: Any, document_type: Any) -> LookupRun:
        from harness.peppol.smp.client import LookupRequest

        request = LookupRequest(
            receiver=receiver,
            document_type=document_type,
            sml_zone=self.network.zone,
            dns_resolver=self.dns,
            trust=self.network.trust_anchors(),
            transport_profiles=tuple(self.claim.transport_profiles),
            smp_crls=self.network.smp_crls(),
            smp_tls_trust_anchors=self.network.smp_tls_trust_anchors(),
        )
        self._read_naptr(receiver)
        self.network.clear_logs()
        answer = self.driver.lookup(request)
        return LookupRun(request, answer, self.network.dns_queries(), self.network.smp_requests())


@pytest.fixture(scope="session")
def lookup_bench(
    smp_driver: Any, smp_network: Any, smp_claim: Any, smp_token: str, conformance_run: Any
) -> Iterator[LookupBench]:
    """The lookup bench of this process; at the end of the session it records, as an observed
    fact of the run, the SMP URLs the harness's SML published in the NAPTR records of the
    receivers the AP was asked about (all https: Peppol SML 1.3.0 2.1.1)."""
    from harness.plugin.session import write_observed

    bench = LookupBench(smp_driver, smp_network, smp_claim, smp_token)
    try:
        yield bench
    finally:
        write_observed(
            conformance_run, "peppol-smp lookup NAPTR", {"smp_urls": sorted(bench.naptr_smp_urls)}
        )
