"""Property-based campaign: many generated documents through the official rules, plus mutations.

:func:`run_campaign` generates ``n`` invoices and credit notes with Hypothesis from a fixed
seed (the same seed and count give the same documents), writes each through the UBL writer,
validates it against the official rules of its rule set (XSD, CEN, Peppol or PINT SG) and
checks that it is the scenario it was generated for. It then applies every mutation of
:mod:`harness.peppol.mutations` to a sample of those documents and checks that exactly the
declared rules fire. When a generated document is invalid, Hypothesis replays the same
generation and shrinks it to a minimal failing invoice.

Command line::

    python -m harness.peppol.campaign --count 2000 --seed 20261127

prints the counts per scenario, VAT category, document type and currency and exits
non-zero if any document is invalid or not its scenario, any mutation misfires, or any
catalogue scenario got no document.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, HarnessError
from harness.peppol.model import Invoice
from harness.peppol.scenarios import (
    RULESET_BIS,
    RULESET_PINT_SG,
    check_document,
    scenarios_for,
    validation_rulesets,
)

DEFAULT_RULESETS: tuple[str, ...] = (RULESET_BIS, RULESET_PINT_SG)
Progress = Callable[[str, int, int], None]
Case = tuple[str, str, Invoice]  # (rule set, scenario id, invoice)


@dataclass(frozen=True)
class DocumentFailure:
    """A generated document that is invalid or not the scenario it was generated for."""

    index: int
    ruleset: str
    scenario: str
    problems: tuple[str, ...]
    document: bytes


@dataclass(frozen=True)
class MutationMisfire:
    """A mutation that did not fire exactly its declared rules on one base document."""

    mutation: str
    index: int
    ruleset: str
    scenario: str
    missing: frozenset[str]  # declared but did not fire
    unexpected: frozenset[str]  # fired but not declared


@dataclass(frozen=True)
class CampaignResult:
    """What a campaign saw. ``ok`` is the verdict; ``format()`` the printable report."""

    count: int
    seed: int
    rulesets: tuple[str, ...]
    per_ruleset: tuple[tuple[str, int], ...]
    per_scenario: tuple[tuple[str, int], ...]
    per_vat_category: tuple[tuple[str, int], ...]  # documents whose breakdown has the category
    per_document_type: tuple[tuple[str, int], ...]
    per_currency: tuple[tuple[str, int], ...]
    invalid: tuple[DocumentFailure, ...]
    mutation_runs: tuple[tuple[str, int], ...]
    misfires: tuple[MutationMisfire, ...]
    unexercised_mutations: tuple[str, ...]
    empty_scenarios: tuple[str, ...]
    generation_seconds: float
    validation_seconds: float
    mutation_seconds: float
    minimal_failure: str | None = None  # shrunk failing document (UBL), when there was one

    @property
    def ok(self) -> bool:
        return not (self.invalid or self.misfires or self.unexercised_mutations or self.empty_scenarios)

    @property
    def documents_per_second(self) -> float:
        """Generated documents validated per second (generation + writing + validation)."""
        spent = self.generation_seconds + self.validation_seconds
        return self.count / spent if spent > 0 else 0.0

    @property
    def replay(self) -> str:
        """The command that repeats this campaign exactly."""
        return (
            f"python -m harness.peppol.campaign --count {self.count} --seed {self.seed} "
            f"--rulesets {','.join(self.rulesets)}"
        )

    def format(self) -> str:
        lines = [f"campaign: {self.count} documents, seed {self.seed}, rule sets {', '.join(self.rulesets)}"]

        def table(title: str, rows: Sequence[tuple[str, int]]) -> None:
            lines.append(f"{title}:")
            lines.extend(f"  {key:<32} {value:>6}" for key, value in rows)

        table("documents per rule set", self.per_ruleset)
        table("documents per scenario", self.per_scenario)
        table("documents per VAT category (in the breakdown)", self.per_vat_category)
        table("documents per document type", self.per_document_type)
        table("documents per currency (BT-5)", self.per_currency)
        table("mutation applications", self.mutation_runs)
        lines.append(
            f"timing: generation {self.generation_seconds:.1f} s, validation {self.validation_seconds:.1f} s, "
            f"mutations {self.mutation_seconds:.1f} s; {self.documents_per_second:.1f} documents/s"
        )
        for failure in self.invalid[:20]:
            lines.append(
                f"INVALID document #{failure.index} ({failure.ruleset}, {failure.scenario}): "
                + "; ".join(failure.problems[:10])
            )
        if len(self.invalid) > 20:
            lines.append(f"... and {len(self.invalid) - 20} more invalid documents")
        for misfire in self.misfires[:20]:
            lines.append(
                f"MISFIRE {misfire.mutation} on document #{misfire.index} ({misfire.ruleset}, {misfire.scenario}): "
                f"missing {sorted(misfire.missing) or '-'}, unexpected {sorted(misfire.unexpected) or '-'}"
            )
        if len(self.misfires) > 20:
            lines.append(f"... and {len(self.misfires) - 20} more misfires")
        for mutation in self.unexercised_mutations:
            lines.append(f"UNEXERCISED mutation {mutation}: no generated document was one it applies to")
        for scenario in self.empty_scenarios:
            lines.append(f"EMPTY scenario {scenario}: no generated document")
        if self.minimal_failure is not None:
            lines.append("minimal failing document (shrunk by Hypothesis):")
            lines.append(self.minimal_failure)
        lines.append(f"replay: {self.replay}")
        lines.append("result: " + ("OK" if self.ok else "FAILED"))
        return "\n".join(lines)


def generate_cases(n: int, seed: int, rulesets: Sequence[str] = DEFAULT_RULESETS) -> list[Case]:
    """``n`` generated (rule set, scenario, invoice) cases; the same arguments give the same cases.

    Each scenario of each rule set gets its own Hypothesis run of ``ceil(n / scenarios)``
    examples from ``seed``, and the runs are interleaved round-robin, so every scenario gets
    its share of documents (Hypothesis' own choice among scenarios is far from uniform).
    """
    if n < 1:
        raise ConfigError(f"--count must be at least 1, got {n}")
    pairs = [(rs, s.id) for rs in rulesets for s in scenarios_for(rs)]
    if not pairs:
        raise ConfigError(f"no scenarios for rule sets {', '.join(rulesets) or '(none)'}")
    per_scenario = -(-n // len(pairs))
    buckets = [_scenario_run(seed, rs, scenario_id, per_scenario) for rs, scenario_id in pairs]
    cases: list[Case] = []
    for ordinal in range(per_scenario):
        for bucket in buckets:
            if ordinal < len(bucket) and len(cases) < n:
                cases.append(bucket[ordinal])
    return cases


def _scenario_run(seed: int, ruleset: str, scenario_id: str, count: int) -> list[Case]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    from harness.peppol.strategies import invoices

    collected: list[Case] = []

    @fixed_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(invoices(ruleset, scenario_id))
    def collect(invoice: Invoice) -> None:
        collected.append((ruleset, scenario_id, invoice))

    from harness.reproducible import deterministic_generation

    with deterministic_generation():  # same seed -> same documents, whatever is imported
        collect()
    return collected


def _fired(result: Any) -> frozenset[str]:
    return frozenset(
        f"{fa.ruleset}:{fa.id}" for fa in result.failed_asserts if str(fa.flag).lower() in ("fatal", "error")
    )


def _problems(result: Any) -> tuple[str, ...]:
    return tuple(
        f"{fa.ruleset}:{fa.id} at {fa.location}: {fa.text}"
        for fa in result.failed_asserts
        if str(fa.flag).lower() in ("fatal", "error")
    ) or (() if result.valid else ("the validator reported the document invalid",))


def run_campaign(
    n: int,
    seed: int,
    progress: Progress | None = None,
    *,
    rulesets: Sequence[str] = DEFAULT_RULESETS,
    mutation_sample: int | None = None,
    shrink: bool = True,
) -> CampaignResult:
    """Generate, validate and mutate ``n`` documents from ``seed``; see the module docstring.

    ``mutation_sample`` is how many of the generated documents every applicable mutation is
    applied to (default: n // 20, at least 20); a mutation that applies to none of them is
    applied to the first generated document it applies to. ``progress(stage, done, total)``
    is called as the campaign advances.
    """
    from harness.peppol.inspect import document_facts
    from harness.peppol.mutations import mutations_for
    from harness.peppol.ubl import to_ubl
    from harness.peppol.validation import get_validator

    for ruleset in rulesets:
        validation_rulesets(ruleset)  # ConfigError for a rule set without scenarios
    report = progress or (lambda stage, done, total: None)
    validator = get_validator()

    started = time.perf_counter()
    cases = generate_cases(n, seed, rulesets)
    generated = time.perf_counter()

    per_ruleset: Counter[str] = Counter()
    per_scenario: Counter[str] = Counter()
    per_category: Counter[str] = Counter()
    per_type: Counter[str] = Counter()
    per_currency: Counter[str] = Counter()
    invalid: list[DocumentFailure] = []
    write_seconds = 0.0
    for index, (ruleset, scenario, invoice) in enumerate(cases):
        t0 = time.perf_counter()
        data = to_ubl(invoice)
        write_seconds += time.perf_counter() - t0
        result = validator.validate(
            data, name=f"campaign-{seed}-{index}-{scenario}.xml", rulesets=list(validation_rulesets(ruleset))
        )
        facts = document_facts(data, name=f"campaign document #{index}")
        mismatches = check_document(scenario, ruleset, facts)
        per_ruleset[ruleset] += 1
        per_scenario[scenario] += 1
        per_type[f"{facts.root} {facts.type_code}"] += 1
        per_currency[facts.currency or "-"] += 1
        for category in sorted(facts.vat_categories):
            per_category[category] += 1
        if not result.valid or mismatches:
            invalid.append(
                DocumentFailure(index, ruleset, scenario, _problems(result) + mismatches, data)
            )
        report("validate", index + 1, len(cases))
    validated = time.perf_counter()

    sample_size = mutation_sample if mutation_sample is not None else max(20, n // 20)
    step = max(1, len(cases) // max(1, sample_size))
    sample = list(range(0, len(cases), step))[:sample_size]
    runs: Counter[str] = Counter()
    misfires: list[MutationMisfire] = []
    mutations = [m for rs in rulesets for m in mutations_for(rs)]
    plan: list[tuple[int, Any]] = [
        (index, m) for index in sample for m in mutations if m.applies(cases[index][2], cases[index][0])
    ]
    covered = {m.id for _, m in plan}
    for m in mutations:
        if m.id not in covered:
            first = next((i for i, case in enumerate(cases) if m.applies(case[2], case[0])), None)
            if first is not None:
                plan.append((first, m))
    for done, (index, mutation) in enumerate(plan, start=1):
        ruleset, scenario, invoice = cases[index]
        result = validator.validate(
            mutation.apply(invoice),
            name=f"campaign-{seed}-{index}-{mutation.id}.xml",
            rulesets=list(validation_rulesets(ruleset)),
        )
        fired = _fired(result)
        runs[mutation.id] += 1
        if fired != mutation.declared:
            misfires.append(
                MutationMisfire(
                    mutation.id, index, ruleset, scenario, mutation.declared - fired, fired - mutation.declared
                )
            )
        report("mutate", done, len(plan))
    mutated = time.perf_counter()

    expected_scenarios = [s.id for rs in rulesets for s in scenarios_for(rs)]
    minimal = None
    if invalid and shrink:
        first_failure = invalid[0]
        ordinal = sum(1 for case in cases[: first_failure.index] if case[:2] == (first_failure.ruleset, first_failure.scenario))
        minimal = shrink_failure(seed, first_failure.ruleset, first_failure.scenario, max_examples=ordinal + 1)
    return CampaignResult(
        count=len(cases),
        seed=seed,
        rulesets=tuple(rulesets),
        per_ruleset=tuple(sorted(per_ruleset.items())),
        per_scenario=tuple((s, per_scenario[s]) for s in expected_scenarios),
        per_vat_category=tuple(sorted(per_category.items())),
        per_document_type=tuple(sorted(per_type.items())),
        per_currency=tuple(sorted(per_currency.items(), key=lambda kv: (-kv[1], kv[0]))),
        invalid=tuple(invalid),
        mutation_runs=tuple((m.id, runs[m.id]) for m in mutations),
        misfires=tuple(misfires),
        unexercised_mutations=tuple(m.id for m in mutations if runs[m.id] == 0),
        empty_scenarios=tuple(s for s in expected_scenarios if per_scenario[s] == 0),
        generation_seconds=generated - started + write_seconds,
        validation_seconds=validated - generated - write_seconds,
        mutation_seconds=mutated - validated,
        minimal_failure=minimal,
    )


def shrink_failure(seed: int, ruleset: str, scenario_id: str, *, max_examples: int) -> str | None:
    """Replay one scenario's generation and let Hypothesis shrink its first invalid document.

    Returns the minimal failing document as UBL text (None if the replay found no failure).
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    from harness.peppol.inspect import document_facts
    from harness.peppol.strategies import invoices
    from harness.peppol.ubl import to_ubl
    from harness.peppol.validation import get_validator

    validator = get_validator()
    smallest: list[bytes] = []

    @fixed_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
    )
    @given(invoices(ruleset, scenario_id))
    def property_holds(invoice: Invoice) -> None:
        data = to_ubl(invoice)
        result = validator.validate(data, name="shrink.xml", rulesets=list(validation_rulesets(ruleset)))
        if not result.valid or check_document(scenario_id, ruleset, document_facts(data)):
            smallest.append(data)
            raise AssertionError(f"{scenario_id} document is invalid or not its scenario")

    from harness.reproducible import deterministic_generation

    try:
        with deterministic_generation():
            property_holds()
    except AssertionError:
        return smallest[-1].decode("utf-8") if smallest else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.peppol.campaign",
        description="Generate documents with Hypothesis, validate them through the official rules, "
        "and check every mutation fires exactly its declared rules.",
    )
    parser.add_argument("--count", type=int, default=2000, help="documents to generate (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    parser.add_argument(
        "--rulesets",
        default=",".join(DEFAULT_RULESETS),
        help=f"comma-separated rule sets to generate for (default {','.join(DEFAULT_RULESETS)})",
    )
    parser.add_argument("--mutation-sample", type=int, default=None, help="documents every mutation is applied to")
    parser.add_argument("--failures-dir", type=Path, default=None, help="write invalid documents here")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    def progress(stage: str, done: int, total: int) -> None:
        if not args.quiet and (done == total or done % 250 == 0):
            print(f"{stage}: {done}/{total}", file=sys.stderr, flush=True)

    try:
        result = run_campaign(
            args.count,
            args.seed,
            progress,
            rulesets=[r.strip() for r in args.rulesets.split(",") if r.strip()],
            mutation_sample=args.mutation_sample,
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(result.format())
    if args.failures_dir is not None and result.invalid:
        args.failures_dir.mkdir(parents=True, exist_ok=True)
        for failure in result.invalid:
            (args.failures_dir / f"{failure.index:05d}-{failure.scenario}.xml").write_bytes(failure.document)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
