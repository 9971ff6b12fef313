"""Cold start of the reference network to ready, with the local and the Docker backend.

One sample: a new runtime (``make_runtime(backend)``), then every endpoint of the network is
started at once (one thread each, as independent tests would) and the clock stops when the last
one answers its health check (``runtime.start`` returns only then). Nothing is running before a
sample; images are present for Docker (the script prepares them first and reports that time
separately), so a Docker sample is what a test session pays: connect, clean-up of stale
resources, image check (digest of the sources), network, containers, readiness. After each
sample the runtime is stopped, and that is timed too (containers and network removed).

Networks (``--network``):

* ``bis``: ``peppol-participant`` (the peppol-bis reference participant);
* ``smp``: ``sml`` (HTTP + DNS on UDP/TCP), ``smp``, ``peppol-smp-participant``;
* ``all`` (default): all four.

Prints, per backend, median / p95 / min / max of the time to ready and of the stop, and each
endpoint's own median ``startup_seconds``; targets of issue 3: local < 2 s, Docker < 15 s with
images present.

    python benchmarks/bench_runtime.py --starts 10                 # both backends
    python benchmarks/bench_runtime.py --backend docker --starts 5 --json out.json
    # options: --network bis|smp|all  --check (exit 1 if a median misses its target)

Docker needs the ``[docker]`` extra and an engine (``scripts/docker-setup.sh`` on our
machines; set ``CONFORMANCE_DOCKER_BASE_IMAGE=conformance-base:bookworm`` there).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NETWORKS: dict[str, tuple[str, ...]] = {
    "bis": ("peppol-participant",),
    "smp": ("sml", "smp", "peppol-smp-participant"),
    "all": ("peppol-participant", "sml", "smp", "peppol-smp-participant"),
}
TARGETS = {"local": 2.0, "docker": 15.0}


@dataclass
class Figures:
    backend: str
    network: tuple[str, ...]
    ready_s: list[float] = field(default_factory=list)
    stop_s: list[float] = field(default_factory=list)
    per_endpoint_s: dict[str, list[float]] = field(default_factory=dict)
    prepare_s: float | None = None

    def summary(self, values: Sequence[float]) -> dict[str, float]:
        return {
            "median": round(statistics.median(values), 3),
            "p95": round(_percentile(values, 95), 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
        }


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def _default_mirror() -> None:
    """Use the shared offline mirror when none is configured (as the test suite does)."""
    if os.environ.get("CONFORMANCE_ARTEFACTS_MIRROR"):
        return
    for candidate in (
        Path(__file__).resolve().parents[2] / "shared" / "artefacts",
        Path("/work/shared/artefacts"),
    ):
        if (candidate / "MANIFEST.json").is_file():
            os.environ["CONFORMANCE_ARTEFACTS_MIRROR"] = str(candidate)
            return


def prepare_docker() -> tuple[float, str]:
    """Build or find the harness image (not part of a sample: "images present"); its tag is
    then pinned, so that edits to the working tree during the run cannot trigger a rebuild."""
    from harness.runtime.docker import connect, ensure_image

    started = time.monotonic()
    info = ensure_image(connect())
    took = time.monotonic() - started
    state = f"built in {info.seconds:.1f} s" if info.built else "present"
    print(f"docker image {info.tag} over {info.base_image}: {state} (prepare {took:.1f} s)")
    return took, info.tag


def one_sample(
    backend: str, network: Sequence[str], log_root: Path, figures: Figures, **kw: Any
) -> None:
    from harness.runtime import make_runtime

    log_dir = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=log_root))
    started = time.monotonic()
    runtime = make_runtime(backend, log_dir=log_dir, **kw)
    try:
        with ThreadPoolExecutor(max_workers=len(network)) as pool:
            endpoints = list(pool.map(runtime.start, network))
        figures.ready_s.append(time.monotonic() - started)
        for endpoint in endpoints:
            figures.per_endpoint_s.setdefault(endpoint.name, []).append(
                endpoint.startup_seconds or 0.0
            )
    finally:
        stopping = time.monotonic()
        runtime.stop()
        figures.stop_s.append(time.monotonic() - stopping)


def run(backend: str, network_name: str, starts: int, log_root: Path) -> Figures:
    network = NETWORKS[network_name]
    figures = Figures(backend, network)
    kw: dict[str, Any] = {}
    if backend == "docker":
        took, kw["image"] = prepare_docker()
        figures.prepare_s = round(took, 1)
    one_sample(backend, network, log_root, Figures(backend, network), **kw)  # warm-up, not counted
    for i in range(starts):
        one_sample(backend, network, log_root, figures, **kw)
        print(
            f"  {backend} sample {i + 1}/{starts}: ready {figures.ready_s[-1]:.2f} s, stop {figures.stop_s[-1]:.2f} s",
            flush=True,
        )
    return figures


def report(figures: Figures) -> bool:
    ready = figures.summary(figures.ready_s)
    stop = figures.summary(figures.stop_s)
    target = TARGETS[figures.backend]
    met = ready["median"] < target
    print(f"\n{figures.backend}: {', '.join(figures.network)} ({len(figures.ready_s)} starts)")
    print(
        f"  ready   median {ready['median']:6.2f} s  p95 {ready['p95']:6.2f} s  min {ready['min']:6.2f}  max {ready['max']:6.2f}"
    )
    print(f"  stop    median {stop['median']:6.2f} s  p95 {stop['p95']:6.2f} s")
    for name, values in figures.per_endpoint_s.items():
        print(f"  {name:<24} own start-up median {statistics.median(values):.2f} s")
    print(f"  target: ready < {target:g} s (median): {'met' if met else 'MISSED'}")
    return met


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["local", "docker", "both"], default="both")
    parser.add_argument("--network", choices=sorted(NETWORKS), default="all")
    parser.add_argument(
        "--starts", type=int, default=10, help="timed starts per backend (default 10)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if a median misses its target")
    args = parser.parse_args(argv)
    if args.starts < 1:
        parser.error("--starts must be at least 1")
    _default_mirror()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    backends = ["local", "docker"] if args.backend == "both" else [args.backend]
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        for backend in backends:
            results.append(run(backend, args.network, args.starts, Path(tmp)))
    met = [report(f) for f in results]
    if args.json:
        Path(args.json).write_text(
            json.dumps([asdict(f) for f in results], indent=2), encoding="utf-8"
        )
    return 0 if all(met) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
