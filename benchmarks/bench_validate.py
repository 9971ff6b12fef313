"""Validation throughput: the harness validator against the bare engine it drives.

For every document of the example corpus (BIS 3.0.19 ``rules/examples`` and ``rules/snippets``,
the 16 PINT SG examples), after a warm-up, each iteration times:

* **harness** -- ``get_validator().validate(data, name=..., rulesets=None)``: the rule sets the
  CustomizationID selects (BIS: XSD + CEN 1.3.14.1 + Peppol 3.0.19; PINT SG: XSD + PINT SG),
  safe parsing, SVRL reading, per-assert checks, everything a caller gets;
* **bare** -- the same compiled artefacts called directly: lxml parses the bytes and validates
  them with the harness's own ``XMLSchema`` object, Saxon parses the text once and every compiled
  executable the harness would run is applied to that node (SVRL as a string, not read).

The compiled objects come from the validator itself (``DocumentValidator.compiled_stage`` and
``DocumentValidator.xsd_schema``, stages chosen by ``rulesets.distinct_stages``), so both sides
run the very same stylesheets and schema. The two sides alternate per document and iteration so
that drift on a shared machine hits both alike.

Prints per-document p50/p95 for both sides and their ratio, documents per second, and the two
targets of issue 2 part 14 (base-example.xml p50 <= 10 ms; harness/bare <= 1.5).

    python benchmarks/bench_validate.py --iterations 50
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: artefact-key prefix -> short label used in the table
CORPUS_FOLDERS = {
    "peppol/bis-billing-3.0.19/rules/examples/": "bis/examples/",
    "peppol/bis-billing-3.0.19/rules/snippets/": "bis/snippets/",
    "peppol/pint-sg-1.4.1/trn-invoice/example/": "pint-sg/",
}
TARGET_KEY = "peppol/bis-billing-3.0.19/rules/examples/base-example.xml"
TARGET_P50_MS = 10.0
TARGET_RATIO = 1.5


@dataclass
class Doc:
    key: str
    label: str
    data: bytes
    rulesets: tuple[str, ...]
    harness_ns: list[int] = field(default_factory=list)
    bare_ns: list[int] = field(default_factory=list)


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


def _percentile(values: Sequence[int], q: float) -> float:
    """Nearest-rank percentile of nanosecond samples, in milliseconds."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank] / 1e6


def _bare_runner(validator: Any, doc: Doc) -> Callable[[], None]:
    """A closure running the bare engine on ``doc`` with the harness's own compiled objects."""
    from lxml import etree

    from harness.peppol import rulesets as rs
    from harness.xml import schematron as sch

    root = etree.fromstring(doc.data).tag.rsplit("}", 1)[-1]
    schema = None
    schematron_ids = []
    for ruleset_id in doc.rulesets:
        ruleset = rs.get_ruleset(ruleset_id)
        if ruleset.is_xsd:
            schema = validator.xsd_schema(ruleset, root)
        else:
            schematron_ids.append(ruleset_id)
    executables = [
        validator.compiled_stage(stage).executable
        for _, stage in rs.distinct_stages(schematron_ids, root, validator.store.lock)
    ]
    processor = sch.saxon()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    data = doc.data
    text = data.decode("utf-8")

    def run() -> None:
        tree = etree.fromstring(data, parser)
        if schema is not None:
            schema.validate(tree)
        node = processor.parse_xml(xml_text=text, encoding="UTF-8")
        for exe in executables:
            if exe.transform_to_string(xdm_node=node) is None:
                raise RuntimeError(f"{doc.key}: an executable produced no SVRL")

    return run


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--iterations", type=int, default=30, help="timed rounds over the corpus (default 30)"
    )
    ap.add_argument("--warmup", type=int, default=3, help="untimed rounds first (default 3)")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (default); cpu: CPU time of this process, steadier on a loaded machine",
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:
        ap.error("--iterations must be >= 1 and --warmup >= 0")

    _default_mirror()
    from harness.artefacts.store import ArtefactStore
    from harness.peppol.validation import get_validator

    store = ArtefactStore.default()
    validator = get_validator()

    t0 = time.perf_counter()
    docs: list[Doc] = []
    for folder, short in CORPUS_FOLDERS.items():
        for key in store.keys(folder):
            data = store.read_bytes(key)
            first = validator.validate(data, name=key)  # compiles what this document needs
            if first.error is not None or not first.valid:
                print(
                    f"warning: {key} is not valid: {first.error or [fa.id for fa in first.errors]}",
                    file=sys.stderr,
                )
            docs.append(Doc(key, short + key[len(folder) :], data, first.rulesets))
    setup_s = time.perf_counter() - t0

    harness_calls = {d.key: (lambda d=d: validator.validate(d.data, name=d.key)) for d in docs}
    bare_calls = {d.key: _bare_runner(validator, d) for d in docs}

    for _ in range(args.warmup):
        for d in docs:
            harness_calls[d.key]()
            bare_calls[d.key]()

    gc.collect()
    clock = time.perf_counter_ns if args.clock == "wall" else time.process_time_ns
    total_harness = total_bare = 0
    for i in range(args.iterations):
        for d in docs:
            sides = ((harness_calls[d.key], d.harness_ns), (bare_calls[d.key], d.bare_ns))
            for call, samples in sides if i % 2 == 0 else reversed(sides):
                start = clock()
                call()
                samples.append(clock() - start)
        total_harness += sum(d.harness_ns[-1] for d in docs)
        total_bare += sum(d.bare_ns[-1] for d in docs)

    n = len(docs) * args.iterations
    rows: list[dict[str, object]] = []
    width = max(len(d.label) for d in docs)
    print(
        f"{len(docs)} documents x {args.iterations} iterations (warm-up {args.warmup}); "
        f"first validation of each (compiles the rule sets) took {setup_s:.1f} s; "
        f"clock: {args.clock}"
    )
    print(
        f"{'document':<{width}}  {'harness p50':>11} {'p95':>7}  {'bare p50':>8} {'p95':>7}  {'ratio':>5}"
    )
    for d in docs:
        h50, h95 = _percentile(d.harness_ns, 50), _percentile(d.harness_ns, 95)
        b50, b95 = _percentile(d.bare_ns, 50), _percentile(d.bare_ns, 95)
        rows.append(
            {
                "key": d.key,
                "rulesets": list(d.rulesets),
                "bytes": len(d.data),
                "harness_p50_ms": h50,
                "harness_p95_ms": h95,
                "bare_p50_ms": b50,
                "bare_p95_ms": b95,
                "ratio_p50": h50 / b50,
            }
        )
        print(
            f"{d.label:<{width}}  {h50:>9.2f}ms {h95:>5.2f}ms  {b50:>6.2f}ms {b95:>5.2f}ms  {h50 / b50:>5.2f}"
        )

    harness_dps = n / (total_harness / 1e9)
    bare_dps = n / (total_bare / 1e9)
    ratio = total_harness / total_bare
    ratio_median = statistics.median(
        _percentile(d.harness_ns, 50) / _percentile(d.bare_ns, 50) for d in docs
    )
    target_p50 = next(_percentile(d.harness_ns, 50) for d in docs if d.key == TARGET_KEY)
    ok_p50 = target_p50 <= TARGET_P50_MS
    ok_ratio = ratio <= TARGET_RATIO
    print()
    print(
        f"throughput: harness {harness_dps:.1f} docs/s, bare {bare_dps:.1f} docs/s (one thread, {args.clock} clock)"
    )
    print(
        f"harness/bare: {ratio:.2f} over the corpus (total time); median per-document p50 ratio {ratio_median:.2f}"
    )
    print(
        f"target base-example.xml p50 <= {TARGET_P50_MS:g} ms: {target_p50:.2f} ms "
        f"{'MET' if ok_p50 else 'MISSED'}"
    )
    print(f"target harness/bare <= {TARGET_RATIO:g}: {ratio:.2f} {'MET' if ok_ratio else 'MISSED'}")

    if args.json is not None:
        import platform
        from importlib import metadata

        args.json.write_text(
            json.dumps(
                {
                    "iterations": args.iterations,
                    "clock": args.clock,
                    "warmup": args.warmup,
                    "documents": rows,
                    "harness_docs_per_s": harness_dps,
                    "bare_docs_per_s": bare_dps,
                    "ratio": ratio,
                    "ratio_median_p50": ratio_median,
                    "environment": {
                        "python": platform.python_version(),
                        "machine": platform.machine(),
                        "cpus": os.cpu_count(),
                        "saxonche": metadata.version("saxonche"),
                        "lxml": metadata.version("lxml"),
                    },
                },
                indent=2,
            )
            + "\n"
        )
    return 0 if (ok_p50 and ok_ratio) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
