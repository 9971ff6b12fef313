"""``conformance validate`` and ``conformance artefacts`` as a user runs them (subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.artefacts.store import ArtefactStore

BASE = "peppol/bis-billing-3.0.19/rules/examples/base-example.xml"
PINT_SG = (
    "peppol/pint-sg-1.4.1/trn-invoice/example/PINT-SG INV example 02 - full valid invoice 1.xml"
)


def conformance(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=dict(os.environ),
        timeout=300,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    store = ArtefactStore.default()
    d = tmp_path_factory.mktemp("docs") / "a folder with spaces"
    d.mkdir()
    base = store.read_bytes(BASE)
    out = {
        "valid": d / "fäktura nº 1.xml",
        "invalid": d / "wrong total.xml",
        "pint": d / "pint sg.xml",
        "broken": d / "broken.xml",
    }
    out["valid"].write_bytes(base)
    out["invalid"].write_bytes(
        base.replace(b">1656.25</cbc:TaxInclusiveAmount>", b">1700.00</cbc:TaxInclusiveAmount>")
    )
    out["pint"].write_bytes(store.read_bytes(PINT_SG))
    out["broken"].write_bytes(b"<Invoice>\n<oops></Invoice>")
    return out


def test_json_is_one_object_per_file_and_exit_1_when_one_is_invalid(files: dict[str, Path]) -> None:
    paths = [str(files[k]) for k in ("valid", "invalid", "pint", "broken")]
    proc = conformance("validate", "--json", *paths)
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [obj["file"] for obj in lines] == paths  # spaces and non-ASCII survive
    for obj in lines:
        assert list(obj) == ["file", "valid", "rulesets", "failed_asserts", "error"]
    valid, invalid, pint, broken = lines
    assert valid["valid"] is True and valid["error"] is None and valid["failed_asserts"] == []
    assert valid["rulesets"] == ["peppol-ubl-3.0.19", "cen-ubl-1.3.14.1", "xsd-ubl-2.1"]
    assert invalid["valid"] is False
    assert invalid["failed_asserts"][0] == {
        "id": "BR-CO-15",
        "flag": "fatal",
        "location": "/Invoice[1]",
        "text": "[BR-CO-15]-Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) "
        "+ Invoice total VAT amount (BT-110).",
        "ruleset": "cen-ubl-1.3.14.1",
    }
    assert pint["valid"] is True and pint["rulesets"] == ["pint-sg-ubl-1.4.1", "xsd-ubl-2.1"]
    assert broken["valid"] is False and "not well-formed XML at line 2, column" in broken["error"]
    assert proc.stderr == ""


def test_all_valid_exits_0_and_human_output_names_the_verdict(files: dict[str, Path]) -> None:
    proc = conformance("validate", str(files["valid"]), str(files["pint"]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{files['valid']}: VALID [peppol-ubl-3.0.19, cen-ubl-1.3.14.1, xsd-ubl-2.1]",
        f"{files['pint']}: VALID [pint-sg-ubl-1.4.1, xsd-ubl-2.1]",
    ]


def test_human_output_lists_each_failed_assert(files: dict[str, Path]) -> None:
    proc = conformance("validate", "--rules", "cen-ubl-1.3.16", str(files["invalid"]))
    assert proc.returncode == 1
    out = proc.stdout.splitlines()
    assert out[0] == f"{files['invalid']}: INVALID [cen-ubl-1.3.16]"
    assert out[1].startswith(
        "  BR-CO-15 [fatal] at /Invoice[1] (cen-ubl-1.3.16): [BR-CO-15]-Invoice total"
    )
    assert out[2].startswith(
        "  BR-CO-16 [fatal] at /Invoice[1]/cac:LegalMonetaryTotal[1] (cen-ubl-1.3.16): "
    )


def test_rules_option_runs_only_those_and_dedupes_pint(files: dict[str, Path]) -> None:
    proc = conformance(
        "validate", "--json", "--rules", "pint-ubl-1.1.3,pint-sg-ubl-1.4.1", str(files["pint"])
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rulesets"] == ["pint-ubl-1.1.3", "pint-sg-ubl-1.4.1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("validate", "--rules", "peppol-ubl-9", "x.xml"),
            "unknown rule set 'peppol-ubl-9'; valid ids: xsd-ubl-2.1",
        ),
        (("validate",), "no FILE given"),
        (("validate", "--max-bytes", "0", "x.xml"), "--max-bytes must be a positive number"),
        (("artefacts",), "conformance artefacts sync"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    proc = conformance(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_list_rules_prints_every_id_with_version_and_provenance() -> None:
    proc = conformance("validate", "--list-rules")
    assert proc.returncode == 0
    rows = {line.split()[0]: line.split()[1:3] for line in proc.stdout.splitlines()}
    assert rows["peppol-ubl-3.0.19"] == ["3.0.19", "official"]
    assert rows["pint-sg-ubl-1.4.1"] == ["1.4.1", "third-party"]
    assert rows["cen-cii-1.3.14.1"] == ["1.3.14.1", "official"]
    assert len(rows) == 10
    as_json = [
        json.loads(line)
        for line in conformance("validate", "--list-rules", "--json").stdout.splitlines()
    ]
    assert {(r["id"], r["provenance"]) for r in as_json} >= {
        ("peppol-ubl-3.0.21", "third-party copy")
    }


def test_artefacts_sync_from_a_mirror_and_list(tmp_path: Path) -> None:
    mirror = os.environ.get("CONFORMANCE_ARTEFACTS_MIRROR")
    if not mirror:
        pytest.skip("no artefact mirror")
    env_cache = tmp_path / "cache"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "artefacts",
            "sync",
            "--mirror",
            mirror,
            "--only",
            "peppol/pint-sg-1.4.1/",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "CONFORMANCE_CACHE_DIR": str(env_cache),
            "CONFORMANCE_ARTEFACTS_MIRROR": "",
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"artefacts: 0 already present, 24 copied, 0 downloaded", proc.stderr)
    assert "[24/24]" in proc.stderr
    assert (
        "pint-sg-ubl-1.4.1 (262)" in proc.stderr
    )  # its catalogue was generated from the synced files
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "artefacts",
            "list",
            "--only",
            "peppol/pint-sg-1.4.1/",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "CONFORMANCE_CACHE_DIR": str(env_cache),
            "CONFORMANCE_ARTEFACTS_MIRROR": "",
        },
    )
    assert listing.returncode == 0
    assert all(line.startswith("cache   third-party copy") for line in listing.stdout.splitlines())
    assert "24 pinned: 0 in the mirror, 24 in the cache, 0 missing" in listing.stderr


def test_human_output_gives_the_reason_a_file_could_not_be_read(files: dict[str, Path]) -> None:
    proc = conformance("validate", str(files["broken"]))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"{files['broken']}: INVALID",
        "  error: not well-formed XML at line 2, column 17: Opening and ending tag mismatch: oops line 2 and Invoice",
    ]


def test_cli_and_validator_modules_import_nothing_heavy_until_used() -> None:
    code = (
        "import sys, harness.cli, harness.commands.validate, harness.commands.artefacts, "
        "harness.peppol.validation, harness.peppol.rulesets, harness.artefacts, harness.xml.safe, "
        "harness.xml.schematron\n"
        "heavy = sorted(m for m in ('saxonche', 'lxml', 'httpx') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert proc.stdout.strip() == ""
