"""SMP lookups per second through the reference network: DNS (U-NAPTR at the reference SML) +
HTTP (SignedServiceMetadata from the reference SMP) + schema + XML-DSig + chain verification.

    python benchmarks/bench_smp.py [--lookups N] [--backend local|docker]

Prints lookups/s and p50/p95 per lookup for the harness's own lookup client (``SmpClient``), the
DNS NAPTR query alone, and lookups through the reference AP's control API
(``POST /conformance/v1/peppol-smp/lookup``). Figures, not assertions (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from harness.peppol.smp.client import LookupRequest, SmpClient
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-smp-") as tmp:
        pki_dir = Path(tmp) / "pki"
        init_pki(pki_dir)
        with make_runtime(args.backend, log_dir=Path(tmp) / "logs") as runtime:
            started = time.perf_counter()
            sml = runtime.start("sml")
            smp = runtime.start("smp", pki_dir=pki_dir)
            ap = runtime.start("peppol-smp-participant")
            print(f"reference network ready in {time.perf_counter() - started:.2f} s ({args.backend})")
            with ReferenceNetwork(smp.base_url, sml.base_url) as admin:
                info = admin.info()
                admin.publish(RECEIVER, DOCUMENT, PROCESS, [PublishedEndpoint("https://ap.example.test/as4")])
                smp_ca = admin.trust()["smp_ca"]
            request = LookupRequest(
                RECEIVER, DOCUMENT, info["zone"], info["dns"], TrustAnchors.from_pem(smp_ca), (TRANSPORT_AS4_V2,)
            )
            name = participant_dns_name(RECEIVER, info["zone"])
            n = args.lookups
            with SmpClient() as client:
                total, samples = timed(n, lambda: client.lookup(request))
                print(line("SmpClient lookup (DNS + HTTP + XSD + XML-DSig)", n, total, samples))
            total, samples = timed(n, lambda: query(info["dns"], name, "NAPTR"))
            print(line("DNS NAPTR query alone", n, total, samples))
            body = {
                "receiver": RECEIVER.uri,
                "document_type": DOCUMENT.uri,
                "sml_zone": info["zone"],
                "dns_resolver": info["dns"],
                "smp_trust_anchors": [smp_ca],
                "transport_profiles": [TRANSPORT_AS4_V2],
            }
            with httpx.Client(timeout=30) as http:
                def via_ap() -> None:
                    answer = http.post(ap.url("/conformance/v1/peppol-smp/lookup"), json=body).json()
                    assert answer["outcome"] == "endpoint", answer

                total, samples = timed(n, via_ap)
                print(line("through the reference AP's control API", n, total, samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
