"""``conformance``: the command line of the Trade Conformance Harness.

Each sub-command lives in ``harness.commands.<module>`` and exposes ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported lazily, only for the sub-command being run.
Errors the user can fix exit 2 with one line naming what is wrong and what to do; anything
unexpected exits 3 with a short message (the traceback only with ``CONFORMANCE_DEBUG=1``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from harness import __version__
from harness.errors import ConfigError, HarnessError

#: sub-command -> (module under harness.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "certify a participant: run the suites of its profiles and write a signed report"),
    "validate": ("validate", "validate e-invoice documents (XSD + Schematron rule sets)"),
    "report": ("report", "work with run folders: verify signatures"),
    "requirements": ("requirements", "requirement catalogues and generated coverage"),
    "artefacts": ("artefacts", "download and verify the pinned external normative artefacts"),
    "serve": ("serve", "run one reference endpoint in the foreground"),
    "pki": ("pki", "create and inspect the test PKI (Peppol-shaped CAs, leaf certificates, CRL, OCSP)"),
}




def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Trade Conformance Harness: certify implementations of cross-border trade standards.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        # Only the chosen sub-command's arguments are needed, but argparse wants them all up
        # front; the modules keep their imports inside run() so this stays cheap.
        module = importlib.import_module(f"harness.commands.{module_name}")
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:  # everything after "--" goes to pytest (conformance run ... -- -k foo)
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.pytest_args = passthrough
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    module = importlib.import_module(f"harness.commands.{args._module}")
    try:
        return int(module.run(args))
    except ConfigError as exc:
        print(f"conformance {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"conformance {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("CONFORMANCE_DEBUG"):
            raise
        print(
            f"conformance {args.command}: internal error: {type(exc).__name__}: {exc}\n"
            "  (set CONFORMANCE_DEBUG=1 for the traceback and report it as a harness bug)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
