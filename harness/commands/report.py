"""``conformance report``: work with run folders.

``conformance report verify RUN_FOLDER [--trusted-key PUB | --fingerprint FP]`` checks the seal of
a run folder: the Ed25519 signature of ``attestation.json``, every file's SHA-256, no file missing,
no file added; with a trust anchor, also that the signer is the trusted key.
Exit 0 verified, 1 verification failed, 2 usage error (folder missing, unreadable trusted key).
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="SUBCOMMAND")
    verify = sub.add_parser(
        "verify",
        help="verify the signature and integrity of a run folder",
        description="Verify that a run folder is exactly as sealed: signature, every file's"
        " digest, nothing missing or added; with --trusted-key/--fingerprint also who signed."
        " Exit 0 verified, 1 verification failed, 2 usage error.",
    )
    verify.add_argument("run_folder", metavar="RUN_FOLDER", help="the run folder to verify")
    anchor = verify.add_mutually_exclusive_group()
    anchor.add_argument(
        "--trusted-key",
        metavar="PUB",
        help="PEM public key (e.g. the operator's signing-key.pub) that must have signed",
    )
    anchor.add_argument(
        "--fingerprint",
        metavar="FP",
        help="SHA-256 fingerprint (keyid, 64 hex digits) of the key that must have signed",
    )


def run(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError

    command = getattr(args, "report_command", None)
    if command == "verify":
        return _verify(args)
    raise ConfigError("choose a sub-command: `conformance report verify RUN_FOLDER`")


def _verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.errors import ConfigError
    from harness.report.attest import verify
    from harness.report.errors import ReportError

    folder = Path(args.run_folder)
    if not folder.exists():
        raise ConfigError(
            f"run folder {folder} does not exist: give the folder printed as 'report:'"
        )
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder: give the run folder, not a file inside it")
    trusted = Path(args.trusted_key) if args.trusted_key else None
    try:
        result = verify(folder, trusted_key=trusted, fingerprint=args.fingerprint)
    except ReportError as exc:
        raise ConfigError(str(exc)) from None

    out = sys.stdout
    where = folder.resolve()
    if result.ok:
        print(f"OK: {where} ({result.files_checked} files match the attestation)", file=out)
    else:
        print(f"FAILED: {where}", file=out)
        for problem in result.problems:
            print(f"  - {problem}", file=out)
    kind = {True: "ephemeral", False: "operator key", None: "unknown"}[result.ephemeral]
    print(f"keyid: {result.keyid or '(unknown)'} ({kind})", file=out)
    if result.trusted is True:
        print("trust: signed by the trusted key", file=out)
    elif result.trusted is False:
        print("trust: NOT signed by the trusted key", file=out)
    else:
        print("trust: not checked (no --trusted-key or --fingerprint given)", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    return 0 if result.ok else 1
