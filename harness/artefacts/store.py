"""The artefact store: pinned external files, verified by SHA-256 before every first use.

Where a file comes from, in order: the offline mirror (``--mirror DIR`` or
``CONFORMANCE_ARTEFACTS_MIRROR``; same layout as the lock keys), then the cache
(``CONFORMANCE_CACHE_DIR``, default ``~/.cache/trade-conformance-harness``), which
``conformance artefacts sync`` fills by downloading every pinned URL (archives once, members
extracted) or by copying from a mirror. Nothing is ever fetched implicitly: a missing or
mismatching file is an :class:`~harness.errors.ArtefactError` that names the key, the pinned
SHA-256, what was found and how to get the right bytes.

A caller may rely on: :meth:`ArtefactStore.path` returns a file whose bytes hash to the lock's
SHA-256 (re-verified whenever the file's mtime or size changes, cheap otherwise).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from harness.artefacts.lock import ArtefactLock, LockEntry, default_lock
from harness.errors import ArtefactError

if TYPE_CHECKING:  # httpx is imported only when something is downloaded
    import httpx

ENV_MIRROR = "CONFORMANCE_ARTEFACTS_MIRROR"
ENV_CACHE = "CONFORMANCE_CACHE_DIR"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "trade-conformance-harness"

SyncAction = Literal["present", "copied", "downloaded", "skipped", "failed", "downloading"]

_HOW_TO_FIX = (
    "run `conformance artefacts sync` (online) to fetch the pinned files into the cache, or "
    "point `--mirror DIR` / CONFORMANCE_ARTEFACTS_MIRROR=DIR at an offline mirror holding them"
)

# (path, mtime_ns, size) -> SHA-256 hex of the bytes seen then. Shared by every store in the
# process so that re-creating a store (CLI, fixtures) does not re-hash files.
_digest_cache: dict[tuple[str, int, int], str] = {}
_digest_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cached_digest(path: Path, st: os.stat_result) -> str:
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _digest_lock:
        digest = _digest_cache.get(key)
    if digest is None:
        digest = sha256_file(path)
        with _digest_lock:
            _digest_cache[key] = digest
    return digest


@dataclass(frozen=True)
class SyncProgress:
    """One step of :meth:`ArtefactStore.sync`, given to the ``progress`` callback."""

    index: int  # 1-based position of this file
    total: int
    key: str
    action: SyncAction
    detail: str = ""


@dataclass(frozen=True)
class SyncReport:
    """What :meth:`ArtefactStore.sync` did, per action (keys in lock order)."""

    present: tuple[str, ...] = ()
    copied: tuple[str, ...] = ()
    downloaded: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (key, reason)

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class ArtefactStatus:
    """Where a pinned file is available right now (for ``conformance artefacts list``)."""

    entry: LockEntry
    location: Literal["mirror", "cache", "missing"]
    path: Path | None
    problems: tuple[str, ...] = field(default=())


class ArtefactStore:
    """Verified access to the pinned external artefacts (see module docstring)."""

    def __init__(
        self,
        *,
        cache_dir: Path | str | None = None,
        mirror: Path | str | None = None,
        lock: ArtefactLock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else DEFAULT_CACHE_DIR
        self.mirror = Path(mirror).expanduser() if mirror else None
        self.lock = lock if lock is not None else default_lock()
        self._transport = transport  # tests inject an httpx.MockTransport; None = the network

    @classmethod
    def default(cls, *, mirror: Path | str | None = None) -> ArtefactStore:
        """The store configured by the environment (``CONFORMANCE_ARTEFACTS_MIRROR``,
        ``CONFORMANCE_CACHE_DIR``); an explicit ``mirror`` wins over the environment."""
        env_mirror = os.environ.get(ENV_MIRROR) or None
        env_cache = os.environ.get(ENV_CACHE) or None
        return cls(cache_dir=env_cache, mirror=mirror or env_mirror)

    def __repr__(self) -> str:
        return f"ArtefactStore(cache_dir={str(self.cache_dir)!r}, mirror={str(self.mirror) if self.mirror else None!r})"

    # -- lookup ---------------------------------------------------------------------------------

    @property
    def files_dir(self) -> Path:
        """Where synced artefacts live: ``<cache>/artefacts/<key>``."""
        return self.cache_dir / "artefacts"

    def cache_subdir(self, name: str) -> Path:
        """A folder under the cache (created); OSError if it cannot be created."""
        d = self.cache_dir / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def derived_cache(self, name: str) -> Path | None:
        """A folder for things derived from artefacts (compiled XSLT, catalogues), or None when
        the cache is not writable: such caches only save time, so their absence is no error."""
        try:
            d = self.cache_subdir(name)
        except OSError:
            return None
        return d if os.access(d, os.W_OK) else None

    def entry(self, key: str) -> LockEntry:
        """The lock entry of ``key`` (ArtefactError if the key is not pinned)."""
        return self.lock[key]

    def keys(self, prefix: str = "") -> tuple[str, ...]:
        return tuple(k for k in self.lock if k.startswith(prefix))

    def _roots(self) -> list[tuple[str, Path]]:
        roots = []
        if self.mirror is not None:
            roots.append(("mirror", self.mirror))
        roots.append(("cache", self.files_dir))
        return roots

    @staticmethod
    def _relative(key: str) -> Path:
        rel = Path(key)
        if rel.is_absolute() or ".." in rel.parts:
            raise ArtefactError(f"artefact key {key!r} is not a relative path inside the store")
        return rel

    def _problem(self, path: Path, entry: LockEntry) -> str | None:
        """``None`` if ``path`` holds the pinned bytes, else what is wrong with it."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return "missing"
        except OSError as exc:
            return f"unreadable ({exc.strerror})"
        try:
            digest = _cached_digest(path, st)
        except OSError as exc:
            return f"unreadable ({exc.strerror})"
        if digest != entry.sha256:
            return f"found SHA-256 {digest} ({st.st_size} bytes)"
        return None

    def status(self, key: str) -> ArtefactStatus:
        """Where ``key`` is available (mirror first), and what is wrong elsewhere."""
        entry = self.entry(key)
        rel = self._relative(key)
        problems: list[str] = []
        for label, root in self._roots():
            p = root / rel
            problem = self._problem(p, entry)
            if problem is None:
                return ArtefactStatus(entry, label, p, tuple(problems))  # type: ignore[arg-type]
            problems.append(f"{label} {p}: {problem}")
        return ArtefactStatus(entry, "missing", None, tuple(problems))

    def path(self, key: str) -> Path:
        """A local file holding exactly the pinned bytes of ``key``.

        Raises ArtefactError naming the key, the expected SHA-256, what was found where, and how
        to fix it (``conformance artefacts sync`` online, or a mirror offline).
        """
        st = self.status(key)
        if st.path is not None:
            return st.path
        entry = st.entry
        origin = (
            "it is generated by the mirror build, so only a mirror has it; point `--mirror DIR` / "
            "CONFORMANCE_ARTEFACTS_MIRROR=DIR at one"
            if entry.derived
            else _HOW_TO_FIX
        )
        found = "; ".join(st.problems)
        raise ArtefactError(
            f"artefact {key} is not available with its pinned SHA-256 {entry.sha256} "
            f"({found}). To fix: {origin}. Pinned source: {entry.url}"
            + (f" (archive member {entry.member})" if entry.member else "")
        )

    def read_bytes(self, key: str) -> bytes:
        """The verified bytes of ``key``."""
        return self.path(key).read_bytes()

    def root_for(self, keys: Iterable[str]) -> Path:
        """One folder (the mirror or the cache) holding every one of ``keys`` verified.

        For file sets that reference each other by relative path (XSD imports), so that no
        unverified sibling is ever picked up from a different folder.
        """
        keys = list(keys)
        problems: list[str] = []
        for label, root in self._roots():
            bad = [
                k
                for k in keys
                if self._problem(root / self._relative(k), self.entry(k)) is not None
            ]
            if not bad:
                return root
            problems.append(
                f"{label} {root}: {len(bad)} of {len(keys)} missing or mismatching (first: {bad[0]})"
            )
        raise ArtefactError(
            f"the artefact set starting with {keys[0]} is not complete in one place "
            f"({'; '.join(problems)}). To fix: {_HOW_TO_FIX}"
        )

    # -- sync -----------------------------------------------------------------------------------

    def sync(
        self,
        progress: Callable[[SyncProgress], None] | None = None,
        *,
        keys: Sequence[str] | None = None,
    ) -> SyncReport:
        """Bring every pinned file (or just ``keys``) into the cache, verified.

        With a mirror configured this is offline: files are copied from the mirror and nothing
        is downloaded. Without one, each file is downloaded from its pinned URL (archives once,
        then their members extracted); every file is checked against its SHA-256 before it is
        moved into place. Failures do not stop the sync; if any occurred, ArtefactError is raised
        at the end listing them (the report of what succeeded is in the exception's ``report``).
        """
        selected = [self.entry(k) for k in (keys if keys is not None else list(self.lock))]
        total = len(selected)
        present: list[str] = []
        copied: list[str] = []
        downloaded: list[str] = []
        skipped: list[str] = []
        failed: list[tuple[str, str]] = []
        archives: dict[str, Path] = {}  # archive sha256 -> verified local archive
        client: httpx.Client | None = None

        def tell(i: int, key: str, action: SyncAction, detail: str = "") -> None:
            if progress is not None:
                progress(SyncProgress(i, total, key, action, detail))

        try:
            for i, entry in enumerate(selected, 1):
                target = self.files_dir / self._relative(entry.key)
                if self._problem(target, entry) is None:
                    present.append(entry.key)
                    tell(i, entry.key, "present")
                    continue
                try:
                    if self.mirror is not None:
                        source = self.mirror / self._relative(entry.key)
                        problem = self._problem(source, entry)
                        if problem is not None:
                            raise ArtefactError(f"mirror {source}: {problem}")
                        self._install_file(source, target, entry)
                        copied.append(entry.key)
                        tell(i, entry.key, "copied")
                        continue
                    if entry.derived:
                        skipped.append(entry.key)
                        tell(
                            i,
                            entry.key,
                            "skipped",
                            "generated by the mirror build; only a mirror has it",
                        )
                        continue
                    if client is None:
                        client = self._client()
                    tell(i, entry.key, "downloading", entry.url)
                    if entry.member is not None:
                        archive = archives.get(entry.archive_sha256 or "")
                        if archive is None:
                            archive = self._fetch_archive(client, entry)
                            archives[entry.archive_sha256 or ""] = archive
                        self._extract_member(archive, entry, target)
                    else:
                        self._download(client, entry, target)
                    downloaded.append(entry.key)
                    tell(i, entry.key, "downloaded")
                except (ArtefactError, OSError, zipfile.BadZipFile) as exc:
                    reason = (
                        str(exc)
                        if isinstance(exc, ArtefactError)
                        else f"{type(exc).__name__}: {exc}"
                    )
                    failed.append((entry.key, reason))
                    tell(i, entry.key, "failed", reason)
        finally:
            if client is not None:
                client.close()
        report = SyncReport(
            tuple(present), tuple(copied), tuple(downloaded), tuple(skipped), tuple(failed)
        )
        if failed:
            listing = "; ".join(f"{k}: {r}" for k, r in failed[:5])
            more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
            err = ArtefactError(
                f"{len(failed)} of {total} pinned artefacts could not be synced: {listing}{more}. "
                + (
                    "Check that the mirror is complete and unmodified, or sync online without --mirror."
                    if self.mirror is not None
                    else "Check the network connection and retry, or sync from an offline mirror with --mirror DIR."
                )
            )
            err.report = report  # type: ignore[attr-defined]
            raise err
        return report

    def _client(self) -> httpx.Client:
        import httpx

        return httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(60.0, connect=20.0),
            transport=self._transport,
            headers={"User-Agent": "trade-conformance-harness artefact sync"},
        )

    def _install_file(self, source: Path, target: Path, entry: LockEntry) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".sync-", suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            self._verify_and_move(Path(tmp), target, entry.sha256, entry.key)
        finally:
            Path(tmp).unlink(missing_ok=True)

    @staticmethod
    def _verify_and_move(tmp: Path, target: Path, sha256: str, what: str) -> None:
        digest = sha256_file(tmp)
        if digest != sha256:
            raise ArtefactError(
                f"{what}: the bytes obtained hash to SHA-256 {digest}, not the pinned {sha256}; "
                "the source changed or was tampered with, so the file was not installed"
            )
        os.replace(tmp, target)

    def _get(self, client: httpx.Client, urls: Sequence[str], tmp: Path) -> str:
        """Download the first of ``urls`` that answers 200 into ``tmp``; returns its SHA-256."""
        import httpx

        errors: list[str] = []
        for url in urls:
            h = hashlib.sha256()
            try:
                with client.stream("GET", url) as resp:
                    if resp.status_code != 200:
                        errors.append(f"{url}: HTTP {resp.status_code}")
                        continue
                    with open(tmp, "wb") as fh:
                        for chunk in resp.iter_bytes():
                            h.update(chunk)
                            fh.write(chunk)
                return h.hexdigest()
            except httpx.HTTPError as exc:
                errors.append(f"{url}: {type(exc).__name__}: {exc}")
        raise ArtefactError("download failed (" + "; ".join(errors) + ")")

    def _download(self, client: httpx.Client, entry: LockEntry, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".sync-", suffix=".part")
        os.close(fd)
        tmp = Path(name)
        try:
            urls = [entry.url, *entry.fallback_urls]
            errors: list[str] = []
            for url in urls:  # a fallback is tried also when the first source serves other bytes
                try:
                    digest = self._get(client, [url], tmp)
                except ArtefactError as exc:
                    errors.append(str(exc))
                    continue
                if digest == entry.sha256:
                    os.replace(tmp, target)
                    return
                errors.append(f"{url} served SHA-256 {digest}, not the pinned {entry.sha256}")
            raise ArtefactError("; ".join(errors))
        finally:
            tmp.unlink(missing_ok=True)

    def _fetch_archive(self, client: httpx.Client, entry: LockEntry) -> Path:
        assert entry.archive_sha256 and entry.archive_url
        archive_dir = self.cache_subdir("archives")
        archive = archive_dir / f"{entry.archive_sha256}.zip"
        if archive.exists() and sha256_file(archive) == entry.archive_sha256:
            return archive
        fd, name = tempfile.mkstemp(dir=archive_dir, prefix=".sync-", suffix=".part")
        os.close(fd)
        tmp = Path(name)
        try:
            digest = self._get(client, [entry.archive_url], tmp)
            if digest != entry.archive_sha256:
                raise ArtefactError(
                    f"archive {entry.archive_url} hashes to SHA-256 {digest}, not the pinned "
                    f"{entry.archive_sha256}"
                )
            os.replace(tmp, archive)
        finally:
            tmp.unlink(missing_ok=True)
        return archive

    def _extract_member(self, archive: Path, entry: LockEntry, target: Path) -> None:
        assert entry.member is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=".sync-", suffix=".part")
        os.close(fd)
        tmp = Path(name)
        try:
            with zipfile.ZipFile(archive) as zf:
                try:
                    info = zf.getinfo(entry.member)
                except KeyError:
                    raise ArtefactError(
                        f"archive {entry.archive_url} has no member {entry.member!r}"
                    ) from None
                with zf.open(info) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            self._verify_and_move(tmp, target, entry.sha256, f"{entry.key} (member {entry.member})")
        finally:
            tmp.unlink(missing_ok=True)
