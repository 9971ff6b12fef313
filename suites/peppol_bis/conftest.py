"""Parametrisation of the peppol-bis suite from the participant's claims.

Cases are generated from the participant file (claimed roles and rule sets) and from the
catalogues shipped in the package (scenarios, mutations): the suite says what must hold, the
libraries say how to check it.
"""

from __future__ import annotations

from typing import Any

import pytest

PROFILE = "peppol-bis"


def _claim(config: pytest.Config) -> Any | None:
    plugin = config.pluginmanager.get_plugin("conformance-session")
    if plugin is None or PROFILE not in plugin.ctx.profiles:
        return None
    return plugin.participant.profile(PROFILE)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    claim = _claim(metafunc.config)
    if "outbound_case" in metafunc.fixturenames:
        from harness.peppol.scenarios import scenarios_for

        cases = []
        if claim is not None and "sender" in claim.roles:
            for ruleset in claim.rulesets:
                for scenario in scenarios_for(ruleset):
                    cases.append(pytest.param((ruleset, scenario.id), id=f"{ruleset}-{scenario.id}"))
        metafunc.parametrize("outbound_case", cases)
    if "inbound_valid_case" in metafunc.fixturenames:
        from harness.peppol.scenarios import scenarios_for

        cases = []
        if claim is not None and "receiver" in claim.roles:
            for ruleset in claim.rulesets:
                for scenario in scenarios_for(ruleset):
                    cases.append(pytest.param((ruleset, scenario.id), id=f"{ruleset}-{scenario.id}"))
        metafunc.parametrize("inbound_valid_case", cases)
    if "inbound_invalid_case" in metafunc.fixturenames:
        from harness.peppol.mutations import mutations_for

        cases = []
        if claim is not None and "receiver" in claim.roles:
            for ruleset in claim.rulesets:
                for mutation in mutations_for(ruleset):
                    cases.append(pytest.param((ruleset, mutation.id), id=f"{ruleset}-{mutation.id}"))
        metafunc.parametrize("inbound_invalid_case", cases)
    if "claimed_ruleset" in metafunc.fixturenames:
        rulesets = list(claim.rulesets) if claim is not None else []
        roles_needed = {"test_generated_valid_documents_are_accepted": "receiver"}
        role = roles_needed.get(metafunc.function.__name__, "sender")
        if claim is None or role not in claim.roles:
            rulesets = []
        metafunc.parametrize("claimed_ruleset", rulesets)
