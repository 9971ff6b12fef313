"""Signing keys, the DSSE envelope and in-toto statement, and verification of a sealed folder."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.report.attest import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    SigningKey,
    key_fingerprint,
    load_signing_key,
    normalise_fingerprint,
    pae,
    run_folder_files,
    seal,
    verify,
)
from harness.report.builder import EPHEMERAL_SENTENCE
from harness.report.errors import ReportError, SigningKeyError
from tests.unit.test_report_support import write_sample_run


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "operator.pem"
    path.write_bytes(_pem(Ed25519PrivateKey.generate()))
    return path


# -- keys -----------------------------------------------------------------------------------------


def test_keyid_is_the_sha256_of_the_der_public_key(key_file: Path) -> None:
    key = load_signing_key(key_file, environ={})
    der = key.public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.keyid == hashlib.sha256(der).hexdigest()
    assert key.ephemeral is False
    assert repr(key) == f"SigningKey(keyid='{key.keyid}', ephemeral=False)"  # no key material


def test_key_from_env_path_or_pem_text(key_file: Path) -> None:
    expected = load_signing_key(key_file, environ={}).keyid
    assert (
        load_signing_key(None, environ={"CONFORMANCE_SIGNING_KEY": str(key_file)}).keyid == expected
    )
    pem_text = key_file.read_text()
    from_text = load_signing_key(None, environ={"CONFORMANCE_SIGNING_KEY": pem_text})
    assert from_text.keyid == expected and not from_text.ephemeral


def test_sign_key_option_wins_over_the_environment(key_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(_pem(Ed25519PrivateKey.generate()))
    chosen = load_signing_key(key_file, environ={"CONFORMANCE_SIGNING_KEY": str(other)})
    assert chosen.keyid == load_signing_key(key_file, environ={}).keyid


def test_without_a_key_a_fresh_ephemeral_key_is_generated() -> None:
    a, b = load_signing_key(None, environ={}), load_signing_key(None, environ={})
    assert a.ephemeral and b.ephemeral
    assert a.keyid != b.keyid


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key", "not a PEM private key"),
        (
            generate_private_key(SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "not Ed25519",
        ),
        (
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pw"),
            ),
            "encrypted",
        ),
    ],
)
def test_unusable_keys_are_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    with pytest.raises(SigningKeyError, match=message):
        load_signing_key(path, environ={})


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="--sign-key"):
        load_signing_key(tmp_path / "nope.pem", environ={})
    with pytest.raises(SigningKeyError, match="CONFORMANCE_SIGNING_KEY"):
        load_signing_key(None, environ={"CONFORMANCE_SIGNING_KEY": str(tmp_path / "nope.pem")})


def test_fingerprint_forms_are_normalised() -> None:
    hexfp = "ab" * 32
    assert normalise_fingerprint(hexfp.upper()) == hexfp
    assert normalise_fingerprint("SHA256:" + ":".join(["AB"] * 32)) == hexfp
    with pytest.raises(SigningKeyError, match="64 hex digits"):
        normalise_fingerprint("abc")


# -- DSSE / in-toto --------------------------------------------------------------------------------


def test_pae_follows_dsse_v1() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.fixture
def sealed(tmp_path: Path, key_file: Path) -> tuple[Path, SigningKey]:
    key = load_signing_key(key_file, environ={})
    run_dir = tmp_path / "run"
    write_sample_run(run_dir, key)
    return run_dir, key


def test_attestation_is_a_dsse_envelope_over_an_in_toto_statement(
    sealed: tuple[Path, SigningKey],
) -> None:
    run_dir, key = sealed
    envelope = json.loads((run_dir / "attestation.json").read_text())
    assert envelope["payloadType"] == PAYLOAD_TYPE == "application/vnd.in-toto+json"
    (signature,) = envelope["signatures"]
    assert signature["keyid"] == key.keyid
    payload = base64.b64decode(envelope["payload"])
    key.public.verify(base64.b64decode(signature["sig"]), pae(PAYLOAD_TYPE, payload))
    statement = json.loads(payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert (
        statement["predicateType"]
        == PREDICATE_TYPE
        == "https://in-toto.io/attestation/test-result/v0.1"
    )
    names = [s["name"] for s in statement["subject"]]
    files, _ = run_folder_files(run_dir)
    assert names == files
    assert "attestation.json" not in names
    assert {
        "report.json",
        "report.html",
        "junit.xml",
        "ctrf.json",
        "signing-key.pub",
        "evidence/index.json",
    } <= set(names)
    assert any(n.startswith("allure-results/") for n in names)
    assert any(n.startswith("logs/") for n in names)
    for subject in statement["subject"]:
        data = (run_dir / subject["name"]).read_bytes()
        assert subject["digest"] == {"sha256": hashlib.sha256(data).hexdigest()}


def test_predicate_follows_the_test_result_spec(sealed: tuple[Path, SigningKey]) -> None:
    run_dir, key = sealed
    predicate = verify(run_dir).predicate
    assert predicate is not None
    assert predicate["result"] == "FAILED"  # NON_CONFORMANT
    assert predicate["failedTests"] == [
        "suites/peppol_bis/test_outbound.py::test_document_for[credit-note]",
        "suites/peppol_bis/test_outbound.py::test_documents_are_valid[invoice-standard]",
    ]
    assert predicate["passedTests"] == [
        "suites/peppol_bis/test_outbound.py::test_document_for[invoice-standard]"
    ]
    assert predicate["warnedTests"] == []
    assert isinstance(predicate["configuration"], list) and predicate["configuration"]
    signer = next(c for c in predicate["configuration"] if c["name"] == "signing-key")
    assert signer["annotations"] == {"keyid": key.keyid, "ephemeral": False}
    artefact = next(
        c for c in predicate["configuration"] if c["name"].endswith("PEPPOL-EN16931-UBL.xslt")
    )
    assert artefact["digest"] == {"sha256": "a" * 64}


def test_verify_ok_with_and_without_a_trust_anchor(
    sealed: tuple[Path, SigningKey], tmp_path: Path
) -> None:
    run_dir, key = sealed
    plain = verify(run_dir)
    assert plain.ok and plain.problems == ()
    assert plain.keyid == key.keyid and plain.ephemeral is False and plain.trusted is None
    assert EPHEMERAL_SENTENCE not in plain.notes
    pub = tmp_path / "trusted.pub"
    pub.write_bytes(key.public_pem())
    anchored = verify(run_dir, trusted_key=pub)
    assert anchored.ok and anchored.trusted is True and anchored.notes == ()
    assert verify(run_dir, fingerprint=key.keyid.upper()).trusted is True


def test_ephemeral_key_says_it_proves_integrity_only(tmp_path: Path) -> None:
    write_sample_run(tmp_path / "run")
    result = verify(tmp_path / "run")
    assert result.ok and result.ephemeral is True
    assert result.notes == (EPHEMERAL_SENTENCE,)
    assert EPHEMERAL_SENTENCE == "ephemeral key: proves integrity only, not who ran it"


def test_fingerprint_mismatch_fails_naming_the_signer(sealed: tuple[Path, SigningKey]) -> None:
    run_dir, key = sealed
    result = verify(run_dir, fingerprint="0" * 64)
    assert not result.ok and result.trusted is False
    assert any(p.startswith("signing-key.pub:") and key.keyid in p for p in result.problems)


def test_verify_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such directory"):
        verify(tmp_path / "missing")


def test_unsealed_folder_fails(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("{}")
    result = verify(tmp_path)
    assert not result.ok
    assert any(p.startswith("attestation.json: missing") for p in result.problems)


def test_seal_refuses_symbolic_links(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_sample_run(run_dir)
    (run_dir / "link").symlink_to(run_dir / "report.json")
    with pytest.raises(ReportError, match="link"):
        seal(run_dir, SigningKey.generate())
    assert any(p.startswith("link:") for p in verify(run_dir).problems)


def test_resealing_after_legitimate_change_verifies_again(sealed: tuple[Path, SigningKey]) -> None:
    run_dir, key = sealed
    (run_dir / "notes.txt").write_text("certifier's remark")
    assert not verify(run_dir).ok
    seal(run_dir, key)
    assert verify(run_dir).ok
    assert key_fingerprint(key.public) == key.keyid
