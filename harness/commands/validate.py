"""``conformance validate [--rules IDS] [--json] [--list-rules] FILE...``

Validates each FILE against XSD + Schematron rule sets and prints, per file, either one JSON
object per line (``--json``: ``{"file", "valid", "rulesets", "failed_asserts", "error"}``) or a
human summary. Without ``--rules`` the rule sets follow each document's CustomizationID. All
files share one warm engine. Exit 0 when every file is valid, 1 when some file is not (or cannot
be read), 2 on a usage error (unknown rule-set id, no FILE).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules",
        metavar="IDS",
        help="comma-separated rule-set ids to run (only those run), e.g. "
        "peppol-ubl-3.0.19,cen-ubl-1.3.14.1,xsd-ubl-2.1; default: chosen by each document's CustomizationID",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line per file")
    parser.add_argument(
        "--list-rules",
        action="store_true",
        help="list every rule-set id with version and provenance, then exit",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=None,
        metavar="N",
        help="refuse documents bigger than N bytes (default 100 MB)",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="documents to validate")


def _out() -> TextIO:
    stream = sys.stdout
    try:
        stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        pass
    return stream


def _list_rules(as_json: bool, out: TextIO) -> int:
    from harness.peppol import rulesets as rs

    for r in rs.list_rulesets():
        if as_json:
            record = {
                "id": r.id,
                "family": r.family,
                "syntax": r.syntax,
                "version": r.version,
                "provenance": r.provenance,
                "title": r.title,
                "implies": list(r.implies),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            implies = f"  (implies {', '.join(r.implies)})" if r.implies else ""
            out.write(f"{r.id:<20} {r.version:<9} {r.provenance:<17} {r.title}{implies}\n")
    return 0


def _human(result: object, out: TextIO) -> None:
    from harness.peppol.validation import ValidationResult

    assert isinstance(result, ValidationResult)
    verdict = "VALID" if result.valid else "INVALID"
    sets = f" [{', '.join(result.rulesets)}]" if result.rulesets else ""
    out.write(f"{result.file}: {verdict}{sets}\n")
    if result.error:
        error = result.error
        if error.startswith(f"{result.file}: "):  # the file was named on the line above
            error = error[len(result.file) + 2 :]
        out.write(f"  error: {error}\n")
    out.writelines(
        f"  {fa.id} [{fa.flag}] at {fa.location} ({fa.ruleset}): {fa.text}\n"
        for fa in result.failed_asserts
    )


def run(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError

    out = _out()
    if args.list_rules:
        return _list_rules(args.json, out)
    if not args.files:
        raise ConfigError("no FILE given: pass one or more documents to validate (or --list-rules)")
    if args.max_bytes is not None and args.max_bytes <= 0:
        raise ConfigError(f"--max-bytes must be a positive number of bytes, not {args.max_bytes}")

    from harness.peppol import rulesets as rs
    from harness.peppol.validation import DocumentValidator, get_validator
    from harness.xml.safe import DEFAULT_MAX_BYTES

    rulesets = rs.parse_ids(args.rules) if args.rules is not None else None
    if args.max_bytes is None or args.max_bytes == DEFAULT_MAX_BYTES:
        validator = get_validator()
    else:
        validator = DocumentValidator(max_bytes=args.max_bytes)
    all_valid = True
    for name in args.files:
        result = validator.validate_file(name, rulesets=rulesets)
        all_valid &= result.valid
        if args.json:
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        else:
            _human(result, out)
        out.flush()
    return 0 if all_valid else 1
