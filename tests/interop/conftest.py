"""Fixtures of the interop tests: the independent Java validators, built once per session."""

from __future__ import annotations

import pytest

from . import javatool


@pytest.fixture(scope="session")
def java_tool() -> javatool.JavaTool:
    """ph-schematron-pure + JDK Xerces (tests/interop/java), built with Maven on first use."""
    missing = javatool.missing_tools()
    if missing:
        pytest.skip(
            f"the independent Java validators need {', '.join(missing)} on PATH "
            "(a JDK 17+ and Maven; Maven Central must be reachable for the first build)"
        )
    return javatool.JavaTool(javatool.build())
