"""``conformance artefacts sync [--mirror DIR]`` and ``conformance artefacts list``.

``sync`` brings every file pinned in the artefact lock into the cache, verified by SHA-256:
copied from an offline mirror (``--mirror DIR`` or CONFORMANCE_ARTEFACTS_MIRROR; no network),
or downloaded from its pinned URL. Progress goes to stderr. It then generates the rule
catalogues of every rule set from the synced rule files. ``list`` shows each pinned file with
its provenance and where it is available right now.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="artefacts_command", metavar="ACTION")
    p_sync = sub.add_parser(
        "sync", help="download (or copy from a mirror) and verify every pinned file"
    )
    p_sync.add_argument(
        "--mirror", type=Path, metavar="DIR", help="offline mirror to copy from (no network)"
    )
    p_sync.add_argument(
        "--only", metavar="PREFIX", default="", help="only keys starting with PREFIX"
    )
    p_list = sub.add_parser("list", help="list the pinned files, their provenance and availability")
    p_list.add_argument("--mirror", type=Path, metavar="DIR", help="offline mirror to look in")
    p_list.add_argument(
        "--only", metavar="PREFIX", default="", help="only keys starting with PREFIX"
    )


class _Progress:
    """Live progress on stderr: one rewritten line on a terminal, sparse lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p: object) -> None:
        from harness.artefacts.store import SyncProgress

        assert isinstance(p, SyncProgress)
        width = len(str(p.total))
        line = f"[{p.index:>{width}}/{p.total}] {p.action:<11} {p.key}"
        if p.action == "failed":
            self._clear()
            print(f"{line}\n    {p.detail}", file=sys.stderr)
        elif self.tty:
            sys.stderr.write("\r\033[K" + line[:160])
            sys.stderr.flush()
        elif (
            p.action in ("downloaded", "skipped")
            or p.index == p.total
            or time.monotonic() - self.last > 2
        ):
            self.last = time.monotonic()
            print(
                line + (f" ({p.detail})" if p.detail and p.action == "skipped" else ""),
                file=sys.stderr,
            )

    def _clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _sync(args: argparse.Namespace) -> int:
    from harness.artefacts.store import ArtefactStore
    from harness.errors import ArtefactError, ConfigError

    if args.mirror is not None and not args.mirror.is_dir():
        raise ConfigError(f"--mirror {args.mirror}: not a folder")
    store = ArtefactStore.default(mirror=args.mirror)
    keys = store.keys(args.only)
    if not keys:
        raise ConfigError(f"--only {args.only!r} matches no pinned artefact")
    source = f"mirror {store.mirror}" if store.mirror else "the pinned URLs (online)"
    print(
        f"syncing {len(keys)} pinned artefacts from {source} into {store.files_dir}",
        file=sys.stderr,
    )
    progress = _Progress()
    try:
        report = store.sync(progress, keys=keys)
    except ArtefactError as exc:
        progress.done()
        partial = getattr(exc, "report", None)
        if partial is not None:
            print(_summary(partial), file=sys.stderr)
        raise
    progress.done()
    print(_summary(report), file=sys.stderr)
    _catalogues(store)
    return 0


def _summary(report: object) -> str:
    from harness.artefacts.store import SyncReport

    assert isinstance(report, SyncReport)
    parts = [
        f"{len(report.present)} already present",
        f"{len(report.copied)} copied",
        f"{len(report.downloaded)} downloaded",
    ]
    if report.skipped:
        parts.append(
            f"{len(report.skipped)} skipped (only a mirror has them: {', '.join(report.skipped)})"
        )
    if report.failed:
        parts.append(f"{len(report.failed)} FAILED")
    return "artefacts: " + ", ".join(parts)


def _catalogues(store: object) -> None:
    """Generate (and cache) the rule catalogue of every rule set whose files are now present."""
    from harness.artefacts.store import ArtefactStore
    from harness.errors import ArtefactError
    from harness.peppol import rulesets as rs

    assert isinstance(store, ArtefactStore)
    done = []
    for r in rs.list_rulesets():
        try:
            n = len(rs.rule_catalogue(r.id, store))
        except ArtefactError:
            continue
        done.append(f"{r.id} ({n})")
    if done:
        print("rule catalogues: " + ", ".join(done), file=sys.stderr)


def _list(args: argparse.Namespace) -> int:
    from harness.artefacts.store import ArtefactStore

    store = ArtefactStore.default(mirror=args.mirror)
    counts = {"mirror": 0, "cache": 0, "missing": 0}
    for key in store.keys(args.only):
        st = store.status(key)
        counts[st.location] += 1
        print(f"{st.location:<7} {st.entry.provenance:<17} {st.entry.sha256[:12]}  {key}")
    print(
        f"{sum(counts.values())} pinned: {counts['mirror']} in the mirror, {counts['cache']} in the cache, "
        f"{counts['missing']} missing",
        file=sys.stderr,
    )
    return 0 if counts["missing"] == 0 else 1


def run(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError

    action = getattr(args, "artefacts_command", None)
    if action == "sync":
        return _sync(args)
    if action == "list":
        return _list(args)
    raise ConfigError(
        "say what to do: `conformance artefacts sync [--mirror DIR]` or `conformance artefacts list`"
    )
