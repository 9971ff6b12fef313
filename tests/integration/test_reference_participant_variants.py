"""Every known-bad variant exhibits its fault at the control API, and exactly the declared
requirements fail -- measured here over HTTP against `conformance serve peppol-participant --variant V`
for every scenario and mutation of the rule sets the reference participant claims.

The judgement mirrors the suites' (official rule ids fired at error/fatal level, BIS-OUT-001..004,
BIS-IN-001..003, BIS-API-001) so that a drifting variant is caught here, next to its definition,
not only by the end-to-end self-certification run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.drivers.http import HttpDriver
from harness.peppol.inspect import document_facts
from harness.peppol.judge import rule_ids_named
from harness.peppol.mutations import mutations_for
from harness.peppol.rulesets import expand
from harness.peppol.scenarios import build_document, build_invoice, check_document, scenarios_for
from harness.peppol.validation import get_validator
from harness.reference.peppol_participant import REFERENCE_RULESETS
from harness.reference.peppol_variants import GOOD, VARIANTS, Variant, get_variant
from harness.runtime.local import LocalRuntime

SEED = 20261127


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    with LocalRuntime(log_dir=tmp_path_factory.mktemp("variant-logs")) as rt:
        yield rt


@pytest.fixture(scope="module")
def inbound_cases() -> list[tuple[str, bytes, frozenset[str] | None]]:
    """(label, document, rules it breaks or None for a valid one), built once."""
    cases: list[tuple[str, bytes, frozenset[str] | None]] = []
    for ruleset in REFERENCE_RULESETS:
        for scenario in scenarios_for(ruleset):
            cases.append((f"{ruleset} {scenario.id}", build_document(scenario.id, ruleset, seed=SEED), None))
        for mutation in mutations_for(ruleset):
            for scenario in scenarios_for(ruleset):
                invoice = build_invoice(scenario.id, ruleset, seed=SEED)
                if mutation.applies(invoice, ruleset):
                    cases.append((f"{ruleset} {mutation.id}", mutation.apply(invoice), mutation.declared))
                    break
    return cases


def failed_requirements(driver: HttpDriver, inbound_cases: list[tuple[str, bytes, frozenset[str] | None]]) -> dict[str, list[str]]:
    """requirement id -> what made it fail, judged from the participant's answers."""
    failed: dict[str, list[str]] = {}

    def fail(requirement: str, why: str) -> None:
        failed.setdefault(requirement, []).append(why)

    validator = get_validator()
    for ruleset in REFERENCE_RULESETS:
        documents: dict[str, bytes] = {}
        for scenario in scenarios_for(ruleset):
            result = driver.produce_document(scenario.id, ruleset)
            assert not result.unreachable and not result.no_traffic, result.error
            if result.api_problem:
                fail("BIS-API-001", result.api_problem)
            if result.document is None:
                fail("BIS-OUT-001", result.error or scenario.id)
                continue
            documents[scenario.id] = result.document
            validation = validator.validate(result.document, name=scenario.id, rulesets=expand([ruleset]))
            if validation.error:
                fail("BIS-OUT-002", validation.error)
                continue  # an unreadable document is judged on nothing else (as the suite does)
            for fa in validation.failed_asserts:
                if fa.flag in ("fatal", "error"):
                    fail(f"{fa.ruleset}:{fa.id}", f"{ruleset} {scenario.id}")
            mismatches = check_document(scenario.id, ruleset, document_facts(result.document))
            if mismatches:
                fail("BIS-OUT-003", f"{ruleset} {scenario.id}: {mismatches[0]}")
        first, second = [s.id for s in scenarios_for(ruleset)][:2]
        if first in documents and second in documents and documents[first] == documents[second]:
            fail("BIS-OUT-004", f"{ruleset}: {first} and {second} are byte-identical")
    for label, document, broken in inbound_cases:
        answer = driver.deliver_inbound(document)
        assert not answer.unreachable, answer.error
        if answer.api_problem:
            fail("BIS-API-001", answer.api_problem)
            continue
        if broken is None:
            if not answer.accepted:
                fail("BIS-IN-001", f"{label}: {answer.message}")
        elif answer.accepted:
            fail("BIS-IN-002", label)
        elif not rule_ids_named(answer.rule_ids) & rule_ids_named(broken):
            fail("BIS-IN-003", f"{label}: named {list(answer.rule_ids)}")
    return failed


@pytest.mark.parametrize("variant", [GOOD, *VARIANTS.values()], ids=lambda v: v.name)
def test_variant_fails_exactly_its_declared_requirements_at_the_api(
    variant: Variant, runtime: LocalRuntime, inbound_cases: list[tuple[str, bytes, frozenset[str] | None]]
) -> None:
    endpoint = runtime.start("peppol-participant", variant=variant.name)
    try:
        with HttpDriver(endpoint.base_url, timeout=120, trust_env=False) as driver:
            failed = failed_requirements(driver, inbound_cases)
    finally:
        runtime.stop(endpoint)
    assert set(failed) == set(variant.declared), {k: v[:2] for k, v in failed.items()}


def test_catalogue_has_at_least_ten_distinct_known_bad_variants() -> None:
    assert len(VARIANTS) >= 10
    assert all(v.declared for v in VARIANTS.values()), "a known-bad variant must declare what it fails"
    assert GOOD.declared == frozenset()
    signatures = {(v.document_fault, v.outbound, v.inbound) for v in VARIANTS.values()}
    assert len(signatures) == len(VARIANTS), "each variant has its own fault"
    for v in VARIANTS.values():
        faults = [v.document_fault.value != "none", v.outbound.value != "normal", v.inbound.value != "normal"]
        assert sum(faults) == 1, f"{v.name} must have exactly one fault"


def test_declared_official_ids_are_qualified_by_a_claimed_rule_set() -> None:
    claimed = set(expand(REFERENCE_RULESETS))
    for v in VARIANTS.values():
        for requirement in v.declared:
            if requirement.startswith("BIS-"):
                continue
            ruleset, _, rule = requirement.partition(":")
            assert ruleset in claimed and rule, f"{v.name}: {requirement}"


def test_get_variant_names_the_known_ones() -> None:
    assert get_variant("good") is GOOD
    with pytest.raises(KeyError, match="known: good, accepts-invalid-inbound"):
        get_variant("nope")
