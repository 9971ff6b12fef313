"""Negative cases for receivers: a catalogue mutation applied to a scenario document."""

from __future__ import annotations

from harness.errors import HarnessError

_SEARCH = 64


def mutated_document(mutation_id: str, ruleset_id: str, *, seed: int = 0) -> bytes:
    """The document of the first catalogue scenario of ``ruleset_id`` that ``mutation_id`` is
    meant for, with the mutation applied (deterministic for a seed)."""
    from harness.peppol.mutations import get_mutation
    from harness.peppol.scenarios import build_invoice, scenarios_for

    mutation = get_mutation(mutation_id)
    # Scenario documents vary with the seed (lines, allowances); a mutation's precondition may
    # need a particular shape, so look a bounded, deterministic distance for a matching one.
    for offset in range(_SEARCH):
        for scenario in scenarios_for(ruleset_id):
            invoice = build_invoice(scenario.id, ruleset_id, seed=seed + offset)
            if mutation.applies(invoice, ruleset_id):
                return mutation.apply(invoice)
    raise HarnessError(
        f"mutation {mutation_id} applies to no scenario of rule set {ruleset_id}; "
        "the mutation catalogue and the scenario catalogue disagree (a harness bug)"
    )
