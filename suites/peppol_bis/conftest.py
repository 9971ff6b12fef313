"""Parametrisation of the peppol-bis suite from the participant's claims.

Cases are generated from the participant file (claimed roles and rule sets) and from the
catalogues shipped in the package (scenarios, mutations): the suite says what must hold, the
libraries say how to check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

PROFILE = "peppol-bis"


def _claim(config: pytest.Config) -> Any | None:
    plugin = config.pluginmanager.get_plugin("conformance-session")
    if plugin is None or PROFILE not in plugin.ctx.profiles:
        return None
    return plugin.participant.profile(PROFILE)


def _cases(claim: Any | None, role: str, catalogue: Callable[[str], Iterable[Any]]) -> list[Any]:
    """(rule set, item id) params for every claimed rule set, when ``role`` is claimed."""
    if claim is None or role not in claim.roles:
        return []
    return [
        pytest.param((ruleset, item.id), id=f"{ruleset}-{item.id}")
        for ruleset in claim.rulesets
        for item in catalogue(ruleset)
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    claim = _claim(metafunc.config)
    names = metafunc.fixturenames
    if "outbound_case" in names:
        from harness.peppol.scenarios import scenarios_for

        metafunc.parametrize("outbound_case", _cases(claim, "sender", scenarios_for))
    if "inbound_valid_case" in names:
        from harness.peppol.scenarios import scenarios_for

        metafunc.parametrize("inbound_valid_case", _cases(claim, "receiver", scenarios_for))
    if "inbound_invalid_case" in names:
        from harness.peppol.mutations import mutations_for

        metafunc.parametrize("inbound_invalid_case", _cases(claim, "receiver", mutations_for))
    if "claimed_ruleset" in names:
        role = "receiver" if metafunc.function.__name__ == "test_generated_valid_documents_are_accepted" else "sender"
        rulesets = list(claim.rulesets) if claim is not None and role in claim.roles else []
        metafunc.parametrize("claimed_ruleset", rulesets)
