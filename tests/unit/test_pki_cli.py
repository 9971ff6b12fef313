"""``conformance pki``: init, issue, revoke, show, through a real subprocess; no key material out."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.pki import load_pki


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def made(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """A PKI made through the CLI, with every fault issued; the outputs of every call."""
    directory = tmp_path_factory.mktemp("cli") / "pki"
    calls = [conformance("pki", "init", str(directory))]
    for flags, name in (
        (["--expired"], "old"),
        (["--not-yet-valid"], "future"),
        (["--revoked"], "revoked"),
        (["--wrong-ca"], "stranger"),
    ):
        calls.append(conformance("pki", "issue", str(directory), "ap", name, *flags))
    calls.append(
        conformance("pki", "revoke", str(directory), "participant-smp", "--reason", "superseded")
    )
    calls.append(conformance("pki", "init", str(directory)))
    calls.append(conformance("pki", "show", str(directory)))
    calls.append(conformance("pki", "show", str(directory), "--json"))
    for call in calls:
        assert call.returncode == 0, call.args + [call.stdout, call.stderr]
    return directory, calls


def key_material(directory: Path) -> list[str]:
    """Strings that would betray a private key: PEM body lines and the private numbers."""
    needles: list[str] = []
    for path in directory.rglob("key.pem"):
        pem = path.read_text()
        needles += [line for line in pem.splitlines() if line and not line.startswith("-----")]
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        numbers = key.private_numbers()
        for value in (numbers.d, numbers.p, numbers.q):
            needles += [str(value)[:40], f"{value:x}"[:40], f"{value:X}"[:40]]
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        needles.append(base64.b64encode(der[100:160]).decode())
        needles.append(der[100:140].hex())
    return needles


def test_no_private_key_bytes_in_any_output(
    made: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    directory, calls = made
    needles = key_material(directory)
    assert len(needles) > 100
    for call in calls:
        for stream in (call.stdout, call.stderr):
            assert "PRIVATE KEY" not in stream
            leaked = [n for n in needles if n in stream]
            assert leaked == [], f"{call.args}: key material in output"


def test_show_lists_fingerprints_validity_and_revocation(
    made: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    directory, calls = made
    pki = load_pki(directory)
    text = calls[-2].stdout
    for entry in (*pki.authorities.values(), *pki.certificates.values(), *pki.responders.values()):
        assert entry.fingerprint_sha256 in text
        assert f"{entry.serial_number:x}" in text
        assert f"{entry.not_after:%Y-%m-%dT%H:%M:%SZ}" in text
    blocks = {block.split(" ", 1)[0]: block for block in re.split(r"\n(?=\S)", text)}
    assert blocks["old"].startswith("old [ap] EXPIRED faults: expired\n")
    assert blocks["future"].startswith("future [ap] NOT YET VALID")
    assert "REVOKED" in blocks["revoked"] and "keyCompromise" in blocks["revoked"]
    assert "REVOKED" in blocks["participant-smp"] and "superseded" in blocks["participant-smp"]
    assert "(untrusted root)" in blocks["stranger"]
    assert blocks["ap"].startswith("ap [ap] valid\n")


def test_show_json_matches_the_pki(
    made: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    directory, calls = made
    pki = load_pki(directory)
    shown = json.loads(calls[-1].stdout)
    by_name = {c["name"]: c for c in shown["certificates"]}
    assert set(by_name) == set(pki.certificates)
    for name, entry in pki.certificates.items():
        assert by_name[name]["sha256"] == entry.fingerprint_sha256
        assert by_name[name]["serial"] == f"{entry.serial_number:x}"
        assert by_name[name]["private_key_path"] == str(entry.private_key_path)
    assert by_name["old"]["state"] == "EXPIRED" and by_name["old"]["faults"] == ["expired"]
    assert by_name["stranger"]["trusted"] is False
    assert {a["name"] for a in shown["authorities"]} == {
        "root",
        "ap-ca",
        "smp-ca",
        "untrusted-root",
        "untrusted-ca",
    }


def test_second_init_loads_instead_of_replacing(
    made: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    _, calls = made
    assert calls[0].stdout.startswith("created test PKI in ")
    assert calls[6].stdout.startswith("loaded existing test PKI in ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["issue", "{dir}", "ap", "x", "--expired", "--not-yet-valid"],
            "not allowed with argument",
        ),
        (["issue", "{dir}", "tls", "x"], "invalid choice"),
        (["issue", "{dir}", "ap", "x"], "no test PKI in"),
        (["show", "{dir}"], "conformance pki init"),
        ([], "needs an action"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = conformance("pki", *[a.replace("{dir}", str(tmp_path / "none")) for a in args])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
