"""The pytest plugin must be polite: installed, it must not slow down or change other projects."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("saxonche", "lxml", "hypothesis", "starlette", "uvicorn", "httpx", "jsonschema", "cryptography", "yaml")


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, json, harness.plugin, harness.cli;"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_plain_pytest_without_harness_options_is_untouched(pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile("def test_ok():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "report:" not in result.stdout.str()
    assert "== conformance ==" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_markers_are_registered(pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(
        "import pytest\n"
        "@pytest.mark.requirement('BIS-OUT-001')\n@pytest.mark.profile('peppol-bis')\n"
        "def test_x():\n    pass\n"
    )
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
