"""Tamper tests: every file of a sealed run folder, changed, deleted; files added; re-signed.

The helpers :func:`tamper_cases` and :func:`assert_tamper_detected` are reusable: an integration
test can run them over a real certification run folder::

    from tests.unit.test_tamper import assert_tamper_detected, tamper_cases

    for case in tamper_cases(run_dir):
        assert_tamper_detected(run_dir, case, workdir=tmp_path)
"""

from __future__ import annotations

import atexit
import base64
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.report.attest import (
    ATTESTATION_FILE,
    PUBLIC_KEY_FILE,
    SigningKey,
    VerifyResult,
    run_folder_files,
    seal,
    verify,
)
from tests.unit.test_report_support import write_sample_run


@dataclass(frozen=True)
class TamperCase:
    """One way of altering a sealed run folder, and the file ``verify`` must then name.

    ``apply`` mutates a *copy* of the run folder. When ``needs_trust_anchor`` is true the
    alteration is a clean re-seal by someone else: integrity holds, so only a verification against
    the original signer (``--trusted-key`` / ``--fingerprint``) can detect it.
    """

    id: str
    target: str
    apply: Callable[[Path], None]
    needs_trust_anchor: bool = False


def _flip_byte(rel: str) -> Callable[[Path], None]:
    def apply(run_dir: Path) -> None:
        path = run_dir / rel
        data = bytearray(path.read_bytes())
        if data:
            data[len(data) // 2] ^= 0x01
        else:
            data = bytearray(b"\x00")
        path.write_bytes(bytes(data))

    return apply


def _delete(rel: str) -> Callable[[Path], None]:
    return lambda run_dir: (run_dir / rel).unlink()


def _add(rel: str, content: bytes) -> Callable[[Path], None]:
    def apply(run_dir: Path) -> None:
        path = run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    return apply


def _forge_and_reseal(run_dir: Path) -> None:
    """What a forger with their own key does: improve the verdict, then seal again."""
    report = run_dir / "report.json"
    document = json.loads(report.read_text("utf-8"))
    document["verdict"] = "CONFORMANT"
    document["exit_code"] = 0
    document["reasons"] = []
    report.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    seal(run_dir, SigningKey.generate())


def _foreign_signature_original_key(run_dir: Path) -> None:
    """Re-seal with a foreign key but put the original public key back."""
    original = (run_dir / PUBLIC_KEY_FILE).read_bytes()
    seal(run_dir, SigningKey.generate())
    (run_dir / PUBLIC_KEY_FILE).write_bytes(original)


def tamper_cases(run_dir: Path) -> list[TamperCase]:
    """Every file changed by one byte, every file deleted, files added (top level and nested),
    and two re-signing attacks; for the sealed folder ``run_dir`` (which is not modified)."""
    files, _ = run_folder_files(run_dir)
    every = sorted([*files, ATTESTATION_FILE])
    cases = [TamperCase(f"flip-byte:{rel}", rel, _flip_byte(rel)) for rel in every]
    cases += [TamperCase(f"delete:{rel}", rel, _delete(rel)) for rel in every]
    nested = sorted({rel.rsplit("/", 1)[0] for rel in files if "/" in rel})
    cases.append(TamperCase("add:extra.txt", "extra.txt", _add("extra.txt", b"added later\n")))
    cases.append(TamperCase("add:.hidden", ".hidden", _add(".hidden", b"")))
    for folder in nested:
        rel = f"{folder}/added-later.bin"
        cases.append(TamperCase(f"add:{rel}", rel, _add(rel, b"\x00added")))
    cases.append(
        TamperCase(
            "reseal:foreign-key", PUBLIC_KEY_FILE, _forge_and_reseal, needs_trust_anchor=True
        )
    )
    cases.append(
        TamperCase("reseal:foreign-signature", ATTESTATION_FILE, _foreign_signature_original_key)
    )
    return cases


def assert_tamper_detected(run_dir: Path, case: TamperCase, *, workdir: Path) -> VerifyResult:
    """Apply ``case`` to a copy of ``run_dir`` under ``workdir`` and assert verification fails
    naming ``case.target`` (against the original key when the case needs a trust anchor)."""
    original = verify(run_dir)
    assert original.ok, f"the untouched folder must verify first: {original.problems}"
    trusted = workdir / f"trusted-{case.id.replace('/', '_').replace(':', '_')}.pub"
    trusted.write_bytes((run_dir / PUBLIC_KEY_FILE).read_bytes())
    copy = workdir / f"copy-{case.id.replace('/', '_').replace(':', '_')}"
    shutil.copytree(run_dir, copy, symlinks=True)
    try:
        case.apply(copy)
        if case.needs_trust_anchor:
            unanchored = verify(copy)
            assert unanchored.ok, "a clean re-seal keeps integrity; only the signer changed"
            result = verify(copy, trusted_key=trusted)
        else:
            result = verify(copy)
        assert not result.ok, f"{case.id}: tampering went unnoticed"
        named = [p for p in result.problems if p.startswith(f"{case.target}:")]
        assert named, f"{case.id}: no problem names {case.target}: {result.problems}"
        return result
    finally:
        shutil.rmtree(copy, ignore_errors=True)


# -- the sample run folder, built once per process ---------------------------------------------------

_SAMPLE: Path | None = None


def sample_run() -> Path:
    """A sealed, realistic run folder (built through write_run_folder); file names are
    deterministic, so parametrisation is identical in every pytest-xdist worker."""
    global _SAMPLE
    if _SAMPLE is None:
        base = Path(tempfile.mkdtemp(prefix="tamper-sample-"))
        atexit.register(shutil.rmtree, base, ignore_errors=True)
        write_sample_run(base / "run")
        _SAMPLE = base / "run"
    return _SAMPLE


CASES = tamper_cases(sample_run())


def test_cases_cover_every_file_of_the_run_folder() -> None:
    run_dir = sample_run()
    on_disk = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())
    assert {c.target for c in CASES if c.id.startswith("flip-byte:")} == set(on_disk)
    assert {c.target for c in CASES if c.id.startswith("delete:")} == set(on_disk)
    assert len(on_disk) >= 12
    kinds = {p.split("/")[0] for p in on_disk}
    assert {
        "evidence",
        "allure-results",
        "logs",
        "report.json",
        "attestation.json",
        "signing-key.pub",
    } <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tampering_is_detected_and_names_the_file(case: TamperCase, tmp_path: Path) -> None:
    assert_tamper_detected(sample_run(), case, workdir=tmp_path)


def test_one_byte_in_attestation_whitespace_is_detected(tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(sample_run(), copy)
    path = copy / ATTESTATION_FILE
    path.write_bytes(path.read_bytes().replace(b'{\n  "payloadType"', b'{\n \t"payloadType"', 1))
    json.loads(path.read_bytes())  # still the same JSON value
    result = verify(copy)
    assert not result.ok and any(p.startswith(f"{ATTESTATION_FILE}:") for p in result.problems)


def test_non_canonical_base64_signature_is_detected(tmp_path: Path) -> None:
    """The last base64 character of a 64-byte signature carries 4 unused bits: changing them
    leaves the decoded signature intact, yet it is a changed byte and must be detected."""
    copy = tmp_path / "run"
    shutil.copytree(sample_run(), copy)
    path = copy / ATTESTATION_FILE
    envelope = json.loads(path.read_bytes())
    sig = envelope["signatures"][0]["sig"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = sig[-3]
    sibling = alphabet[alphabet.index(last) ^ 0x01]
    envelope["signatures"][0]["sig"] = sig[:-3] + sibling + sig[-2:]
    assert base64.b64decode(envelope["signatures"][0]["sig"]) == base64.b64decode(sig)
    path.write_bytes((json.dumps(envelope, indent=2) + "\n").encode())
    result = verify(copy)
    assert not result.ok and any(p.startswith(f"{ATTESTATION_FILE}:") for p in result.problems)


def test_fingerprint_of_another_key_fails(tmp_path: Path) -> None:
    result = verify(sample_run(), fingerprint=SigningKey.generate().keyid)
    assert not result.ok and result.trusted is False
    assert any(p.startswith(f"{PUBLIC_KEY_FILE}:") for p in result.problems)
