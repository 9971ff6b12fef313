"""SMP lookups per second through the reference network: DNS (U-NAPTR at the reference SML) +
HTTPS (SignedServiceMetadata from the reference SMP, TLS certificate of the test PKI) + schema +
XML-DSig + chain verification.

    python benchmarks/bench_smp.py [--lookups N] [--backend local|docker] [--plain-http]

Prints lookups/s and p50/p95 per lookup for the harness's own lookup client (``SmpClient``, given
the TLS anchor as ``smp_tls_trust_anchors``), the DNS NAPTR query alone, and lookups through the
reference AP's control API (``POST /conformance/v1/peppol-smp/lookup``). ``--plain-http`` serves
the SMP over plain HTTP instead (registered in the SML with the explicit ``allow_http`` knob), to
see what TLS costs. Figures, not assertions (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx

from harness.peppol.smp.client import LookupRequest, SmpClient
from harness.peppol.smp.control import lookup_request_json
from harness.peppol.smp.identifiers import (
    BIS_BILLING_INVOICE,
    BIS_BILLING_PROCESS,
    DocumentTypeIdentifier,
    ParticipantIdentifier,
    ProcessIdentifier,
)
from harness.peppol.smp.signing import TrustAnchors
from harness.peppol.smp.sml import participant_dns_name, query
from harness.peppol.smp.smp_xml import TRANSPORT_AS4_V2
from harness.pki import init_pki
from harness.reference.smp import PublishedEndpoint, ReferenceNetwork
from harness.reference.smp_network import SmpNetwork
from harness.runtime import make_runtime

RECEIVER = ParticipantIdentifier.peppol("0195:T08GB0001A")
DOCUMENT = DocumentTypeIdentifier.busdox(BIS_BILLING_INVOICE)
PROCESS = ProcessIdentifier.cenbii(BIS_BILLING_PROCESS)


def timed(n: int, fn: Callable[[], object]) -> tuple[float, list[float]]:
    fn()  # warm-up (connections, caches)
    samples: list[float] = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return time.perf_counter() - started, samples


def line(label: str, n: int, total: float, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20)
    return (
        f"{label:46} {n / total:8.1f}/s   p50 {statistics.median(samples) * 1000:6.2f} ms"
        f"   p95 {q[18] * 1000:6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--backend", choices=["local", "docker"], default="local")
    parser.add_argument(
        "--plain-http", action="store_true", help="serve the SMP over plain HTTP (to compare)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-smp-") as tmp:
        pki_dir = Path(tmp) / "pki"
        init_pki(pki_dir)
        with make_runtime(args.backend, log_dir=Path(tmp) / "logs") as runtime:
            started = time.perf_counter()
            if args.plain_http:
                sml = runtime.start("sml")
                smp = runtime.start("smp", pki_dir=pki_dir)
                admin = ReferenceNetwork(smp.base_url, sml.base_url)
                info = admin.info()
                zone, dns, tls_anchors = info["zone"], sml.extras.get("dns") or info["dns"], None
                peer_dns, peer_smp = dns, smp.base_url
                if hasattr(runtime, "peer_endpoint"):
                    peer_dns = runtime.peer_endpoint(sml).extras["dns"]
                    peer_smp = runtime.peer_endpoint(smp).base_url
            else:
                network = SmpNetwork.start(runtime, pki_dir)
                admin, smp = network.admin, network.smp
                zone, dns, tls_anchors = network.zone, network.dns, network.smp_tls_trust_anchors()
                peer = network.for_peer()
                peer_dns, peer_smp = peer.dns, peer.smp_url
            ap = runtime.start("peppol-smp-participant")
            scheme = "http" if args.plain_http else "https"
            print(f"reference network ready in {time.perf_counter() - started:.2f} s"
                  f" ({args.backend}, SMP over {scheme})")  # fmt: skip
            admin.publish(
                RECEIVER, DOCUMENT, PROCESS, [PublishedEndpoint("https://ap.example.test/as4")],
                register=False,
            )  # fmt: skip
            smp_ca = admin.trust()["smp_ca"]
            allow_http = args.plain_http

            def register(url: str) -> None:
                admin.register(RECEIVER, url, allow_http=allow_http)

            request = LookupRequest(
                RECEIVER, DOCUMENT, zone, dns, TrustAnchors.from_pem(smp_ca), (TRANSPORT_AS4_V2,),
                smp_tls_trust_anchors=tls_anchors,
            )  # fmt: skip
            name = participant_dns_name(RECEIVER, zone)
            n = args.lookups
            register(smp.base_url)  # as the harness reaches it
            with SmpClient() as client:
                total, samples = timed(n, lambda: client.lookup(request))
                print(
                    line(
                        f"SmpClient lookup (DNS + {scheme.upper()} + XSD + XML-DSig)",
                        n,
                        total,
                        samples,
                    )
                )
            total, samples = timed(n, lambda: query(dns, name, "NAPTR"))
            print(line("DNS NAPTR query alone", n, total, samples))
            register(peer_smp)  # as the AP reaches it (Docker: the container's peer host)
            body = lookup_request_json(replace(request, dns_resolver=peer_dns))
            with httpx.Client(timeout=30) as http:

                def via_ap() -> None:
                    answer = http.post(
                        ap.url("/conformance/v1/peppol-smp/lookup"), json=body
                    ).json()
                    assert answer["outcome"] == "endpoint", answer

                total, samples = timed(n, via_ap)
                print(line("through the reference AP's control API", n, total, samples))
            admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
