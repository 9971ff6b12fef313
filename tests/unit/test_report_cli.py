"""``conformance report verify``: output and exit codes, through a real subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.report.attest import PUBLIC_KEY_FILE, SigningKey, seal
from harness.report.builder import EPHEMERAL_SENTENCE
from tests.unit.test_report_support import write_sample_run


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    base = tmp_path_factory.mktemp("cli")
    key = SigningKey.generate()
    write_sample_run(base / "run", key)
    trusted = base / "trusted.pub"
    trusted.write_bytes(key.public_pem())
    return base / "run", key.keyid, trusted


def test_intact_folder_exits_0_and_prints_keyid_and_trust(sealed: tuple[Path, str, Path]) -> None:
    run_dir, keyid, _ = sealed
    proc = conformance("report", "verify", str(run_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"OK: {run_dir.resolve()}")
    assert f"keyid: {keyid} (ephemeral)" in lines
    assert "trust: not checked (no --trusted-key or --fingerprint given)" in lines
    assert f"note: {EPHEMERAL_SENTENCE}" in lines


def test_trusted_key_and_fingerprint_prove_the_signer(sealed: tuple[Path, str, Path]) -> None:
    run_dir, keyid, trusted = sealed
    for extra in (["--trusted-key", str(trusted)], ["--fingerprint", keyid]):
        proc = conformance("report", "verify", str(run_dir), *extra)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "trust: signed by the trusted key" in proc.stdout
        assert EPHEMERAL_SENTENCE not in proc.stdout


def test_tampered_folder_exits_1_naming_the_file(
    sealed: tuple[Path, str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(sealed[0], copy)
    (copy / "junit.xml").write_bytes(
        (copy / "junit.xml").read_bytes().replace(b'failures="2"', b'failures="0"', 1)
    )
    (copy / "allure-results" / "environment.properties").unlink()
    proc = conformance("report", "verify", str(copy))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"FAILED: {copy.resolve()}")
    assert "  - junit.xml: content changed since sealing" in proc.stdout
    assert "  - allure-results/environment.properties: missing" in proc.stdout


def test_foreign_reseal_passes_integrity_but_fails_the_trusted_key(
    sealed: tuple[Path, str, Path], tmp_path: Path
) -> None:
    run_dir, keyid, trusted = sealed
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    seal(copy, SigningKey.generate())
    assert conformance("report", "verify", str(copy)).returncode == 0
    proc = conformance("report", "verify", str(copy), "--trusted-key", str(trusted))
    assert proc.returncode == 1
    assert f"  - {PUBLIC_KEY_FILE}: signer" in proc.stdout and keyid in proc.stdout
    assert "trust: NOT signed by the trusted key" in proc.stdout
    assert conformance("report", "verify", str(copy), "--fingerprint", keyid).returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "verify", "/nonexistent/run-folder"], "does not exist"),
        (["report"], "choose a sub-command"),
        (["report", "verify"], "RUN_FOLDER"),
        (
            ["report", "verify", ".", "--trusted-key", "a.pub", "--fingerprint", "ab"],
            "not allowed with",
        ),
        (["report", "verify", ".", "--fingerprint", "xyz"], "64 hex digits"),
        (
            ["report", "verify", ".", "--trusted-key", "/nonexistent/key.pub"],
            "cannot read public key",
        ),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, sealed: tuple[Path, str, Path]) -> None:
    args = [str(sealed[0]) if a == "." else a for a in args]
    proc = conformance(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_file_instead_of_a_folder_is_a_usage_error(sealed: tuple[Path, str, Path]) -> None:
    proc = conformance("report", "verify", str(sealed[0] / "report.json"))
    assert proc.returncode == 2 and "not a folder" in proc.stderr
