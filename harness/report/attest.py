"""Seal and verify a run folder: a DSSE envelope around an in-toto Statement, signed with Ed25519.

``attestation.json`` is a DSSE envelope (payloadType ``application/vnd.in-toto+json``) whose
payload is an in-toto Statement v1 with predicateType
``https://in-toto.io/attestation/test-result/v0.1``. Its subjects are *every* file of the run
folder except ``attestation.json`` itself, so a changed, missing or added file is detected.
``keyid`` is the SHA-256 fingerprint (hex) of the public key's DER SubjectPublicKeyInfo; the
public key is written as ``signing-key.pub`` (and is itself a subject).

The key belongs to whoever operates the harness: ``--sign-key PATH`` or ``CONFORMANCE_SIGNING_KEY``
(a path, or the PEM text itself). Without one a per-run key is generated and marked ephemeral: such
a seal proves integrity only, not who ran the harness. Verifying with ``trusted_key`` or
``fingerprint`` also proves who signed.

``attestation.json`` is written in one canonical serialisation and verification insists on it,
so that *any* byte changed in it (even whitespace, or the unused bits of a base64 character) is
detected, not only changes that alter the parsed content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.report.builder import EPHEMERAL_SENTENCE, RunReport, load_report
from harness.report.errors import ReportError, SigningKeyError
from harness.report.model import CheckResult, Outcome, Verdict

ATTESTATION_FILE = "attestation.json"
PUBLIC_KEY_FILE = "signing-key.pub"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://in-toto.io/attestation/test-result/v0.1"
SIGNING_KEY_ENV = "CONFORMANCE_SIGNING_KEY"

#: test-result predicate ``result`` by run verdict: only CONFORMANT passes; PARTIALLY_CONFORMANT
#: (SHOULD findings only) warns; INCONCLUSIVE is not a pass, so it counts as FAILED.
PREDICATE_RESULT: Mapping[Verdict, str] = {
    Verdict.CONFORMANT: "PASSED",
    Verdict.PARTIALLY_CONFORMANT: "WARNED",
    Verdict.INCONCLUSIVE: "FAILED",
    Verdict.NON_CONFORMANT: "FAILED",
}

#: ResourceDescriptor name under which the predicate records the signing key (and ephemerality).
SIGNER_DESCRIPTOR = "signing-key"


# -- keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair sealing run folders. ``ephemeral``: generated for this run only."""

    private: Ed25519PrivateKey = field(repr=False)
    public: Ed25519PublicKey = field(repr=False)
    keyid: str
    ephemeral: bool

    @classmethod
    def generate(cls) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        public = private.public_key()
        return cls(private, public, key_fingerprint(public), ephemeral=True)

    @classmethod
    def from_private(cls, private: Ed25519PrivateKey, *, ephemeral: bool = False) -> SigningKey:
        public = private.public_key()
        return cls(private, public, key_fingerprint(public), ephemeral=ephemeral)

    def public_pem(self) -> bytes:
        return public_key_pem(self.public)


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 (lowercase hex) of the DER SubjectPublicKeyInfo: the ``keyid``."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


fingerprint = key_fingerprint


def normalise_fingerprint(text: str) -> str:
    """Accept ``ab12...``, ``AB:12:...`` or ``sha256:ab12...``; return 64 lowercase hex digits."""
    value = text.strip().lower()
    for prefix in ("sha256:", "sha256/", "sha256="):
        value = value.removeprefix(prefix)
    value = value.replace(":", "").replace(" ", "")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise SigningKeyError(
            f"fingerprint {text!r} is not a SHA-256 fingerprint: expected 64 hex digits, as printed"
            " by `conformance report verify` next to 'keyid'"
        )
    return value


def _private_from_pem(pem: bytes, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise SigningKeyError(
            f"signing key {origin} is encrypted: give an unencrypted PKCS#8 PEM key"
            " (e.g. `openssl pkey -in KEY -out key.pem`) and protect the file instead"
        ) from None
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(
            f"signing key {origin} is not a PEM private key ({exc}); create one with"
            " `openssl genpkey -algorithm ed25519 -out signing-key.pem`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"signing key {origin} is a {type(key).__name__.lstrip('_')}, not Ed25519: reports are"
            " sealed with Ed25519; create one with `openssl genpkey -algorithm ed25519 -out"
            " signing-key.pem`"
        )
    return key


def load_signing_key(path: Path | None, *, environ: Mapping[str, str] | None = None) -> SigningKey:
    """The operator's key from ``path`` (``--sign-key``), else ``CONFORMANCE_SIGNING_KEY`` (a file
    path or the PEM text), else a fresh ephemeral key. PEM PKCS#8 Ed25519, unencrypted."""
    env = os.environ if environ is None else environ
    if path is not None:
        path = Path(path)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(
                f"cannot read signing key {path} ({exc.strerror or exc}): check --sign-key"
            ) from None
        return SigningKey.from_private(_private_from_pem(pem, str(path)))
    value = env.get(SIGNING_KEY_ENV, "").strip()
    if value:
        if value.startswith("-----BEGIN"):
            return SigningKey.from_private(
                _private_from_pem(value.encode(), f"in ${SIGNING_KEY_ENV}")
            )
        env_path = Path(value)
        try:
            pem = env_path.read_bytes()
        except OSError as exc:
            raise SigningKeyError(
                f"cannot read signing key {env_path} named by ${SIGNING_KEY_ENV}"
                f" ({exc.strerror or exc}): set it to a PEM file path or the PEM text"
            ) from None
        return SigningKey.from_private(_private_from_pem(pem, f"{env_path} (${SIGNING_KEY_ENV})"))
    return SigningKey.generate()


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key (PEM SubjectPublicKeyInfo), e.g. a trusted ``signing-key.pub``."""
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read public key {path} ({exc.strerror or exc})") from None
    return _public_from_pem(pem, str(path))


def _public_from_pem(pem: bytes, origin: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, binascii.Error) as exc:
        raise SigningKeyError(
            f"{origin} is not a PEM public key ({exc}): expected the signing-key.pub of a run"
            " folder signed by the key you trust"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{origin} holds a {type(key).__name__.lstrip('_')}, not Ed25519")
    return key


# -- DSSE ------------------------------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _canonical(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=True) + "\n").encode("ascii")


class _Malformed(ValueError):
    """attestation.json does not have the shape the harness writes (becomes a problem line)."""


def _strict_b64decode(text: Any, what: str) -> bytes:
    """Decode standard base64 and insist it is the canonical encoding of the result."""
    if not isinstance(text, str):
        raise _Malformed(f"{what} is not a string")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise _Malformed(f"{what} is not valid base64 ({exc})") from None
    if _b64(data) != text:
        raise _Malformed(f"{what} is not canonical base64")
    return data


# -- sealing ---------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_folder_files(run_dir: Path) -> tuple[list[str], list[str]]:
    """(files, oddities): every regular file of ``run_dir`` as a relative posix path, sorted, except
    the top-level ``attestation.json``; and paths that are neither files nor directories (symbolic
    links, sockets...), which a sealed folder must not contain."""
    run_dir = Path(run_dir)
    files: list[str] = []
    oddities: list[str] = []
    for root, dirs, names in os.walk(run_dir, followlinks=False):
        base = Path(root)
        for name in list(dirs):
            if (base / name).is_symlink():
                oddities.append((base / name).relative_to(run_dir).as_posix())
                dirs.remove(name)
        for name in names:
            full = base / name
            rel = full.relative_to(run_dir).as_posix()
            if full.is_symlink() or not full.is_file():
                oddities.append(rel)
            elif rel != ATTESTATION_FILE:
                files.append(rel)
    return sorted(files), sorted(oddities)


def _test_lists(checks: tuple[CheckResult, ...]) -> tuple[list[str], list[str], list[str]]:
    """passedTests / warnedTests / failedTests by pytest node id (skipped tests are in none)."""
    outcomes: dict[str, set[Outcome]] = {}
    for check in checks:
        outcomes.setdefault(check.test, set()).add(check.outcome)
    passed, warned, failed = [], [], []
    for test in sorted(outcomes):
        seen = outcomes[test]
        if seen & {Outcome.FAIL, Outcome.ERROR}:
            failed.append(test)
        elif Outcome.WARNING in seen:
            warned.append(test)
        elif seen & {Outcome.PASS, Outcome.NOT_APPLICABLE}:
            passed.append(test)
    return passed, warned, failed


def build_statement(run_dir: Path, report: RunReport, key: SigningKey) -> dict[str, Any]:
    """The in-toto Statement over every file currently in ``run_dir``."""
    run_dir = Path(run_dir)
    files, oddities = run_folder_files(run_dir)
    if oddities:
        raise ReportError(
            f"cannot seal {run_dir}: {', '.join(oddities)} is not a regular file (symbolic links"
            " and special files cannot be attested); replace it with a copy of the file"
        )
    subjects = [{"name": rel, "digest": {"sha256": sha256_file(run_dir / rel)}} for rel in files]
    meta = report.meta
    configuration: list[dict[str, Any]] = [
        {
            "name": "trade-conformance-harness",
            "annotations": {
                "harnessVersion": meta.harness_version,
                "runId": meta.run_id,
                "seed": meta.seed,
                "profiles": {p.profile: p.verdict.value for p in report.profiles},
                "verdict": report.verdict.value,
            },
        },
        {"name": "suite", "digest": {"sha256": meta.suite_digest}}
        if _is_hex64(meta.suite_digest)
        else {"name": "suite", "annotations": {"digest": meta.suite_digest}},
    ]
    for artefact in meta.artefacts:
        configuration.append(
            {
                "name": artefact.path,
                "digest": {"sha256": artefact.sha256},
                "downloadLocation": artefact.url,
                "annotations": {
                    "provenance": artefact.provenance,
                    **({"version": artefact.version} if artefact.version else {}),
                },
            }
        )
    configuration.append(
        {
            "name": SIGNER_DESCRIPTOR,
            "digest": {"sha256": key.keyid},
            "annotations": {"keyid": key.keyid, "ephemeral": key.ephemeral},
        }
    )
    passed, warned, failed = _test_lists(report.checks)
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "result": PREDICATE_RESULT[report.verdict],
            "configuration": configuration,
            "passedTests": passed,
            "warnedTests": warned,
            "failedTests": failed,
        },
    }


def _is_hex64(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def seal(run_dir: Path, key: SigningKey, *, report: RunReport | None = None) -> Path:
    """Write ``signing-key.pub`` then ``attestation.json`` over every file of ``run_dir``.

    ``report`` defaults to the folder's ``report.json``. Returns the attestation's path. Any
    file added, changed or removed afterwards makes :func:`verify` fail.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"cannot seal {run_dir}: no such folder")
    if report is None:
        report = load_report(run_dir / "report.json")
    tmp = run_dir / f".{ATTESTATION_FILE}.tmp"
    tmp.unlink(missing_ok=True)  # left by an interrupted seal; not part of the run
    (run_dir / PUBLIC_KEY_FILE).write_bytes(key.public_pem())
    statement = build_statement(run_dir, report, key)
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    signature = key.private.sign(pae(PAYLOAD_TYPE, payload))
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": _b64(payload),
        "signatures": [{"keyid": key.keyid, "sig": _b64(signature)}],
    }
    target = run_dir / ATTESTATION_FILE
    tmp.write_bytes(_canonical(envelope))
    os.replace(tmp, target)
    return target


# -- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`.

    ``ok`` is true only when the signature holds, every file matches its subject, nothing is
    missing or added, and (when a trust anchor was given) the signer is the trusted key.
    ``problems`` name the file(s) concerned; ``notes`` say what the result does *not* prove.
    ``trusted`` is None when no trust anchor was given.
    """

    ok: bool
    problems: tuple[str, ...]
    keyid: str | None
    ephemeral: bool | None
    trusted: bool | None = None
    notes: tuple[str, ...] = ()
    files_checked: int = 0
    predicate: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)


def verify(
    run_dir: Path,
    *,
    trusted_key: Path | None = None,
    fingerprint: str | None = None,
) -> VerifyResult:
    """Check a sealed run folder. Raises :class:`ReportError` only when ``run_dir`` is not a
    folder or the trust anchor itself cannot be read (a usage error); every finding about the
    folder's content is a problem in the result."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir} is not a run folder (no such directory)")
    if trusted_key is not None and fingerprint is not None:
        raise ReportError("give either a trusted key or a fingerprint, not both")
    anchor: str | None = None
    if trusted_key is not None:
        anchor = key_fingerprint(load_public_key(trusted_key))
    elif fingerprint is not None:
        anchor = normalise_fingerprint(fingerprint)

    problems: list[str] = []
    notes: list[str] = []

    # 1. The envelope, in its canonical form.
    envelope: dict[str, Any] | None = None
    raw = _read(run_dir / ATTESTATION_FILE)
    if raw is None:
        problems.append(
            f"{ATTESTATION_FILE}: missing (the folder was never sealed, or the attestation was"
            " deleted)"
        )
    else:
        try:
            parsed = json.loads(raw)
            if not isinstance(parsed, dict):
                raise _Malformed("not a JSON object")
            envelope = parsed
            if _canonical(envelope) != raw:
                problems.append(
                    f"{ATTESTATION_FILE}: altered (its bytes differ from the form the harness"
                    " writes)"
                )
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{ATTESTATION_FILE}: not a readable DSSE envelope ({exc})")

    # 2. The public key in the folder (also a subject, checked below).
    folder_key: Ed25519PublicKey | None = None
    key_raw = _read(run_dir / PUBLIC_KEY_FILE)
    if key_raw is None:
        problems.append(f"{PUBLIC_KEY_FILE}: missing (needed to check the signature)")
    else:
        try:
            folder_key = _public_from_pem(key_raw, PUBLIC_KEY_FILE)
        except SigningKeyError as exc:
            problems.append(f"{PUBLIC_KEY_FILE}: unreadable ({exc})")
    keyid = key_fingerprint(folder_key) if folder_key is not None else None

    # 3. Signature over PAE(payloadType, payload).
    statement: dict[str, Any] | None = None
    if envelope is not None:
        try:
            if envelope.get("payloadType") != PAYLOAD_TYPE:
                raise _Malformed(
                    f"payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}"
                )
            payload = _strict_b64decode(envelope.get("payload"), "payload")
            signatures = envelope.get("signatures")
            if not isinstance(signatures, list) or not signatures:
                raise _Malformed("no signatures")
            if folder_key is not None and not _signature_holds(
                folder_key, keyid, payload, signatures
            ):
                problems.append(
                    f"{ATTESTATION_FILE}: signature does not verify with {PUBLIC_KEY_FILE}"
                    " (the attestation or the key was replaced or altered)"
                )
            parsed_statement = json.loads(payload)
            if not isinstance(parsed_statement, dict):
                raise _Malformed("payload is not a JSON object")
            statement = parsed_statement
            if statement.get("_type") != STATEMENT_TYPE:
                raise _Malformed(f"statement _type is {statement.get('_type')!r}")
            if statement.get("predicateType") != PREDICATE_TYPE:
                raise _Malformed(f"predicateType is {statement.get('predicateType')!r}")
        except ValueError as exc:
            problems.append(f"{ATTESTATION_FILE}: {exc}")

    # 4. Every file against its subject: changed, missing, added.
    files, oddities = run_folder_files(run_dir)
    for rel in oddities:
        problems.append(f"{rel}: not a regular file (symbolic link or special file)")
    ephemeral: bool | None = None
    predicate: Mapping[str, Any] | None = None
    if statement is not None:
        subjects = _subject_digests(statement, problems)
        for rel in sorted(set(subjects) - set(files)):
            problems.append(f"{rel}: missing (listed in the attestation, not in the folder)")
        for rel in sorted(set(files) - set(subjects)):
            problems.append(f"{rel}: added after sealing (not covered by the attestation)")
        for rel in sorted(set(files) & set(subjects)):
            actual = sha256_file(run_dir / rel)
            if actual != subjects[rel]:
                problems.append(
                    f"{rel}: content changed since sealing (sha256 attested {subjects[rel]},"
                    f" found {actual})"
                )
        predicate = (
            statement.get("predicate") if isinstance(statement.get("predicate"), dict) else None
        )
        ephemeral = _ephemeral_from(predicate)

    # 5. Who signed.
    trusted: bool | None = None
    if anchor is not None:
        trusted = (
            keyid is not None
            and keyid == anchor
            and not any(p.startswith(f"{ATTESTATION_FILE}: signature") for p in problems)
        )
        if keyid is not None and keyid != anchor:
            problems.append(
                f"{PUBLIC_KEY_FILE}: signer {keyid} is not the trusted key {anchor} (the folder was"
                " sealed, or re-sealed, by someone else)"
            )
    elif ephemeral:
        notes.append(EPHEMERAL_SENTENCE)
    else:
        notes.append(
            "signer not checked against a trust anchor: pass --trusted-key or --fingerprint to"
            " prove who signed"
        )
    return VerifyResult(
        ok=not problems,
        problems=tuple(problems),
        keyid=keyid,
        ephemeral=ephemeral,
        trusted=trusted,
        notes=tuple(notes),
        files_checked=len(files),
        predicate=predicate,
    )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _signature_holds(
    key: Ed25519PublicKey, keyid: str | None, payload: bytes, signatures: list[Any]
) -> bool:
    message = pae(PAYLOAD_TYPE, payload)
    for entry in signatures:
        if not isinstance(entry, dict) or entry.get("keyid") != keyid:
            continue
        try:
            key.verify(_strict_b64decode(entry.get("sig"), "signature"), message)
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def _subject_digests(statement: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    subjects: dict[str, str] = {}
    entries = statement.get("subject")
    if not isinstance(entries, list):
        problems.append(f"{ATTESTATION_FILE}: statement has no subject list")
        return subjects
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        digest = entry.get("digest", {}).get("sha256") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(digest, str):
            problems.append(f"{ATTESTATION_FILE}: malformed subject {entry!r}")
            continue
        subjects[name] = digest
    return subjects


def _ephemeral_from(predicate: Mapping[str, Any] | None) -> bool | None:
    if not predicate:
        return None
    for descriptor in predicate.get("configuration", ()):
        if isinstance(descriptor, dict) and descriptor.get("name") == SIGNER_DESCRIPTOR:
            value = descriptor.get("annotations", {}).get("ephemeral")
            return bool(value) if isinstance(value, bool) else None
    return None


__all__ = [
    "ATTESTATION_FILE",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "PUBLIC_KEY_FILE",
    "SigningKey",
    "VerifyResult",
    "build_statement",
    "fingerprint",
    "key_fingerprint",
    "load_public_key",
    "load_signing_key",
    "normalise_fingerprint",
    "pae",
    "run_folder_files",
    "seal",
    "verify",
]
