"""Hypothesis strategies over the EN 16931 model.

The strategies run the scenario recipes of :mod:`harness.peppol.scenarios` with their free
choices drawn by Hypothesis, so every generated invoice is one of the catalogue's scenarios,
uses only code values the rule files accept, and shrinks towards a small document when a
property fails. Hypothesis is imported here only: importing :mod:`harness.peppol` does not
load it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from harness.errors import ConfigError
from harness.peppol.model import Invoice
from harness.peppol.scenarios import RULESET_BIS, get_scenario, scenarios_for

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

T = TypeVar("T")


class HypothesisDraw:
    """A :class:`harness.peppol.scenarios.Draw` that asks Hypothesis for each choice."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        self._draw = draw

    def integer(self, low: int, high: int) -> int:
        from hypothesis import strategies as st

        return int(self._draw(st.integers(low, high)))

    def choice(self, options: Sequence[T]) -> T:
        from hypothesis import strategies as st

        return self._draw(st.sampled_from(options))  # type: ignore[no-any-return]

    def boolean(self) -> bool:
        from hypothesis import strategies as st

        return bool(self._draw(st.booleans()))


def _scenario_ids(ruleset_id: str, scenario: str | None) -> list[str]:
    if scenario is not None:
        found = get_scenario(scenario)
        if ruleset_id not in found.rulesets:
            raise ConfigError(
                f"scenario {scenario!r} does not apply to rule set {ruleset_id!r} "
                f"(it applies to {', '.join(found.rulesets)})"
            )
        return [scenario]
    ids = [s.id for s in scenarios_for(ruleset_id)]
    if not ids:
        raise ConfigError(f"no scenarios are built for rule set {ruleset_id!r}")
    return ids


def scenario_invoices(
    ruleset_id: str = RULESET_BIS, scenario: str | None = None
) -> SearchStrategy[tuple[str, Invoice]]:
    """``(scenario id, invoice)`` pairs for the rule set (all its scenarios, or one)."""
    from hypothesis import strategies as st

    ids = _scenario_ids(ruleset_id, scenario)

    @st.composite
    def build(draw: Callable[[Any], Any]) -> tuple[str, Invoice]:
        scenario_id: str = draw(st.sampled_from(ids))
        return scenario_id, get_scenario(scenario_id).recipe(HypothesisDraw(draw), ruleset_id)

    return build()


def invoices(ruleset_id: str = RULESET_BIS, scenario: str | None = None) -> SearchStrategy[Invoice]:
    """Valid invoices and credit notes under ``ruleset_id`` (``peppol-ubl-3.0.19`` or
    ``pint-sg-ubl-1.4.1``), of any of its scenarios or only of ``scenario``."""
    return scenario_invoices(ruleset_id, scenario).map(lambda pair: pair[1])


def campaign_cases(rulesets: Sequence[str]) -> SearchStrategy[tuple[str, str, Invoice]]:
    """``(rule set, scenario id, invoice)`` over several rule sets, for campaigns."""
    from hypothesis import strategies as st

    if not rulesets:
        raise ConfigError("a campaign needs at least one rule set")
    def tagged(ruleset_id: str) -> SearchStrategy[tuple[str, str, Invoice]]:
        return scenario_invoices(ruleset_id).map(lambda pair: (ruleset_id, pair[0], pair[1]))

    return st.one_of(*(tagged(rs) for rs in rulesets))
