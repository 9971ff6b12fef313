"""Build and run the independent Java validators in ``tests/interop/java`` (pytest-free).

The Java side is a small CLI (``conformance.interop.InteropCli``) over two engines that share no
code with the harness's validator:

- ph-schematron-pure (Maven Central), which reads a ``.sch`` itself and evaluates each rule
  context, ``let``, assert and report as an XPath expression: no XSLT, neither SchXslt2 nor the
  ISO skeleton. Its XPath engine is Saxon-HE for Java (the header line names the version);
- the JDK's built-in ``javax.xml.validation`` (Xerces) for the UBL 2.1 XML Schema, instead of
  lxml/libxml2.

:func:`build` compiles it once with Maven into a cache folder outside the repository
(``~/.cache/trade-conformance-harness/interop/<digest of the Java sources>/``), offline first
(``mvn -o``) and online only when a dependency is missing from ``~/.m2``; a file lock makes
parallel pytest workers build it once. :meth:`JavaTool.validate` runs one JVM for a whole batch
of files, and keeps its output (by a digest of the session, the build, the schemas and the
documents) so that a second pytest-xdist worker of the same session asking for the same run reads
it instead of starting another JVM.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JAVA_DIR = Path(__file__).resolve().parent / "java"
MAIN_CLASS = "conformance.interop.InteropCli"
JAR_NAME = "interop-validators-1.jar"
ENV_CACHE = "CONFORMANCE_INTEROP_CACHE"
DEFAULT_CACHE = Path.home() / ".cache" / "trade-conformance-harness" / "interop"
#: Generous: a first build downloads ph-schematron, Saxon-HE and the Maven plugins.
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 600


class JavaToolError(RuntimeError):
    """The Java validators could not be built or run (the message says what to do)."""


def missing_tools() -> list[str]:
    """Names of the programs this needs that are not on PATH (empty: java and mvn are there)."""
    return [name for name in ("java", "javac", "mvn") if shutil.which(name) is None]


def source_digest() -> str:
    """SHA-256 over the pom and every source file (path and bytes): the build's cache key."""
    h = hashlib.sha256()
    files = [JAVA_DIR / "pom.xml", *sorted((JAVA_DIR / "src").rglob("*"))]
    for f in files:
        if f.is_file():
            h.update(f.relative_to(JAVA_DIR).as_posix().encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def cache_root() -> Path:
    return Path(os.environ.get(ENV_CACHE) or DEFAULT_CACHE)


@dataclass(frozen=True)
class BuildInfo:
    """Where the built tool is and what building it cost in this process."""

    directory: Path
    classpath: str
    #: "reused" (found in the cache), "offline" (mvn -o) or "online" (dependencies downloaded)
    how: str
    seconds: float


@dataclass(frozen=True)
class XsdError:
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class PureFinding:
    """A failed assert or successful report as ph-schematron-pure reported it."""

    id: str
    flag: str
    location: str
    kind: str


@dataclass(frozen=True)
class JavaResult:
    """What the Java engines said about one file."""

    file: str
    root: str | None
    error: str | None
    #: schema label -> findings, in the order reported
    schematron: Mapping[str, tuple[PureFinding, ...]]
    #: schema label -> problems the engine reported while validating this file
    engine_errors: Mapping[str, tuple[str, ...]]
    #: None when no XSD was asked for
    xsd_errors: tuple[XsdError, ...] | None
    #: schema label -> findings held back because an earlier rule of the pattern took the node
    held_back: Mapping[str, int]


@dataclass(frozen=True)
class JavaRun:
    header: Mapping[str, Any]
    results: Mapping[str, JavaResult]  # by file path as given


def _run_mvn(args: list[str], log: Path) -> subprocess.CompletedProcess[str]:
    cmd = ["mvn", "-B", "-q", "-f", os.fspath(JAVA_DIR / "pom.xml"), *args]
    proc = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n(exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}\n")
    return proc


def _complete(directory: Path) -> str | None:
    """The class path of a finished build in ``directory``, or None if it is not usable."""
    jar = directory / JAR_NAME
    cp_file = directory / "classpath.txt"
    if not jar.is_file() or not cp_file.is_file():
        return None
    deps = [p for p in cp_file.read_text("utf-8").strip().split(os.pathsep) if p]
    if not deps or not all(Path(p).is_file() for p in deps):
        return None  # ~/.m2 was cleaned: build again (mvn restores the jars)
    return os.pathsep.join([os.fspath(jar), *deps])


def _prune(root: Path, *, keep: Path, older_than_s: float = 3600) -> None:
    """Remove builds of other sources (an edited checkout leaves them behind); recent ones are
    left alone in case another checkout is using them right now."""
    now = time.time()
    for d in root.iterdir():
        if d == keep or not d.is_dir() or len(d.name.split(".")[0]) != 16:
            continue
        try:
            if now - d.stat().st_mtime > older_than_s:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def build() -> BuildInfo:
    """The built tool, reusing a previous build of the same sources (see the module docstring)."""
    missing = missing_tools()
    if missing:
        raise JavaToolError(f"{', '.join(missing)} not found on PATH; install a JDK 17+ and Maven")
    digest = source_digest()[:16]
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / digest
    started = time.monotonic()
    with (root / f"{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        classpath = _complete(target)
        if classpath is not None:
            return BuildInfo(target, classpath, "reused", time.monotonic() - started)
        work = Path(tempfile.mkdtemp(prefix=f"{digest}.build-", dir=root))
        log = root / f"{digest}.build.log"
        log.write_text("", encoding="utf-8")
        props = [f"-Dinterop.build.dir={work}", "package"]
        how = "offline"
        proc = _run_mvn(["-o", *props], log)
        if proc.returncode != 0:
            how = "online"
            proc = _run_mvn(props, log)
        if proc.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
            raise JavaToolError(
                f"building the Java validators failed (Maven exit {proc.returncode}); full log: "
                f"{log}. Maven Central must be reachable for the first build.\n{tail}"
            )
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        _prune(root, keep=target)
        # classpath.txt names the jars in ~/.m2; the jar itself moved with the folder.
        classpath = _complete(target)
        if classpath is None:
            raise JavaToolError(
                f"Maven reported success but {target} lacks {JAR_NAME} or classpath.txt"
            )
        return BuildInfo(target, classpath, how, time.monotonic() - started)


class JavaTool:
    """Runs the CLI of a :class:`BuildInfo`."""

    def __init__(self, info: BuildInfo) -> None:
        self.info = info

    def _java(self, args: Sequence[str]) -> list[dict[str, Any]]:
        cmd = ["java", "-Xss8m", "-cp", self.info.classpath, MAIN_CLASS, *args]
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            raise JavaToolError(
                f"the Java validators exited {proc.returncode}: "
                + proc.stderr.decode("utf-8", "replace")[-3000:]
            )
        return [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines() if line]

    def _run_key(self, paths: Sequence[str], args: Sequence[str]) -> str:
        """Digest of everything a run depends on: this test session, the build, the arguments
        (schema files by content) and the documents' bytes in order."""
        # Shared by the workers of one pytest-xdist run only: a later session runs the JVM again.
        session = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}-{time.time_ns()}"
        h = hashlib.sha256(f"{session}\0{self.info.directory.name}\0".encode())
        for a in args:
            h.update(a.encode() + b"\0")
            _, _, path = a.partition("=")
            if path and Path(path).is_file():
                h.update(hashlib.sha256(Path(path).read_bytes()).digest())
        for p in paths:
            h.update(hashlib.sha256(Path(p).read_bytes()).digest())
        return h.hexdigest()

    def _run_cached(self, paths: Sequence[str], args: list[str]) -> list[dict[str, Any]]:
        """Run the CLI, or reuse the output of an identical run (another pytest worker's).

        Workers of one ``pytest -n`` session each build their own fixtures; the lock makes the
        second wait for the first and read its output instead of running the same JVM again."""
        runs = cache_root() / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        key = self._run_key(paths, args)
        out_file = runs / f"{key}.json"
        with (runs / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if out_file.is_file():
                cached = json.loads(out_file.read_text("utf-8"))
                for raw, path in zip(cached[1:], paths, strict=True):
                    raw["file"] = path  # same bytes, this worker's file name
                return list(cached)
            with tempfile.TemporaryDirectory(prefix="interop-") as tmp:
                listing = Path(tmp) / "files.txt"
                listing.write_text("".join(p + "\n" for p in paths), encoding="utf-8")
                lines = self._java([*args, "--files", os.fspath(listing)])
            if len(lines) == len(paths) + 1:
                tmp_out = out_file.with_suffix(".tmp")
                tmp_out.write_text(json.dumps(lines), encoding="utf-8")
                tmp_out.replace(out_file)
        now = time.time()
        for old in runs.glob("*.json"):
            try:
                if now - old.stat().st_mtime > 86400:
                    old.unlink()
                    old.with_suffix(".lock").unlink(missing_ok=True)
            except OSError:
                continue
        return lines

    def validate(
        self,
        files: Iterable[Path],
        *,
        schematron: Mapping[str, Path],
        xsd: Mapping[str, Path] | None = None,
    ) -> JavaRun:
        """Validate ``files`` in one JVM against every schema given (labels are yours)."""
        paths = [os.fspath(f) for f in files]
        if any("\n" in p or "\r" in p for p in paths):
            raise JavaToolError(
                "file names with line breaks cannot be passed to the Java validators"
            )
        args: list[str] = []
        for label, sch in schematron.items():
            args += ["--schematron", f"{label}={sch}"]
        for root, path in (xsd or {}).items():
            args += ["--xsd", f"{root}={path}"]
        lines = self._run_cached(paths, args)
        if not lines or "header" not in lines[0]:
            raise JavaToolError("the Java validators printed no header line")
        header = lines[0]["header"]
        results: dict[str, JavaResult] = {}
        for raw in lines[1:]:
            xsd_raw = raw.get("xsd")
            results[raw["file"]] = JavaResult(
                file=raw["file"],
                root=raw.get("root"),
                error=raw.get("error"),
                schematron={
                    label: tuple(PureFinding(**f) for f in r["failed"])
                    for label, r in (raw.get("schematron") or {}).items()
                },
                engine_errors={
                    label: tuple(r["errors"]) for label, r in (raw.get("schematron") or {}).items()
                },
                xsd_errors=None
                if xsd_raw is None
                else tuple(XsdError(**e) for e in xsd_raw["errors"]),
                held_back={
                    label: int(r.get("held_back", 0))
                    for label, r in (raw.get("schematron") or {}).items()
                },
            )
        missing = [p for p in paths if p not in results]
        if missing:
            raise JavaToolError(
                f"the Java validators said nothing about {len(missing)} files, e.g. {missing[0]}"
            )
        return JavaRun(header, results)

    def eval_utils(self, calls: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
        """Evaluate the Java ``u:`` functions on ``(name, arg, ...)`` calls (tab-free strings)."""
        with tempfile.TemporaryDirectory(prefix="interop-") as tmp:
            listing = Path(tmp) / "calls.tsv"
            listing.write_text("".join("\t".join(c) + "\n" for c in calls), encoding="utf-8")
            return self._java(["--eval-utils", os.fspath(listing)])
