"""Every mutation fires exactly its declared rules (error/fatal level) on the scenario documents."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.peppol import codelists
from harness.peppol.mutations import (
    INVALID_CURRENCY,
    INVALID_EAS,
    INVALID_TYPE_CODE,
    INVALID_UNIT,
    all_mutations,
    get_mutation,
    mutations_for,
)
from harness.peppol.scenarios import (
    RULESET_BIS,
    RULESET_PINT_SG,
    build_invoice,
    scenarios_for,
    validation_rulesets,
)

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def validator():
    from harness.peppol.validation import get_validator

    return get_validator()


def test_catalogue_is_large_enough_and_ids_are_unique():
    ids = [m.id for m in all_mutations()]
    assert len(ids) == len(set(ids))
    assert len(mutations_for(RULESET_BIS)) >= 15
    assert len(mutations_for(RULESET_PINT_SG)) >= 10


def test_declared_ids_are_qualified_by_a_rule_set_the_base_document_is_validated_against():
    for mutation in all_mutations():
        assert mutation.declared, mutation.id
        for ruleset in mutation.applies_to:
            allowed = set(validation_rulesets(ruleset))
            for qualified in mutation.declared:
                ruleset_id, _, rule_id = qualified.partition(":")
                assert ruleset_id in allowed and rule_id, (mutation.id, qualified)


def test_invalid_values_are_really_outside_the_code_lists():
    for ruleset in (RULESET_BIS, RULESET_PINT_SG):
        assert INVALID_CURRENCY not in codelists.code_list(ruleset, "currency")
        assert INVALID_UNIT not in codelists.code_list(ruleset, "unit")
        assert INVALID_EAS not in codelists.code_list(ruleset, "eas")
        assert INVALID_TYPE_CODE not in codelists.code_list(ruleset, "invoice_type")
        assert INVALID_TYPE_CODE not in codelists.code_list(ruleset, "credit_note_type")


def test_unknown_mutation_is_a_config_error():
    with pytest.raises(ConfigError, match="bis-payable-amount-wrong"):
        get_mutation("nope")


@pytest.mark.parametrize("mutation_id", [m.id for m in all_mutations()])
def test_mutation_fires_exactly_its_declared_rules(mutation_id: str, validator):
    mutation = get_mutation(mutation_id)
    applied = 0
    for ruleset in sorted(mutation.applies_to):
        for scenario in scenarios_for(ruleset):
            for seed in SEEDS:
                invoice = build_invoice(scenario.id, ruleset, seed=seed)
                if not mutation.applies(invoice, ruleset):
                    continue
                applied += 1
                result = validator.validate(
                    mutation.apply(invoice),
                    name=f"{mutation_id}-{scenario.id}-{seed}.xml",
                    rulesets=list(validation_rulesets(ruleset)),
                )
                fired = {f"{fa.ruleset}:{fa.id}" for fa in result.failed_asserts if fa.flag in ("fatal", "error")}
                assert not result.valid
                assert fired == set(mutation.declared), (
                    f"{scenario.id} seed {seed}: missing {sorted(mutation.declared - fired)}, "
                    f"unexpected {sorted(fired - mutation.declared)}"
                )
    assert applied > 0, f"{mutation_id} applied to no scenario document"
