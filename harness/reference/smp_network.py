"""The harness's own peppol-smp network for a certification run: a test PKI, the reference SML
(DNS) and the reference SMP, started through an endpoint runtime (pytest-free).

What the suites of profile ``peppol-smp`` rely on:

- :func:`make_test_pki` creates the PKI (root, AP CA, SMP CA, leaves) and pre-issues the faulty
  SMP certificates the reference SMP signs with on request, so no endpoint writes to it;
- :meth:`SmpNetwork.start` starts ``sml`` and ``smp`` (with that PKI) and reads the zone, the DNS
  listener and the trust material; :meth:`SmpNetwork.close` closes its clients (the runtime stops
  the endpoints);
- every reference SMP of the network is served over HTTPS (Peppol SMP 1.4.0 section 5.1: an SMP
  MUST use TLS) with a TLS server certificate of its own, issued by the test PKI's root CA before
  the SMP starts (:func:`issue_smp_tls`), and the SML publishes only ``https`` URLs (Peppol SML
  1.3.0 section 2.1.1; :meth:`SmpNetwork.register` refuses anything else unless told
  ``allow_http``). :meth:`SmpNetwork.smp_tls_trust_anchors` is what a lookup request hands the AP
  as ``smp_tls_trust_anchors``;
- :meth:`SmpNetwork.publish` publishes a :class:`~harness.peppol.smp.control.Publication` at the
  reference SMP (signing faults allowed) and registers the participant in the SML;
- :meth:`SmpNetwork.for_peer` gives the addresses to hand to an endpoint started by the same
  runtime (the embedded AP): in Docker, containers reach each other by name, not by the
  127.0.0.1 ports published for the harness;
- :meth:`SmpNetwork.redirect_target` starts, once, a second reference SMP (same PKI) for redirects;
  :meth:`SmpNetwork.start_smp` starts further ones (a known-bad variant, for tests);
- :meth:`SmpNetwork.smp_crls` / :meth:`SmpNetwork.revocation_source`: the current CRLs of the test
  PKI, as a lookup request hands them to an AP and as SMP-SIG-004 is judged.

TLS names. The harness reaches an SMP at ``https://127.0.0.1:<published port>``; an AP started
by the same runtime reaches it at :meth:`for_peer`'s URL: 127.0.0.1 in the local backend, and in
Docker a host name on the run's network. That name is chosen here before the start
(``reference-smp-<random>``, handed to the runtime as ``peer_host``, which makes it a network
alias of the container and the host of its peer URL), so each SMP's certificate names exactly
``127.0.0.1``, ``localhost`` and that name (subjectAltName). Issuing before the start matters:
the Docker backend mounts the PKI read-only.

Private keys stay in the PKI directory (keep it outside the run folder); nothing here returns one.
"""

from __future__ import annotations

import secrets
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
    from harness.pki.tls import TlsServerFiles
    from harness.reference.smp import ReferenceNetwork
    from harness.runtime.base import EndpointRuntime

#: Host names an SMP's TLS certificate always names: how the harness (and a local AP) reach it.
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def make_test_pki(directory: str | Path) -> Path:
    """Create (or load) the test PKI in ``directory`` with everything the reference SMP needs."""
    from harness.pki import init_pki
    from harness.reference.smp import prepare_pki

    init_pki(directory)
    prepare_pki(directory)
    return Path(directory)


def smp_peer_host() -> str:
    """A fresh host name for one reference SMP on a Docker run network (a DNS label)."""
    return f"reference-smp-{secrets.token_hex(4)}"


def issue_smp_tls(pki_dir: str | Path, peer_host: str) -> TlsServerFiles:
    """The TLS server certificate (and key, mode 0600, in ``<pki>/tls/``) of the reference SMP
    whose peers reach it as ``peer_host``: subjectAltNames 127.0.0.1, localhost and
    ``peer_host``; issued by the test root CA (:func:`harness.pki.tls.issue_tls_server`)."""
    from harness.pki.tls import issue_tls_server

    return issue_tls_server(pki_dir, name=peer_host, hosts=(*LOCAL_HOSTS, peer_host))


def start_https_smp(
    runtime: EndpointRuntime, pki_dir: str | Path, *, variant: str | None = None
) -> RunningEndpoint:
    """Start a reference SMP (signing with the PKI at ``pki_dir``) over HTTPS, with a TLS
    certificate of its own issued first (see the module docstring, "TLS names")."""
    peer_host = smp_peer_host()
    tls = issue_smp_tls(pki_dir, peer_host)
    options: dict[str, Any] = {"pki_dir": Path(pki_dir)}
    if variant is not None:
        options["variant"] = variant
    return runtime.start(
        "smp",
        peer_host=peer_host,
        tls_cert=tls.certificate_path,
        tls_key=tls.private_key_path,
        **options,
    )


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
        self._tls_anchors: tuple[x509.Certificate, ...] | None = None

    @classmethod
    def start(cls, runtime: EndpointRuntime, pki_dir: str | Path) -> SmpNetwork:
        """Start the reference SML and the reference SMP, over HTTPS (it signs with the PKI at
        ``pki_dir``; its TLS certificate is of that PKI's root CA)."""
        from harness.reference.smp import ReferenceNetwork

        pki = Path(pki_dir)
        sml = runtime.start("sml")
        smp = start_https_smp(runtime, pki)
        admin = ReferenceNetwork(smp.base_url, sml.base_url, verify=_tls_verify(pki))
        return cls(runtime, pki, sml, smp, admin)

    def start_smp(self, variant: str | None = None) -> tuple[RunningEndpoint, ReferenceNetwork]:
        """Start a further reference SMP of this network (same PKI, HTTPS, its own TLS
        certificate) and a client of its management API; the caller closes the client and may
        stop the endpoint (the runtime stops it at the end anyway)."""
        from harness.reference.smp import ReferenceNetwork

        smp = start_https_smp(self.runtime, self.pki_dir, variant=variant)
        return smp, ReferenceNetwork(smp.base_url, self.sml.base_url, verify=self.tls_verify())

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

    def smp_tls_trust_anchors(self) -> tuple[x509.Certificate, ...]:
        """The CA that issued the TLS server certificate of every reference SMP of this network
        (the test PKI's root): what a lookup request hands the AP as ``smp_tls_trust_anchors``."""
        if self._tls_anchors is None:
            from harness.pki import load_pki

            self._tls_anchors = (load_pki(self.pki_dir).root.certificate,)
        return self._tls_anchors

    def tls_verify(self) -> Any:
        """An ``ssl.SSLContext`` that trusts the reference SMPs' TLS certificates (for clients)."""
        return _tls_verify(self.pki_dir)

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

    def register(
        self, participant: ParticipantIdentifier, smp_url: str, *, allow_http: bool = False
    ) -> dict[str, Any]:
        """Register ``participant`` in the SML with the SMP at ``smp_url``: an https URL (Peppol
        SML 1.3.0 2.1.1), or a plain http one only with ``allow_http`` (an SMP under test that
        the participant file says is served over HTTP; never a reference SMP of this network)."""
        return self.admin.register(participant, smp_url, allow_http=allow_http)

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
        """A second reference SMP (same PKI and signing certificate, HTTPS with its own TLS
        certificate), started on first use."""
        with self._lock:
            if self._second is None:
                self._second = self.start_smp()
            return self._second


def _tls_verify(pki_dir: Path) -> Any:
    from harness.peppol.smp.reader import tls_context
    from harness.pki import load_pki

    return tls_context(load_pki(pki_dir).root.certificate_path)
