"""The artefact store hands out only verified bytes, says how to fix what is missing, and syncs."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import httpx
import pytest

from harness.artefacts import store as store_mod
from harness.artefacts.lock import OFFICIAL, THIRD_PARTY, ArtefactLock, LockEntry, default_lock
from harness.artefacts.store import ArtefactStore, SyncProgress
from harness.errors import ArtefactError

KEY = "schxslt2/1.3.4/transpile.xsl"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _mirror() -> Path:
    mirror = os.environ.get("CONFORMANCE_ARTEFACTS_MIRROR")
    if not mirror or not Path(mirror, KEY).is_file():
        pytest.skip("no artefact mirror (set CONFORMANCE_ARTEFACTS_MIRROR)")
    return Path(mirror)


def test_path_returns_the_mirror_file_when_it_matches_the_pin(tmp_path: Path) -> None:
    mirror = _mirror()
    store = ArtefactStore(mirror=mirror, cache_dir=tmp_path)
    p = store.path(KEY)
    assert p == mirror / KEY
    assert _sha(p.read_bytes()) == default_lock()[KEY].sha256


def test_missing_file_error_names_key_digest_and_both_fixes(tmp_path: Path) -> None:
    store = ArtefactStore(cache_dir=tmp_path / "cache")
    with pytest.raises(ArtefactError) as exc:
        store.path(KEY)
    msg = str(exc.value)
    assert KEY in msg and default_lock()[KEY].sha256 in msg
    assert "missing" in msg
    assert (
        "conformance artefacts sync" in msg
        and "--mirror DIR" in msg
        and "CONFORMANCE_ARTEFACTS_MIRROR" in msg
    )


def test_mismatching_mirror_file_error_says_what_was_found(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    tampered = mirror / KEY
    tampered.parent.mkdir(parents=True)
    tampered.write_bytes((_mirror() / KEY).read_bytes() + b"<!-- edited -->")
    store = ArtefactStore(mirror=mirror, cache_dir=tmp_path / "cache")
    with pytest.raises(ArtefactError) as exc:
        store.path(KEY)
    msg = str(exc.value)
    assert f"found SHA-256 {_sha(tampered.read_bytes())}" in msg
    assert default_lock()[KEY].sha256 in msg and str(tampered) in msg


def test_a_good_cache_copy_is_used_when_the_mirror_copy_is_bad(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / KEY).parent.mkdir(parents=True)
    (mirror / KEY).write_bytes(b"not the pinned bytes")
    cache = tmp_path / "cache"
    (cache / "artefacts" / KEY).parent.mkdir(parents=True)
    (cache / "artefacts" / KEY).write_bytes((_mirror() / KEY).read_bytes())
    assert ArtefactStore(mirror=mirror, cache_dir=cache).path(KEY) == cache / "artefacts" / KEY


def test_verification_is_cached_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    real = store_mod.sha256_file

    def counting(path: Path) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(store_mod, "sha256_file", counting)
    cache = tmp_path / "cache"
    target = cache / "artefacts" / KEY
    target.parent.mkdir(parents=True)
    target.write_bytes((_mirror() / KEY).read_bytes())
    store = ArtefactStore(cache_dir=cache)
    for _ in range(3):
        assert store.path(KEY) == target
    assert calls == [target]
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))  # a new mtime forces a re-check
    store.path(KEY)
    assert calls == [target, target]


def test_sync_from_mirror_copies_verified_files_into_the_cache(tmp_path: Path) -> None:
    store = ArtefactStore(mirror=_mirror(), cache_dir=tmp_path / "cache")
    seen: list[SyncProgress] = []
    report = store.sync(seen.append, keys=store.keys("schxslt2/"))
    assert report.copied == ("schxslt2/1.3.4/LICENSE", KEY) and report.ok
    assert [(p.index, p.total, p.action) for p in seen] == [(1, 2, "copied"), (2, 2, "copied")]
    offline = ArtefactStore(cache_dir=tmp_path / "cache")
    assert offline.path(KEY) == tmp_path / "cache" / "artefacts" / KEY
    again = store.sync(keys=store.keys("schxslt2/"))
    assert again.present == ("schxslt2/1.3.4/LICENSE", KEY) and not again.copied


def test_root_for_refuses_a_set_that_is_not_complete_in_one_place(tmp_path: Path) -> None:
    store = ArtefactStore(mirror=_mirror(), cache_dir=tmp_path)
    assert store.root_for(store.keys("oasis/ubl-2.1/xsd/")) == _mirror()
    with pytest.raises(ArtefactError, match="not complete in one place"):
        ArtefactStore(cache_dir=tmp_path).root_for(store.keys("oasis/ubl-2.1/xsd/"))


# -- online sync against a fake server (no network) ---------------------------------------------


def _entry(key: str, data: bytes, url: str, **kw: object) -> LockEntry:
    return LockEntry(
        key=key,
        url=url,
        sha256=_sha(data),
        bytes=len(data),
        licence="MIT",
        provenance=kw.pop("provenance", OFFICIAL),
        **kw,
    )  # type: ignore[arg-type]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_online_sync_downloads_files_and_extracts_archive_members_once(tmp_path: Path) -> None:
    plain = b"<xsd/>"
    m1, m2 = b"<sch>one</sch>", b"<sch>two</sch>"
    archive = _zip({"trn-invoice/a.sch": m1, "trn-creditnote/b.sch": m2})
    arch_url = "https://example.test/rel/pack.zip"
    served = {
        "https://example.test/plain.xsd": plain,
        arch_url: archive,
        "https://mirror.test/fallback.txt": b"fallback bytes",
        "https://example.test/tampered.txt": b"someone edited this",
    }
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        body = served.get(str(request.url))
        return httpx.Response(200, content=body) if body is not None else httpx.Response(404)

    arch = {"archive_url": arch_url, "archive_sha256": _sha(archive), "archive_bytes": len(archive)}
    entries = [
        _entry("x/plain.xsd", plain, "https://example.test/plain.xsd"),
        _entry("x/a.sch", m1, arch_url, member="trn-invoice/a.sch", provenance=THIRD_PARTY, **arch),
        _entry(
            "x/b.sch", m2, arch_url, member="trn-creditnote/b.sch", provenance=THIRD_PARTY, **arch
        ),
        _entry(
            "x/fallback.txt",
            b"fallback bytes",
            "https://example.test/gone.txt",
            fallback_urls=("https://mirror.test/fallback.txt",),
        ),
        _entry("x/notice.txt", b"generated", "https://example.test/notice.html", derived=True),
        _entry("x/tampered.txt", b"the pinned bytes", "https://example.test/tampered.txt"),
    ]
    lock = ArtefactLock({e.key: e for e in entries}, source="test lock")
    store = ArtefactStore(cache_dir=tmp_path, lock=lock, transport=httpx.MockTransport(handler))
    with pytest.raises(ArtefactError) as exc:
        store.sync()
    report = exc.value.report  # type: ignore[attr-defined]
    assert report.downloaded == ("x/plain.xsd", "x/a.sch", "x/b.sch", "x/fallback.txt")
    assert report.skipped == ("x/notice.txt",)
    assert [k for k, _ in report.failed] == ["x/tampered.txt"]
    assert "x/tampered.txt" in str(exc.value) and _sha(b"someone edited this") in str(exc.value)
    assert requests.count(arch_url) == 1  # the archive is fetched once for both members
    assert store.read_bytes("x/a.sch") == m1 and store.read_bytes("x/b.sch") == m2
    assert store.read_bytes("x/fallback.txt") == b"fallback bytes"
    assert not (tmp_path / "artefacts" / "x" / "tampered.txt").exists()  # never installed
    with pytest.raises(ArtefactError, match="only a mirror has it"):
        store.path("x/notice.txt")


def test_archive_with_a_different_digest_is_refused(tmp_path: Path) -> None:
    member = b"<sch/>"
    pinned_zip = _zip({"m.sch": member})
    other_zip = _zip({"m.sch": member, "extra.txt": b"x"})
    url = "https://example.test/pack.zip"
    entry = _entry(
        "x/m.sch",
        member,
        url,
        member="m.sch",
        archive_url=url,
        archive_sha256=_sha(pinned_zip),
        archive_bytes=len(pinned_zip),
    )
    store = ArtefactStore(
        cache_dir=tmp_path,
        lock=ArtefactLock({entry.key: entry}, source="test"),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=other_zip)),
    )
    with pytest.raises(ArtefactError, match=f"hashes to SHA-256 {_sha(other_zip)}"):
        store.sync()
    assert not (tmp_path / "artefacts" / "x" / "m.sch").exists()


def test_sync_with_a_mirror_never_touches_the_network(tmp_path: Path) -> None:
    data = b"hello"
    entry = _entry("x/h.txt", data, "https://example.test/h.txt")
    (tmp_path / "mirror" / "x").mkdir(parents=True)

    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"network used: {request.url}")

    store = ArtefactStore(
        mirror=tmp_path / "mirror",
        cache_dir=tmp_path / "cache",
        lock=ArtefactLock({entry.key: entry}, source="test"),
        transport=httpx.MockTransport(no_network),
    )
    with pytest.raises(ArtefactError, match=r"mirror .*h\.txt: missing"):
        store.sync()
    (tmp_path / "mirror" / "x" / "h.txt").write_bytes(data)
    assert store.sync().copied == ("x/h.txt",)


def test_default_store_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFORMANCE_ARTEFACTS_MIRROR", str(tmp_path / "m"))
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(tmp_path / "c"))
    store = ArtefactStore.default()
    assert (store.mirror, store.cache_dir) == (tmp_path / "m", tmp_path / "c")
    assert ArtefactStore.default(mirror=tmp_path / "x").mirror == tmp_path / "x"
    monkeypatch.delenv("CONFORMANCE_ARTEFACTS_MIRROR")
    monkeypatch.delenv("CONFORMANCE_CACHE_DIR")
    plain = ArtefactStore.default()
    assert (
        plain.mirror is None
        and plain.cache_dir == Path.home() / ".cache" / "trade-conformance-harness"
    )
