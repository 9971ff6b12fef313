"""The test PKI on disk: create it once, load it many times, issue and revoke on demand.

Layout of a PKI directory (everything but ``*/key.pem`` may be shared; keys are written 0600 and
never copied anywhere else by the harness)::

    manifest.json            what is in the PKI: per certificate kind, subject, issuer, serial,
                             SHA-256 fingerprint, validity, faults, revocation; CRL numbers
    trust-anchors.pem        the test root (what a relying party trusts)
    intermediates.pem        the trusted issuing CAs (AP CA, SMP CA)
    ca/<ca>/cert.pem key.pem chain.pem crl.pem crl.der
    ca/<ca>/ocsp-responder/cert.pem key.pem chain.pem   (delegated OCSP responder, AP and SMP CA)
    certs/<name>/cert.pem key.pem chain.pem             (chain.pem: leaf + its issuing CA)

Several processes (pytest-xdist workers, the reference OCSP endpoint) may use one directory:
writers take an advisory lock (``.lock``) and the manifest is replaced atomically, so a reader
sees either the old or the new state, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.pki.model import (
    LEAF_KINDS,
    CertificateKind,
    Fault,
    IssuedCertificate,
    PkiError,
    Revocation,
    RevocationReason,
    TestPki,
)
from harness.pki.x509build import (
    RevocationUrls,
    SubjectName,
    build_certificate,
    build_crl,
    generate_key,
)

MANIFEST_FORMAT = "conformance-test-pki/1"
MANIFEST = "manifest.json"
LOCK = ".lock"

HARNESS_ORGANIZATION = "Trade Conformance Harness"
CA_COUNTRY = "BE"
CA_UNIT = "FOR TEST ONLY"
LEAF_COUNTRY = "SG"
#: Seat ids of certificates issued on demand start here (``PSG000100``, ``PSG000101``, ...).
FIRST_ISSUED_SEAT = 100

#: Validity, relative to the time the PKI or the certificate is made. CAs are back-dated so that
#: an expired leaf still lies inside its issuer's validity, as a real expired certificate would.
CA_BACKDATE = timedelta(days=5 * 365)
ROOT_LIFETIME = timedelta(days=20 * 365)
INTERMEDIATE_LIFETIME = timedelta(days=15 * 365)
LEAF_BACKDATE = timedelta(hours=1)  # tolerate clock skew between machines
LEAF_LIFETIME = timedelta(days=730)  # Peppol AP/SMP certificates are issued for two years
EXPIRED_FOR = timedelta(days=1)
NOT_YET_VALID_FOR = timedelta(days=30)
CRL_LIFETIME = timedelta(days=30)
#: ``init_pki`` on an existing PKI re-signs CRLs that expire within this margin.
CRL_REFRESH_MARGIN = timedelta(days=1)

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SEAT = re.compile(r"^P[A-Z]{2}[0-9]{6}$")


@dataclass(frozen=True)
class _CaSpec:
    name: str
    common_name: str
    issuer: str | None
    trusted: bool = True
    organization: str = HARNESS_ORGANIZATION
    responder: bool = False


#: The trusted hierarchy, shaped like the Peppol PKI's (root, AP CA, SMP CA).
TRUSTED_CAS = (
    _CaSpec("root", "Harness Test Root CA", None),
    _CaSpec("ap-ca", "Harness Test AP CA", "root", responder=True),
    _CaSpec("smp-ca", "Harness Test SMP CA", "root", responder=True),
)
#: A separate root no relying party trusts, made the first time a wrong-CA certificate is issued.
#: Its issuing CA has no delegated responder: OCSP answers for it are signed by the CA itself.
UNTRUSTED_CAS = (
    _CaSpec(
        "untrusted-root",
        "Harness Untrusted Root CA",
        None,
        trusted=False,
        organization="Untrusted Test Issuer",
    ),
    _CaSpec(
        "untrusted-ca",
        "Harness Untrusted Issuing CA",
        "untrusted-root",
        trusted=False,
        organization="Untrusted Test Issuer",
    ),
)
ISSUING_CA = {CertificateKind.AP: "ap-ca", CertificateKind.SMP: "smp-ca"}
UNTRUSTED_ISSUING_CA = "untrusted-ca"
LEAF_UNIT = {CertificateKind.AP: "HARNESS TEST AP", CertificateKind.SMP: "HARNESS TEST SMP"}


@dataclass(frozen=True)
class _LeafSpec:
    name: str
    kind: CertificateKind
    seat_id: str
    organization: str


#: Made by ``init_pki``: the reference endpoints' own certificates (one service provider, one seat
#: id, like a real Peppol provider's AP and SMP certificates) and a participant's that has none.
DEFAULT_LEAVES = (
    _LeafSpec("ap", CertificateKind.AP, "PSG000001", "Harness Reference Provider"),
    _LeafSpec("smp", CertificateKind.SMP, "PSG000001", "Harness Reference Provider"),
    _LeafSpec("participant-ap", CertificateKind.AP, "PSG000002", "Participant Under Test"),
    _LeafSpec("participant-smp", CertificateKind.SMP, "PSG000002", "Participant Under Test"),
)


# -- public API -------------------------------------------------------------------------------


def init_pki(
    directory: str | os.PathLike[str],
    *,
    now: datetime | None = None,
    revocation_base_url: str | None = None,
    force: bool = False,
) -> TestPki:
    """Create the test PKI in ``directory``, or load the one already there.

    Idempotent: an existing PKI is loaded, not replaced (its CRLs are re-signed if they are about
    to expire); ``force=True`` replaces the files the PKI owns (nothing else in the directory).
    ``revocation_base_url`` (the reference OCSP endpoint, e.g. ``http://ocsp.test:8080``) goes
    into the CRL distribution point and authority information access extensions; it must match
    the existing PKI's (PkiError otherwise: recreate with ``force``).
    """
    root = Path(directory)
    at = _utc(now)
    base = _base_url(revocation_base_url)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root):
        if (root / MANIFEST).is_file() and not force:
            state = _read_manifest(root)
            if base is not None and state.get("revocation_base_url") != base:
                raise PkiError(
                    f"the test PKI in {root} was made with revocation base URL"
                    f" {state.get('revocation_base_url')!r}, not {base!r}; recreate it with"
                    " `conformance pki init --force` (or init_pki(..., force=True))"
                )
            _check_not_expired(root, state, at)
            if _refresh_crls(root, state, at, only_stale=True):
                _write_manifest(root, state)
        else:
            _remove_owned(root)
            state = _new_state(at, base)
            for spec in TRUSTED_CAS:
                _make_ca(root, state, spec, at)
            for leaf in DEFAULT_LEAVES:
                _make_leaf(
                    root,
                    state,
                    leaf.name,
                    leaf.kind,
                    issuer=ISSUING_CA[leaf.kind],
                    seat_id=leaf.seat_id,
                    organization=leaf.organization,
                    country=LEAF_COUNTRY,
                    not_before=at - LEAF_BACKDATE,
                    not_after=at + LEAF_LIFETIME,
                    faults=(),
                )
            _write_bundles(root, state)
            _write_manifest(root, state)
    return load_pki(root)


def load_pki(directory: str | os.PathLike[str]) -> TestPki:
    """The test PKI in ``directory`` as written by :func:`init_pki`.

    Every certificate file is checked against the SHA-256 fingerprint the manifest recorded, so a
    file replaced behind the harness' back is reported rather than trusted.
    """
    root = Path(directory)
    state = _read_manifest(root)
    authorities: dict[str, IssuedCertificate] = {}
    for name in _ca_order(state["authorities"]):
        authorities[name] = _issued(root, name, state["authorities"][name], authorities)
    responders = {
        ca: _issued(root, f"{ca}-ocsp-responder", entry, authorities)
        for ca, entry in state["responders"].items()
    }
    certificates = {
        name: _issued(root, name, entry, authorities)
        for name, entry in state["certificates"].items()
    }
    return TestPki(
        directory=root,
        authorities=MappingProxyType(authorities),
        certificates=MappingProxyType(certificates),
        responders=MappingProxyType(responders),
        revocation_base_url=state.get("revocation_base_url"),
        created=_parse_time(state["created"]),
    )


def issue(
    pki: TestPki | str | os.PathLike[str],
    kind: CertificateKind | str,
    name: str,
    *,
    expired: bool = False,
    not_yet_valid: bool = False,
    revoked: bool = False,
    wrong_ca: bool = False,
    seat_id: str | None = None,
    organization: str = "Participant Under Test",
    country: str = LEAF_COUNTRY,
    reason: RevocationReason | str = RevocationReason.KEY_COMPROMISE,
    now: datetime | None = None,
) -> IssuedCertificate:
    """Issue leaf certificate ``name`` of ``kind`` (``"ap"`` or ``"smp"``), faulty on request.

    * ``expired``: valid for two years, ended a day ago;
    * ``not_yet_valid``: starts in thirty days;
    * ``revoked``: listed in its CA's CRL (re-signed now) and answered ``revoked`` by OCSP;
    * ``wrong_ca``: issued by a separate root (``untrusted-root``) that no relying party trusts.

    Faults combine (an expired wrong-CA certificate), except expired with not-yet-valid.
    Idempotent: asking again for an existing ``name`` with the same kind and faults returns it;
    different ones raise :class:`PkiError`. The seat id (subject CN) is ``seat_id`` or the next
    free ``PSG0001nn``.
    """
    root = pki.directory if isinstance(pki, TestPki) else Path(pki)
    leaf_kind = _leaf_kind(kind)
    if expired and not_yet_valid:
        raise PkiError(
            "a certificate cannot be both expired and not yet valid; ask for one of them"
        )
    _check_name(name)
    if seat_id is not None and not _SEAT.match(seat_id):
        raise PkiError(
            f"seat id {seat_id!r} is not Peppol-shaped: a P, a two-letter authority code and six digits (PSG000123)"
        )
    revocation_reason = _reason(reason)
    faults = {
        f
        for f, on in (
            (Fault.EXPIRED, expired),
            (Fault.NOT_YET_VALID, not_yet_valid),
            (Fault.REVOKED, revoked),
            (Fault.WRONG_CA, wrong_ca),
        )
        if on
    }
    at = _utc(now)
    with _locked(root):
        state = _read_manifest(root)
        existing = state["certificates"].get(name)
        if existing is not None:
            same = (
                existing["kind"] == leaf_kind.value
                and set(existing["faults"]) == {f.value for f in faults}
                and (seat_id is None or existing["seat_id"] == seat_id)
            )
            if not same:
                raise PkiError(
                    f"certificate {name!r} already exists in {root} as {existing['kind']} with faults"
                    f" {existing['faults'] or 'none'}; choose another name for a {leaf_kind.value} with"
                    f" faults {sorted(f.value for f in faults) or 'none'}"
                )
        else:
            if wrong_ca:
                for spec in UNTRUSTED_CAS:
                    if spec.name not in state["authorities"]:
                        _make_ca(root, state, spec, at)
            if expired:
                not_before, not_after = at - LEAF_LIFETIME - EXPIRED_FOR, at - EXPIRED_FOR
            elif not_yet_valid:
                not_before, not_after = (
                    at + NOT_YET_VALID_FOR,
                    at + NOT_YET_VALID_FOR + LEAF_LIFETIME,
                )
            else:
                not_before, not_after = at - LEAF_BACKDATE, at + LEAF_LIFETIME
            if seat_id is None:
                seat_id = f"PSG{state['next_seat']:06d}"
                state["next_seat"] += 1
            issuer = UNTRUSTED_ISSUING_CA if wrong_ca else ISSUING_CA[leaf_kind]
            entry = _make_leaf(
                root,
                state,
                name,
                leaf_kind,
                issuer=issuer,
                seat_id=seat_id,
                organization=organization,
                country=country,
                not_before=not_before,
                not_after=not_after,
                faults=sorted(f.value for f in faults),
            )
            if revoked:
                entry["revocation"] = {"at": _fmt_time(at), "reason": revocation_reason.value}
                _write_crl(root, state, issuer, at)
            _write_manifest(root, state)
    return load_pki(root)[name]


def revoke(
    pki: TestPki | str | os.PathLike[str],
    name: str,
    *,
    reason: RevocationReason | str = RevocationReason.KEY_COMPROMISE,
    now: datetime | None = None,
) -> IssuedCertificate:
    """Revoke leaf ``name`` (or issuing CA ``name``): its CA's CRL is re-signed with it listed,
    and the OCSP responder answers ``revoked`` from then on. Revoking twice changes nothing."""
    root = pki.directory if isinstance(pki, TestPki) else Path(pki)
    revocation_reason = _reason(reason)
    at = _utc(now)
    with _locked(root):
        state = _read_manifest(root)
        entry = state["certificates"].get(name)
        if entry is None:
            ca = state["authorities"].get(name)
            if ca is None or ca["issuer"] is None:
                raise PkiError(
                    f"{root} has no leaf or issuing CA {name!r} to revoke; known:"
                    f" {', '.join(sorted(state['certificates']))}"
                )
            entry = ca
        if entry.get("revocation") is None:
            entry["revocation"] = {"at": _fmt_time(at), "reason": revocation_reason.value}
            _write_crl(root, state, entry["issuer"], at)
            _write_manifest(root, state)
    pki_now = load_pki(root)
    return pki_now.certificates[name] if name in pki_now.certificates else pki_now.authorities[name]


def refresh_crls(
    pki: TestPki | str | os.PathLike[str], *, now: datetime | None = None
) -> tuple[str, ...]:
    """Re-sign every CA's CRL (new thisUpdate/nextUpdate, next CRL number); the CA names."""
    root = pki.directory if isinstance(pki, TestPki) else Path(pki)
    with _locked(root):
        state = _read_manifest(root)
        done = _refresh_crls(root, state, _utc(now), only_stale=False)
        _write_manifest(root, state)
    return done


def load_private_key(certificate: IssuedCertificate) -> rsa.RSAPrivateKey:
    """The private key of ``certificate``, for a signer that needs it (never log or record it)."""
    try:
        data = certificate.private_key_path.read_bytes()
    except OSError as exc:
        raise PkiError(
            f"cannot read the private key of {certificate.name!r} ({certificate.private_key_path}):"
            f" {exc.strerror}; recreate the PKI with `conformance pki init --force`"
        ) from None
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PkiError(f"{certificate.private_key_path} does not hold an RSA key")
    return key


def manifest_digest(directory: str | os.PathLike[str]) -> str:
    """SHA-256 of the manifest: changes whenever a certificate is issued or revoked."""
    return hashlib.sha256((Path(directory) / MANIFEST).read_bytes()).hexdigest()


# -- making things ------------------------------------------------------------------------------


def _new_state(at: datetime, base: str | None) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "created": _fmt_time(at),
        "revocation_base_url": base,
        "next_seat": FIRST_ISSUED_SEAT,
        "authorities": {},
        "responders": {},
        "certificates": {},
        "crls": {},
    }


def _make_ca(root: Path, state: dict[str, Any], spec: _CaSpec, at: datetime) -> None:
    lifetime = ROOT_LIFETIME if spec.issuer is None else INTERMEDIATE_LIFETIME
    kind = CertificateKind.ROOT_CA if spec.issuer is None else CertificateKind.INTERMEDIATE_CA
    subject = SubjectName(spec.common_name, spec.organization, CA_COUNTRY, CA_UNIT)
    entry = _make(
        root,
        state,
        folder=f"ca/{spec.name}",
        kind=kind,
        subject=subject,
        issuer=spec.issuer,
        not_before=at - CA_BACKDATE,
        not_after=at + lifetime,
    )
    entry["trusted"] = spec.trusted
    state["authorities"][spec.name] = entry
    if spec.responder:
        responder_subject = SubjectName(
            f"{spec.common_name} OCSP Responder", spec.organization, CA_COUNTRY, CA_UNIT
        )
        responder = _make(
            root,
            state,
            folder=f"ca/{spec.name}/ocsp-responder",
            kind=CertificateKind.OCSP_RESPONDER,
            subject=responder_subject,
            issuer=spec.name,
            not_before=at - LEAF_BACKDATE,
            not_after=at + LEAF_LIFETIME,
        )
        responder["trusted"] = spec.trusted
        state["responders"][spec.name] = responder
    _write_crl(root, state, spec.name, at)


def _make_leaf(
    root: Path,
    state: dict[str, Any],
    name: str,
    kind: CertificateKind,
    *,
    issuer: str,
    seat_id: str,
    organization: str,
    country: str,
    not_before: datetime,
    not_after: datetime,
    faults: list[str] | tuple[str, ...],
) -> dict[str, Any]:
    subject = SubjectName(seat_id, organization, country, LEAF_UNIT[kind])
    entry = _make(
        root,
        state,
        folder=f"certs/{name}",
        kind=kind,
        subject=subject,
        issuer=issuer,
        not_before=not_before,
        not_after=not_after,
    )
    entry["seat_id"] = seat_id
    entry["faults"] = list(faults)
    entry["trusted"] = bool(state["authorities"][issuer]["trusted"])
    state["certificates"][name] = entry
    return entry


def _make(
    root: Path,
    state: dict[str, Any],
    *,
    folder: str,
    kind: CertificateKind,
    subject: SubjectName,
    issuer: str | None,
    not_before: datetime,
    not_after: datetime,
) -> dict[str, Any]:
    key = generate_key()
    if issuer is None:
        issuer_certificate, issuer_key = None, key
    else:
        issuer_entry = state["authorities"][issuer]
        issuer_certificate = _read_certificate(root, issuer_entry)
        issuer_key = _read_key(root, issuer_entry)
    base = state.get("revocation_base_url")
    urls = RevocationUrls.for_issuer(base, issuer) if base and issuer else None
    certificate = build_certificate(
        kind=kind,
        subject=subject,
        public_key=key.public_key(),
        issuer_certificate=issuer_certificate,
        issuer_key=issuer_key,
        not_before=not_before,
        not_after=not_after,
        urls=urls,
    )
    where = root / folder
    where.mkdir(parents=True, exist_ok=True)
    _write_private(
        where / "key.pem",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    _write_public(where / "cert.pem", pem)
    # chain.pem: the certificate and the intermediates above it, not the root (TLS/AS4 practice)
    chain = [pem]
    above = issuer
    while above is not None and state["authorities"][above]["issuer"] is not None:
        chain.append((root / state["authorities"][above]["certificate"]).read_bytes())
        above = state["authorities"][above]["issuer"]
    _write_public(where / "chain.pem", b"".join(chain))
    return {
        "kind": kind.value,
        "subject": certificate.subject.rfc4514_string(),
        "issuer": issuer,
        "serial": f"{certificate.serial_number:x}",
        "sha256": _fingerprint(certificate),
        "not_before": _fmt_time(certificate.not_valid_before_utc),
        "not_after": _fmt_time(certificate.not_valid_after_utc),
        "certificate": f"{folder}/cert.pem",
        "private_key": f"{folder}/key.pem",
        "chain": f"{folder}/chain.pem",
        "faults": [],
        "revocation": None,
        "trusted": True,
    }


def _write_crl(root: Path, state: dict[str, Any], ca: str, at: datetime) -> None:
    ca_entry = state["authorities"][ca]
    revoked = [
        (int(entry["serial"], 16), _revocation(entry["revocation"]))
        for section in ("authorities", "responders", "certificates")
        for entry in state[section].values()
        if entry["issuer"] == ca and entry.get("revocation")
    ]
    number = int(state["crls"].get(ca, {}).get("number", 0)) + 1
    crl = build_crl(
        issuer_certificate=_read_certificate(root, ca_entry),
        issuer_key=_read_key(root, ca_entry),
        revoked=revoked,
        this_update=at,
        next_update=at + CRL_LIFETIME,
        number=number,
    )
    folder = root / "ca" / ca
    _write_public(folder / "crl.pem", crl.public_bytes(serialization.Encoding.PEM))
    _write_public(folder / "crl.der", crl.public_bytes(serialization.Encoding.DER))
    state["crls"][ca] = {
        "number": number,
        "this_update": _fmt_time(at),
        "next_update": _fmt_time(at + CRL_LIFETIME),
        "revoked": sorted(f"{serial:x}" for serial, _ in revoked),
        "pem": f"ca/{ca}/crl.pem",
        "der": f"ca/{ca}/crl.der",
    }


def _refresh_crls(
    root: Path, state: dict[str, Any], at: datetime, *, only_stale: bool
) -> tuple[str, ...]:
    done = []
    for ca in _ca_order(state["authorities"]):
        crl = state["crls"].get(ca)
        stale = crl is None or _parse_time(crl["next_update"]) <= at + CRL_REFRESH_MARGIN
        if stale or not only_stale:
            _write_crl(root, state, ca, at)
            done.append(ca)
    return tuple(done)


def _write_bundles(root: Path, state: dict[str, Any]) -> None:
    anchors = [
        name for name, e in state["authorities"].items() if e["trusted"] and e["issuer"] is None
    ]
    intermediates = [
        name for name, e in state["authorities"].items() if e["trusted"] and e["issuer"] is not None
    ]
    _write_public(
        root / "trust-anchors.pem",
        b"".join((root / state["authorities"][n]["certificate"]).read_bytes() for n in anchors),
    )
    _write_public(
        root / "intermediates.pem",
        b"".join(
            (root / state["authorities"][n]["certificate"]).read_bytes() for n in intermediates
        ),
    )


def _check_not_expired(root: Path, state: dict[str, Any], at: datetime) -> None:
    for name, entry in state["authorities"].items():
        if entry["trusted"] and _parse_time(entry["not_after"]) <= at:
            raise PkiError(
                f"CA {name!r} of the test PKI in {root} expired on {entry['not_after']};"
                " recreate the PKI with `conformance pki init --force`"
            )


def _remove_owned(root: Path) -> None:
    """Remove what a previous PKI left (only the paths the PKI owns)."""
    for sub in ("ca", "certs"):
        shutil.rmtree(root / sub, ignore_errors=True)
    for file in (MANIFEST, "trust-anchors.pem", "intermediates.pem"):
        with contextlib.suppress(FileNotFoundError):
            (root / file).unlink()


# -- reading ------------------------------------------------------------------------------------


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        state = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise PkiError(
            f"no test PKI in {root} (no {MANIFEST}); create one with `conformance pki init {root}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise PkiError(
            f"cannot read {path}: {exc}; recreate the PKI with `conformance pki init --force`"
        ) from None
    if not isinstance(state, dict) or state.get("format") != MANIFEST_FORMAT:
        raise PkiError(
            f"{path} is not a {MANIFEST_FORMAT} manifest; recreate the PKI with `conformance pki init --force`"
        )
    return state


def _issued(
    root: Path, name: str, entry: Mapping[str, Any], authorities: Mapping[str, IssuedCertificate]
) -> IssuedCertificate:
    certificate = _read_certificate(root, entry)
    if _fingerprint(certificate) != entry["sha256"]:
        raise PkiError(
            f"{root / entry['certificate']} is not the certificate the manifest recorded for {name!r}"
            f" (SHA-256 {entry['sha256']}); recreate the PKI with `conformance pki init --force`"
        )
    chain: list[x509.Certificate] = []
    issuer = entry["issuer"]
    while issuer is not None:
        chain.append(authorities[issuer].certificate)
        issuer = authorities[issuer].issuer
    revocation = entry.get("revocation")
    return IssuedCertificate(
        name=name,
        kind=CertificateKind(entry["kind"]),
        certificate=certificate,
        private_key_path=root / entry["private_key"],
        chain=tuple(chain),
        certificate_path=root / entry["certificate"],
        chain_path=root / entry["chain"],
        issuer=entry["issuer"],
        faults=frozenset(Fault(f) for f in entry.get("faults", ())),
        revocation=_revocation(revocation) if revocation else None,
        trusted=bool(entry.get("trusted", True)),
    )


def _read_certificate(root: Path, entry: Mapping[str, Any]) -> x509.Certificate:
    path = root / entry["certificate"]
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PkiError(
            f"cannot read certificate {path}: {exc}; recreate the PKI with `conformance pki init --force`"
        ) from None


def _read_key(root: Path, entry: Mapping[str, Any]) -> rsa.RSAPrivateKey:
    path = root / entry["private_key"]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PkiError(
            f"{path} does not hold an RSA key; recreate the PKI with `conformance pki init --force`"
        )
    return key


def _ca_order(authorities: Mapping[str, Any]) -> list[str]:
    """CA names, every issuer before what it issued."""
    ordered: list[str] = []
    pending = dict(authorities)
    while pending:
        ready = [n for n, e in pending.items() if e["issuer"] is None or e["issuer"] in ordered]
        if not ready:
            raise PkiError(f"the manifest's CAs do not form a hierarchy: {sorted(pending)}")
        for name in ready:
            ordered.append(name)
            del pending[name]
    return ordered


# -- small helpers ------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    if not root.is_dir():
        raise PkiError(
            f"no test PKI in {root} (no such directory); create one with `conformance pki init {root}`"
        )
    with open(root / LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_manifest(root: Path, state: dict[str, Any]) -> None:
    _write_public(
        root / MANIFEST, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode("utf-8")
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write a key: created 0600 (never briefly readable by others), replaced atomically."""
    _write_atomic(path, data, 0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write_atomic(path, data, 0o644)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is masked by the umask; the key mode must not be
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _fingerprint(certificate: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return ":".join(f"{b:02X}" for b in certificate.fingerprint(hashes.SHA256()))


def _utc(now: datetime | None) -> datetime:
    at = datetime.now(UTC) if now is None else now
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # a naive time is taken as UTC, as X.509 times are
    return at.astimezone(UTC).replace(microsecond=0)


def _fmt_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _revocation(data: Mapping[str, Any]) -> Revocation:
    return Revocation(at=_parse_time(data["at"]), reason=RevocationReason(data["reason"]))


def _base_url(url: str | None) -> str | None:
    if url is None:
        return None
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
        raise PkiError(
            f"revocation base URL {url!r} must be an http:// or https:// URL (e.g. http://127.0.0.1:8080)"
        )
    return url.rstrip("/")


def _leaf_kind(kind: CertificateKind | str) -> CertificateKind:
    try:
        chosen = CertificateKind(kind)
    except ValueError:
        chosen = None
    if chosen not in LEAF_KINDS:
        raise PkiError(
            f"cannot issue a {kind!r} certificate; kinds: {', '.join(k.value for k in LEAF_KINDS)}"
        )
    assert chosen is not None
    return chosen


def _reason(reason: RevocationReason | str) -> RevocationReason:
    try:
        return RevocationReason(reason)
    except ValueError:
        raise PkiError(
            f"unknown revocation reason {reason!r}; one of {', '.join(r.value for r in RevocationReason)}"
        ) from None


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise PkiError(
            f"certificate name {name!r} must be 1-64 characters of a-z, 0-9, '.', '_', '-',"
            " starting with a letter or digit (it becomes a folder name)"
        )
