"""``conformance pki``: create and inspect the test PKI.

* ``pki init DIR [--force] [--revocation-url URL]``: the Peppol-shaped hierarchy (root, AP CA,
  SMP CA), the reference endpoints' and a participant's certificates, CRLs, OCSP responders;
  an existing PKI is loaded, not replaced, unless ``--force``.
* ``pki issue DIR KIND NAME [--expired | --not-yet-valid] [--revoked] [--wrong-ca]``: one more
  AP or SMP certificate, deliberately faulty for negative tests.
* ``pki revoke DIR NAME [--reason R]``: revoke a certificate (CRL re-signed, OCSP says revoked).
* ``pki show DIR [--json]``: subjects, issuers, serials, SHA-256 fingerprints, validity,
  revocation and file paths. Never key material: keys are only ever named by their path.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.pki import IssuedCertificate, TestPki


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pki_command", metavar="ACTION")
    p_init = sub.add_parser("init", help="create the test PKI in DIR (or load the one there)")
    p_init.add_argument("directory", metavar="DIR")
    p_init.add_argument("--force", action="store_true", help="replace an existing PKI in DIR")
    p_init.add_argument(
        "--revocation-url",
        metavar="URL",
        help="base URL of the reference OCSP endpoint, written into CRL distribution point and"
        " authority information access extensions (e.g. http://127.0.0.1:8081)",
    )

    p_issue = sub.add_parser("issue", help="issue an AP or SMP certificate, faulty on request")
    p_issue.add_argument("directory", metavar="DIR")
    p_issue.add_argument("kind", metavar="KIND", choices=["ap", "smp"], help="ap or smp")
    p_issue.add_argument(
        "name", metavar="NAME", help="name of the certificate in the PKI (a folder name)"
    )
    validity = p_issue.add_mutually_exclusive_group()
    validity.add_argument("--expired", action="store_true", help="validity ended a day ago")
    validity.add_argument("--not-yet-valid", action="store_true", help="validity starts in 30 days")
    p_issue.add_argument(
        "--revoked", action="store_true", help="listed in the CRL, OCSP answers revoked"
    )
    p_issue.add_argument(
        "--wrong-ca", action="store_true", help="issued by a separate, untrusted root"
    )
    p_issue.add_argument(
        "--seat-id", metavar="ID", help="subject CN (default: the next free PSG0001nn)"
    )
    p_issue.add_argument(
        "--organization", metavar="O", default="Participant Under Test", help="subject O"
    )
    p_issue.add_argument("--country", metavar="CC", default="SG", help="subject C (default SG)")

    p_revoke = sub.add_parser("revoke", help="revoke a certificate of the PKI")
    p_revoke.add_argument("directory", metavar="DIR")
    p_revoke.add_argument("name", metavar="NAME")
    p_revoke.add_argument(
        "--reason", default="keyCompromise", help="CRL reason (default keyCompromise)"
    )

    p_show = sub.add_parser(
        "show", help="fingerprints, validity and revocation of every certificate"
    )
    p_show.add_argument("directory", metavar="DIR")
    p_show.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from harness import pki

    command = getattr(args, "pki_command", None)
    if command == "init":
        existed = (Path(args.directory) / "manifest.json").is_file() and not args.force
        test_pki = pki.init_pki(
            args.directory, force=args.force, revocation_base_url=args.revocation_url
        )
        verb = "loaded existing" if existed else "created"
        print(f"{verb} test PKI in {test_pki.directory}")
        print(f"  trust anchors: {test_pki.trust_anchors_path}")
        print(f"  intermediates: {test_pki.intermediates_path}")
        for entry in test_pki.certificates.values():
            print(f"  {entry.name:<18} {entry.common_name:<10} {entry.certificate_path}")
        return 0
    if command == "issue":
        issued = pki.issue(
            args.directory,
            args.kind,
            args.name,
            expired=args.expired,
            not_yet_valid=args.not_yet_valid,
            revoked=args.revoked,
            wrong_ca=args.wrong_ca,
            seat_id=args.seat_id,
            organization=args.organization,
            country=args.country,
        )
        print(_describe(issued, datetime.now(UTC)))
        return 0
    if command == "revoke":
        revoked = pki.revoke(args.directory, args.name, reason=args.reason)
        print(_describe(revoked, datetime.now(UTC)))
        return 0
    if command == "show":
        test_pki = pki.load_pki(args.directory)
        now = datetime.now(UTC)
        if args.json:
            print(json.dumps(_as_json(test_pki, now), indent=2))
        else:
            print(_show(test_pki, now))
        return 0
    raise ConfigError("conformance pki needs an action: init, issue, revoke or show (see --help)")


def _state(entry: IssuedCertificate, now: datetime) -> str:
    if entry.revocation is not None:
        return f"REVOKED {entry.revocation.at:%Y-%m-%d} ({entry.revocation.reason.value})"
    if now < entry.not_before:
        return "NOT YET VALID"
    if now > entry.not_after:
        return "EXPIRED"
    return "valid"


def _describe(entry: IssuedCertificate, now: datetime) -> str:
    faults = f" faults: {', '.join(sorted(f.value for f in entry.faults))}" if entry.faults else ""
    trust = "" if entry.trusted else " (untrusted root)"
    return "\n".join(
        [
            f"{entry.name} [{entry.kind.value}] {_state(entry, now)}{faults}",
            f"  subject  {entry.certificate.subject.rfc4514_string()}",
            f"  issuer   {entry.certificate.issuer.rfc4514_string()}{trust}",
            f"  serial   {entry.serial_number:x}",
            f"  sha256   {entry.fingerprint_sha256}",
            f"  validity {entry.not_before:%Y-%m-%dT%H:%M:%SZ} .. {entry.not_after:%Y-%m-%dT%H:%M:%SZ}",
            f"  cert     {entry.certificate_path}",
            f"  chain    {entry.chain_path}",
            f"  key      {entry.private_key_path} (file, mode 0600)",
        ]
    )


def _show(test_pki: TestPki, now: datetime) -> str:
    lines = [f"test PKI in {test_pki.directory}"]
    if test_pki.revocation_base_url:
        lines.append(f"revocation base URL: {test_pki.revocation_base_url}")
    lines.append(f"trust anchors: {test_pki.trust_anchors_path}")
    lines.append("")
    lines.append("certificate authorities")
    for entry in test_pki.authorities.values():
        lines.append(_describe(entry, now))
        crl = test_pki.crl(entry.name)
        revoked = ", ".join(f"{r.serial_number:x}" for r in crl) or "none"
        lines.append(
            f"  crl      {test_pki.crl_path(entry.name)} (next update"
            f" {crl.next_update_utc:%Y-%m-%dT%H:%M:%SZ}; revoked: {revoked})"
        )
    lines.append("")
    lines.append("OCSP responders")
    for entry in test_pki.responders.values():
        lines.append(_describe(entry, now))
    lines.append("")
    lines.append("certificates")
    for entry in test_pki.certificates.values():
        lines.append(_describe(entry, now))
    return "\n".join(lines)


def _as_json(test_pki: TestPki, now: datetime) -> dict[str, Any]:
    def one(entry: IssuedCertificate) -> dict[str, Any]:
        return {
            "name": entry.name,
            "kind": entry.kind.value,
            "subject": entry.certificate.subject.rfc4514_string(),
            "issuer": entry.issuer,
            "trusted": entry.trusted,
            "serial": f"{entry.serial_number:x}",
            "sha256": entry.fingerprint_sha256,
            "not_before": f"{entry.not_before:%Y-%m-%dT%H:%M:%SZ}",
            "not_after": f"{entry.not_after:%Y-%m-%dT%H:%M:%SZ}",
            "state": _state(entry, now),
            "faults": sorted(f.value for f in entry.faults),
            "revoked": entry.revocation is not None,
            "certificate": str(entry.certificate_path),
            "chain": str(entry.chain_path),
            "private_key_path": str(entry.private_key_path),
        }

    return {
        "directory": str(test_pki.directory),
        "revocation_base_url": test_pki.revocation_base_url,
        "trust_anchors": str(test_pki.trust_anchors_path),
        "intermediates": str(test_pki.intermediates_path),
        "authorities": [
            one(e) | {"crl": str(test_pki.crl_path(e.name))} for e in test_pki.authorities.values()
        ],
        "responders": [one(e) for e in test_pki.responders.values()],
        "certificates": [one(e) for e in test_pki.certificates.values()],
    }
