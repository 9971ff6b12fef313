"""The harness's own peppol-smp network for a certification run: a test PKI, the reference SML
(DNS) and the reference SMP, started through an endpoint runtime (pytest-free).

What the suites of profile ``peppol-smp`` rely on:

- :func:`make_test_pki` creates the PKI (root, AP CA, SMP CA, leaves) and pre-issues the faulty
  SMP certificates the reference SMP signs with on request, so no endpoint writes to it;
- :meth:`SmpNetwork.start` starts ``sml`` and ``smp`` (with that PKI) and reads the zone, the DNS
  listener and the trust material; :meth:`SmpNetwork.close` closes its clients (the runtime stops
  the endpoints);
- :meth:`SmpNetwork.publish` publishes a :class:`~harness.peppol.smp.control.Publication` at the
  reference SMP (signing faults allowed) and registers the participant in the SML;
- :meth:`SmpNetwork.for_peer` gives the addresses to hand to an endpoint started by the same
  runtime (the embedded AP): in Docker, containers reach each other by name, not by the
  127.0.0.1 ports published for the harness;
- :meth:`SmpNetwork.redirect_target` starts, once, a second reference SMP (same PKI) for redirects;
- :meth:`SmpNetwork.smp_crls` / :meth:`SmpNetwork.revocation_source`: the current CRLs of the test
  PKI, as a lookup request hands them to an AP and as SMP-SIG-004 is judged.

Private keys stay in the PKI directory (keep it outside the run folder); nothing here returns one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.peppol.smp.identifiers import ParticipantIdentifier
from harness.runtime.base import RunningEndpoint

if TYPE_CHECKING:
    from cryptography import x509

    from harness.peppol.smp.control import Publication
    from harness.peppol.smp.judge import RevocationSource
    from harness.peppol.smp.signing import TrustAnchors
    from harness.reference.smp import ReferenceNetwork
    from harness.runtime.base import EndpointRuntime


def make_test_pki(directory: str | Path) -> Path:
    """Create (or load) the test PKI in ``directory`` with everything the reference SMP needs."""
    from harness.pki import init_pki
    from harness.reference.smp import prepare_pki

    init_pki(directory)
    prepare_pki(directory)
    return Path(directory)


@dataclass(frozen=True)
class PeerAddresses:
    """How an endpoint of the same runtime reaches the network (DNS ``host:port``, SMP URLs)."""

    dns: str
    smp_url: str


class SmpNetwork:
    """The reference SML and SMP of one process (each pytest-xdist worker starts its own)."""

    def __init__(
        self,
        runtime: EndpointRuntime,
        pki_dir: Path,
        sml: RunningEndpoint,
        smp: RunningEndpoint,
        admin: ReferenceNetwork,
    ) -> None:
        self.runtime = runtime
        self.pki_dir = pki_dir
        self.sml = sml
        self.smp = smp
        self.admin = admin
        info = admin.info()
        self.zone: str = info["zone"]
        self.dns: str = sml.extras.get("dns") or info["dns"]
        self._trust: dict[str, str] = admin.trust()
        self._lock = threading.Lock()
        self._second: tuple[RunningEndpoint, ReferenceNetwork] | None = None

    @classmethod
    def start(cls, runtime: EndpointRuntime, pki_dir: str | Path) -> SmpNetwork:
        """Start the reference SML and SMP (the SMP signs with the PKI at ``pki_dir``)."""
        from harness.reference.smp import ReferenceNetwork

        pki = Path(pki_dir)
        sml = runtime.start("sml")
        smp = runtime.start("smp", pki_dir=pki)
        return cls(runtime, pki, sml, smp, ReferenceNetwork(smp.base_url, sml.base_url))

    def close(self) -> None:
        self.admin.close()
        if self._second is not None:
            self._second[1].close()

    # -- trust material (certificates only, never keys) ---------------------------------------

    @property
    def smp_ca_pem(self) -> str:
        """The SMP CA of the test PKI: the trust anchor for SMP signatures."""
        return self._trust["smp_ca"]

    @property
    def ap_certificate_pem(self) -> str:
        """The reference AP's certificate (what published endpoints carry)."""
        return self._trust["ap_certificate"]

    @property
    def smp_certificate_uid(self) -> str:
        """``CertificateUID`` of the reference SMP's signing certificate (for Redirects to it)."""
        return self._trust["certificate_uid"]

    def trust_anchors(self) -> TrustAnchors:
        from harness.peppol.smp.signing import TrustAnchors

        return TrustAnchors.from_pem(self.smp_ca_pem)

    def smp_crls(self) -> tuple[x509.CertificateRevocationList, ...]:
        """The current CRL of the SMP CA (the CA of :meth:`trust_anchors`), read from the PKI now:
        what a lookup request hands the AP as ``smp_crls``."""
        from harness.pki import load_pki

        return (load_pki(self.pki_dir).crl("smp-ca"),)

    def revocation_source(self) -> RevocationSource:
        """The test SMP CA and root with their current CRLs: what SMP-SIG-004 is judged by."""
        from harness.peppol.smp.judge import RevocationSource
        from harness.pki import load_pki

        pki = load_pki(self.pki_dir)
        names = ("smp-ca", "root")
        return RevocationSource(
            tuple(pki.authority(n).certificate for n in names), tuple(pki.crl(n) for n in names)
        )

    def ap_certificate_der(self) -> bytes:
        from harness.peppol.smp.control import certificate_der

        der = certificate_der(self.ap_certificate_pem)
        assert der is not None
        return der

    # -- addresses ---------------------------------------------------------------------------

    def for_peer(self, smp: RunningEndpoint | None = None) -> PeerAddresses:
        """DNS resolver and SMP base URL as another endpoint of the same runtime reaches them."""
        smp = smp or self.smp
        peer = getattr(self.runtime, "peer_endpoint", None)
        if peer is None:
            return PeerAddresses(self.dns, smp.base_url)
        sml_peer, smp_peer = peer(self.sml), peer(smp)
        return PeerAddresses(sml_peer.extras.get("dns", self.dns), smp_peer.base_url)

    # -- publishing ---------------------------------------------------------------------------

    def publish(
        self,
        publication: Publication,
        *,
        register: bool = True,
        smp_url: str | None = None,
        admin: ReferenceNetwork | None = None,
    ) -> dict[str, Any]:
        """Publish at the reference SMP (``admin``: another one) and, by default, register the
        participant in the SML pointing at ``smp_url`` (default: that SMP's URL as the harness
        reaches it)."""
        target = admin or self.admin
        answer = target.publish_raw(publication.to_json(with_signing=True), register=False)
        if register:
            self.register(publication.participant, smp_url or target.smp_url)
        return answer

    def register(self, participant: ParticipantIdentifier, smp_url: str) -> dict[str, Any]:
        """Register ``participant`` in the SML with the SMP at ``smp_url``."""
        return self.admin.register(participant, smp_url)

    def clear_logs(self) -> None:
        """Forget the SML's DNS query log and the SMP's request log (before asking an AP)."""
        self.admin.http.delete(
            f"{self.admin.sml_url}/conformance/v1/peppol-sml/queries"
        ).raise_for_status()
        self.admin.http.delete(
            f"{self.admin.smp_url}/conformance/v1/peppol-smp/requests"
        ).raise_for_status()
        if self._second is not None:
            second = self._second[1]
            second.http.delete(
                f"{second.smp_url}/conformance/v1/peppol-smp/requests"
            ).raise_for_status()

    def dns_queries(self) -> list[dict[str, str]]:
        return self.admin.dns_queries()

    def smp_requests(self) -> list[dict[str, Any]]:
        return self.admin.smp_requests()

    def naptr_answer(self, participant: ParticipantIdentifier) -> bytes:
        """The SML's NAPTR answer for ``participant`` as DNS wire bytes (evidence)."""
        from harness.peppol.smp.sml import participant_dns_name, query

        return query(self.dns, participant_dns_name(participant, self.zone), "NAPTR").wire

    def redirect_target(self) -> tuple[RunningEndpoint, ReferenceNetwork]:
        """A second reference SMP (same PKI and certificate), started on first use."""
        from harness.reference.smp import ReferenceNetwork

        with self._lock:
            if self._second is None:
                smp = self.runtime.start("smp", pki_dir=self.pki_dir)
                self._second = (smp, ReferenceNetwork(smp.base_url, self.sml.base_url))
            return self._second
