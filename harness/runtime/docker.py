"""Docker runtime: reference endpoints in containers, published on 127.0.0.1 only.

The same interface and the same launch path as :mod:`harness.runtime.local`: every container runs
``conformance serve NAME --host 0.0.0.0 --port 8080`` from one image built from ``docker/``; the
runtime hands back base URLs on 127.0.0.1, so tests never know which backend ran.

What a caller may rely on:

* **Image.** Built on first use with the docker SDK from ``docker/Dockerfile``, installing wheels
  made on the host (the harness from this checkout, its dependencies for the base image's Python
  and platform) that the runtime serves to the build on 127.0.0.1: nothing is downloaded from the
  internet inside the build, and the wheels are not a layer of the image. The tag
  ``conformance-harness:<version>-<digest>`` carries a digest of the Dockerfile, the harness
  sources and the base image id, so a changed harness rebuilds and an unchanged one is reused.
  Base image: ``base_image=`` or ``CONFORMANCE_DOCKER_BASE_IMAGE`` (default ``python:3.12-slim``;
  our CI uses ``conformance-base:bookworm`` from ``scripts/docker-setup.sh``).
  ``CONFORMANCE_DOCKER_IMAGE`` / ``image=`` uses a prepared image as is.
* **Isolation.** One bridge network per runtime (the endpoint name is its DNS alias there, so
  endpoints can reach one another); every container and network carries the labels
  ``org.trade-conformance.run=<run id>`` and ``org.trade-conformance.owner=<host>:<pid>:<start>``.
* **Ports.** HTTP and every extra listener an endpoint declares (``extra_ports`` of its registry
  entry, e.g. ``{"dns": "udp+tcp"}``) are published on 127.0.0.1 only, on ephemeral host ports;
  a listener published for UDP and TCP gets the same host port for both, reported in
  :attr:`RunningEndpoint.extras` as ``host:port``.
* **Readiness.** ``GET /conformance/v1/health`` through the published port must answer 200 within
  the timeout; otherwise :class:`EndpointStartError` says what did not come up, with the container
  state and the end of its log, and the container is removed.
* **Secrets.** A bearer token is written into the created container (``/run/conformance/``, mode
  0400, owned by the container's user) before it starts; it is never in the container's
  environment or arguments, which ``docker inspect`` shows.
* **Evidence.** Each container's output is streamed to a log file in ``log_dir`` (kept).
* **Clean-up.** ``stop()`` / leaving the ``with`` block removes the containers and the network,
  also after an exception or Ctrl-C (and at interpreter exit). A harness killed with SIGKILL
  cannot clean up: the next runtime on the same host removes labelled containers and networks
  whose owner process is gone before it starts anything (:func:`remove_stale`).
* **Artefacts.** The artefact mirror (``CONFORMANCE_ARTEFACTS_MIRROR``) and the cache
  (``CONFORMANCE_CACHE_DIR`` or the default) are mounted read-only; normative files are never
  baked into an image.

The ``docker`` package (extra ``[docker]``) is imported only when a runtime is used.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from harness import __version__
from harness.errors import ConfigError
from harness.runtime.base import (
    HEALTH_PATH,
    EndpointRuntime,
    EndpointStartError,
    RunningEndpoint,
    stop_at_exit,
)

LABEL_RUN = "org.trade-conformance.run"
LABEL_OWNER = "org.trade-conformance.owner"
LABEL_ENDPOINT = "org.trade-conformance.endpoint"

IMAGE_REPOSITORY = "conformance-harness"
DEFAULT_BASE_IMAGE = "python:3.12-slim"
ENV_BASE_IMAGE = "CONFORMANCE_DOCKER_BASE_IMAGE"
ENV_IMAGE = "CONFORMANCE_DOCKER_IMAGE"
#: How ``conformance serve`` in a container finds the bearer token: a file in ``SECRETS_DIR``.
TOKEN_FILE_ENV = "CONFORMANCE_SERVE_TOKEN_FILE"
SECRETS_DIR = "/run/conformance"
TOKEN_FILE_NAME = "serve-token"

#: Port ``conformance serve`` listens on inside every container.
CONTAINER_PORT = 8080
#: Extra listeners (DNS ...) get container ports from here on, in the order of their names.
EXTRA_PORT_BASE = 10000

CONTAINER_MIRROR = "/artefacts/mirror"
CONTAINER_CACHE = "/artefacts/cache"
#: Where host paths given as endpoint options (``pki_dir`` ...) are mounted, read-only.
CONTAINER_OPTIONS = "/mnt/conformance"

DEFAULT_READY_TIMEOUT = 60.0
DEFAULT_STOP_GRACE = 5
LOG_TAIL_LINES = 25

_PROTOCOLS = frozenset({"tcp", "udp"})


class DockerUnavailableError(EndpointStartError):
    """No Docker engine can be reached, or the docker SDK is not installed."""


class ImageBuildError(EndpointStartError):
    """The harness image could not be built; the message ends with the build output's tail."""


class BaseImageUnavailableError(ImageBuildError):
    """The base image is neither present nor pullable (no registry): an environment problem."""


# -- owner identity and stale clean-up --------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return stat.rsplit(")", 1)[1].split()[19]


def owner_label(pid: int | None = None) -> str:
    """``<hostname>:<pid>:<start>``: identifies this process even after its pid is reused."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_process_start(pid) or '?'}"


def owner_alive(label: str) -> bool:
    """Whether the process named by an owner label still runs. Owners on another host are
    assumed alive: their containers are not ours to remove."""
    host, _, rest = label.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    current = _process_start(pid)
    if current is None:
        return False
    return start in ("?", current)


@dataclass(frozen=True)
class StaleCleanup:
    """What :func:`remove_stale` removed (names)."""

    containers: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()


def remove_stale(client: Any, *, wait: float = 15.0) -> StaleCleanup:
    """Remove labelled containers and networks whose owner process is gone (a crashed run).

    Safe with runtimes running in parallel (pytest-xdist workers, other sessions): only
    resources whose owner process no longer exists on this host are touched, and when another
    process is already removing one, this waits (up to ``wait`` seconds) until it is gone.
    """
    errors = _sdk().errors

    containers: list[str] = []
    networks: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL_OWNER}):
        if owner_alive(container.labels.get(LABEL_OWNER, "")):
            continue
        try:
            container.remove(force=True, v=True)
            containers.append(container.name)
        except errors.NotFound:
            pass
        except errors.APIError:  # 409: another runtime is removing it right now
            _wait_gone(functools.partial(client.containers.get, container.id), wait)
    for network in client.networks.list(filters={"label": LABEL_OWNER}):
        if owner_alive(network.attrs.get("Labels", {}).get(LABEL_OWNER, "")):
            continue
        deadline = time.monotonic() + wait
        while True:
            try:
                network.remove()
                networks.append(network.name)
                break
            except errors.NotFound:
                break
            except errors.APIError:
                # a container of it is still being removed (by us or another runtime)
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.2)
    return StaleCleanup(tuple(containers), tuple(networks))


def _wait_gone(get: Callable[[], Any], wait: float) -> None:
    errors = _sdk().errors
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            get()
        except errors.NotFound:
            return
        time.sleep(0.2)


def labelled_resources(client: Any, run_id: str | None = None) -> tuple[list[str], list[str]]:
    """Names of labelled containers and networks (of one run, or of any run)."""
    label = f"{LABEL_RUN}={run_id}" if run_id else LABEL_RUN
    containers = [c.name for c in client.containers.list(all=True, filters={"label": label})]
    networks = [n.name for n in client.networks.list(filters={"label": label})]
    return containers, networks


# -- engine -----------------------------------------------------------------------------------


def _sdk() -> Any:
    """The docker SDK module (imported here, never at harness start-up)."""
    try:
        module = importlib.import_module("docker")
    except ImportError:
        module = None
    # without the SDK, a checkout's docker/ folder could be imported as a namespace package
    if module is None or not hasattr(module, "from_env"):
        raise DockerUnavailableError(
            "the Docker backend needs the docker SDK: pip install 'trade-conformance-harness[docker]'"
            " (or pip install docker)"
        )
    return module


def _errors() -> tuple[type[BaseException], ...]:
    """What the SDK raises: its own errors, and requests/socket errors (both OSError)."""
    return (_sdk().errors.DockerException, OSError)


def connect(timeout: float = 180.0) -> Any:
    """A docker SDK client connected to the engine of the environment (``DOCKER_HOST`` ...).

    Raises :class:`DockerUnavailableError` saying what is missing and how to get it.
    """
    docker = _sdk()
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except _errors() as exc:
        where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise DockerUnavailableError(
            f"no Docker engine answers at {where} ({type(exc).__name__}: {exc}). Start Docker"
            " (on our CI machines: scripts/docker-setup.sh), or run with --endpoints local"
        ) from None
    return client


# -- image ------------------------------------------------------------------------------------


def source_root() -> Path | None:
    """The checkout this harness runs from, if it is one (pyproject.toml and docker/Dockerfile)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "docker" / "Dockerfile").is_file():
        return root
    return None


def _source_files(root: Path) -> Iterator[Path]:
    for top in ("harness", "suites"):
        for path in sorted((root / top).rglob("*")):
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix not in (".pyc", ".pyo")
            ):
                yield path
    for name in ("pyproject.toml", "README.md"):
        if (root / name).is_file():
            yield root / name


def inputs_digest(root: Path, dockerfile: Path, base_image_id: str) -> str:
    """SHA-256 over what goes into the image: Dockerfile, harness sources, base image id."""
    h = hashlib.sha256()
    h.update(b"base\0" + base_image_id.encode() + b"\0")
    h.update(b"dockerfile\0" + dockerfile.read_bytes() + b"\0")
    for path in _source_files(root):
        rel = path.relative_to(root).as_posix().encode()
        h.update(rel + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def harness_tag(root: Path, base_image_id: str) -> str:
    """``conformance-harness:<version>-<digest of the image's inputs>``."""
    digest = inputs_digest(root, root / "docker" / "Dockerfile", base_image_id)
    return f"{IMAGE_REPOSITORY}:{__version__}-{digest[:16]}"


@dataclass(frozen=True)
class TargetPython:
    """Python and platform of a base image, for choosing wheels on the host."""

    version: str  # "311"
    libc: str  # "glibc" or "musl"
    libc_version: tuple[int, int]
    machine: str  # "x86_64", "aarch64"

    def pip_platforms(self) -> list[str]:
        major, minor = self.libc_version
        if self.libc == "musl":
            return [f"musllinux_{major}_{m}_{self.machine}" for m in range(minor, 0, -1)]
        tags = (
            [f"manylinux_2_{m}_{self.machine}" for m in range(minor, 16, -1)] if major == 2 else []
        )
        tags += [
            f"manylinux2014_{self.machine}",
            f"manylinux2010_{self.machine}",
            f"manylinux1_{self.machine}",
        ]
        return tags


_PROBE = (
    "import json, platform, sys; lib, ver = platform.libc_ver();"
    " print(json.dumps({'version': '%d%d' % sys.version_info[:2], 'libc': lib or 'musl',"
    " 'libc_version': ver or '1.2', 'machine': platform.machine()}))"
)


def probe_target(client: Any, base_image: str, owner: str) -> TargetPython:
    """Ask the base image which Python and libc it has (one short container, no network)."""
    raw = client.containers.run(
        base_image,
        ["python3", "-c", _PROBE],
        remove=True,
        network_mode="none",
        labels={LABEL_RUN: "image-probe", LABEL_OWNER: owner},
        entrypoint=[],
    )
    info = json.loads(raw.decode().strip().splitlines()[-1])
    major, minor = (int(x) for x in str(info["libc_version"]).split(".")[:2])
    return TargetPython(
        str(info["version"]), str(info["libc"]), (major, minor), str(info["machine"])
    )


def build_wheels(root: Path, target: TargetPython, dest: Path, log: IO[str]) -> list[Path]:
    """The harness wheel from ``root`` and binary wheels of its dependencies for ``target``."""
    dest.mkdir(parents=True, exist_ok=True)
    isolation = [] if _have("setuptools") and _have("wheel") else ["--use-pep517"]
    no_isolation = ["--no-build-isolation"] if not isolation else []
    _pip(["wheel", "--no-deps", *no_isolation, "-w", str(dest), str(root)], log)
    harness = sorted(dest.glob("trade_conformance_harness-*.whl"))
    if not harness:
        raise ImageBuildError(f"pip wheel {root} made no trade_conformance_harness wheel in {dest}")
    platforms = [arg for p in target.pip_platforms() for arg in ("--platform", p)]
    _pip(
        [
            "download", "--only-binary=:all:", "--python-version", target.version,
            "--implementation", "cp", *platforms, "-d", str(dest), str(harness[-1]),
        ],
        log,
    )  # fmt: skip
    return sorted(dest.glob("*.whl"))


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _pip(args: list[str], log: IO[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    log.write(f"# {' '.join(cmd)}\n")
    log.flush()
    proc = subprocess.run(
        cmd, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    log.write(proc.stdout)
    log.flush()
    if proc.returncode != 0:
        tail = "\n    ".join(proc.stdout.splitlines()[-LOG_TAIL_LINES:])
        raise ImageBuildError(
            f"preparing wheels for the harness image failed: {' '.join(cmd[3:])} exited"
            f" {proc.returncode}. The host needs PyPI (or a wheel index) for the base image's"
            f" Python; or set {ENV_IMAGE} to an image built by hand (docker/README.md).\n    {tail}"
        )


@dataclass(frozen=True)
class ImageInfo:
    """The image the runtime runs; ``built`` when it was built just now (``seconds`` of it)."""

    tag: str
    base_image: str
    built: bool = False
    seconds: float = 0.0


def _cache_dir() -> Path:
    base = os.environ.get("CONFORMANCE_CACHE_DIR")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "trade-conformance-harness"
    return root / "docker"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock across processes (pytest-xdist workers build the image once)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def resolve_base_image(client: Any, base_image: str) -> Any:
    """The base image, pulled if it is not present."""
    errors = _sdk().errors

    try:
        return client.images.get(base_image)
    except errors.ImageNotFound:
        pass
    try:
        return client.images.pull(base_image)
    except errors.APIError as exc:
        raise BaseImageUnavailableError(
            f"base image {base_image!r} is not present and could not be pulled ({exc.explanation or exc})."
            f" Pull it where a registry is reachable, or build one without a registry"
            f" (scripts/docker-setup.sh makes conformance-base:bookworm) and set {ENV_BASE_IMAGE}"
        ) from None


def ensure_image(
    client: Any,
    *,
    base_image: str | None = None,
    image: str | None = None,
    log_path: Path | None = None,
    owner: str | None = None,
) -> ImageInfo:
    """The harness image: ``image`` (or ``CONFORMANCE_DOCKER_IMAGE``) as is, else the image of
    this checkout over ``base_image``, built unless an image with the same inputs exists."""
    errors = _sdk().errors

    image = image or os.environ.get(ENV_IMAGE) or None
    base = base_image or os.environ.get(ENV_BASE_IMAGE) or DEFAULT_BASE_IMAGE
    if image:
        try:
            client.images.get(image)
        except errors.ImageNotFound:
            raise ImageBuildError(
                f"image {image!r} ({ENV_IMAGE}) does not exist; build it (docker/README.md)"
            ) from None
        return ImageInfo(image, base)
    root = source_root()
    if root is None:
        raise ImageBuildError(
            "the Docker backend builds its image from a source checkout of the harness (with"
            f" docker/Dockerfile), and this harness is installed without one: build the image by hand"
            f" (docker/README.md) and set {ENV_IMAGE}"
        )
    dockerfile = root / "docker" / "Dockerfile"
    tag = harness_tag(root, resolve_base_image(client, base).id)
    if _image_exists(client, tag):
        return ImageInfo(tag, base)
    with _file_lock(_cache_dir() / "build.lock"):
        if _image_exists(client, tag):  # another process built it while we waited
            return ImageInfo(tag, base)
        started = time.monotonic()
        _build(client, root, dockerfile, base, tag, log_path, owner or owner_label())
        return ImageInfo(tag, base, built=True, seconds=round(time.monotonic() - started, 1))


def _image_exists(client: Any, tag: str) -> bool:
    errors = _sdk().errors

    try:
        client.images.get(tag)
    except errors.ImageNotFound:
        return False
    return True


def _build(
    client: Any,
    root: Path,
    dockerfile: Path,
    base: str,
    tag: str,
    log_path: Path | None,
    owner: str,
) -> None:
    errors = _sdk().errors

    log_path = log_path or _cache_dir() / "build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="conformance-image-") as tmp, log_path.open("a") as log:
        log.write(f"# building {tag} over {base} from {root}\n")
        target = probe_target(client, base, owner)
        log.write(f"# base image Python: {target}\n")
        wheels = Path(tmp) / "wheels"
        build_wheels(root, target, wheels, log)
        context = Path(tmp) / "context"
        context.mkdir()
        shutil.copyfile(dockerfile, context / "Dockerfile")
        lines: list[str] = []
        try:
            with serve_wheels(wheels) as wheels_url:
                log.write(f"# wheels served to the build at {wheels_url}\n")
                _stream_build(client, context, tag, base, wheels_url, log, log_path, lines)
        except errors.APIError as exc:
            lines.append(str(exc))
            raise ImageBuildError(_build_failure(tag, log_path, lines)) from None
        log.flush()
    if not _image_exists(client, tag):
        raise ImageBuildError(_build_failure(tag, log_path, lines))


@contextlib.contextmanager
def serve_wheels(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (an ephemeral port) while the block runs; yields its URL, a
    page pip reads with ``--find-links``. The image build reaches it through ``--network host``,
    so the wheels are installed without ever being a layer of the image."""
    import functools
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="wheels-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _stream_build(
    client: Any,
    context: Path,
    tag: str,
    base: str,
    wheels_url: str,
    log: IO[str],
    log_path: Path,
    lines: list[str],
) -> None:
    """``docker build`` of ``context``, its output streamed into ``log`` (and ``lines``)."""
    buildargs = {
        "BASE_IMAGE": base,
        "INPUTS_DIGEST": tag.rsplit("-", 1)[-1],
        "WHEELS_URL": wheels_url,
    }
    for chunk in client.api.build(
        path=str(context), tag=tag, buildargs=buildargs, network_mode="host",
        rm=True, forcerm=True, pull=False, decode=True,
    ):  # fmt: skip
        text = chunk.get("stream") or chunk.get("status") or ""
        if text:
            log.write(text)
            lines.extend(text.splitlines())
        if "error" in chunk:
            lines.append(str(chunk["error"]))
            log.write(f"ERROR: {chunk['error']}\n")
            raise ImageBuildError(_build_failure(tag, log_path, lines))


def _build_failure(tag: str, log_path: Path, lines: Sequence[str]) -> str:
    tail = "\n    ".join(lines[-LOG_TAIL_LINES:]) or "(no output)"
    return f"building image {tag} failed; full output in {log_path}; last lines:\n    {tail}"


def secrets_archive(files: Mapping[str, str], user: str) -> bytes:
    """A tar of folder ``conformance/`` (0700) holding ``files`` (0400), owned by ``user``
    (``uid:gid``), to unpack into a created container's ``/run`` before it starts."""
    import io
    import tarfile

    uid, _, gid = user.partition(":")
    if not uid.isdigit() or not (gid or uid).isdigit():
        raise EndpointStartError(
            f"cannot hand a token to a container running as user {user!r}: give the user as"
            " numeric uid:gid (the default is the harness's own)"
        )
    owner = {"uid": int(uid), "gid": int(gid or uid)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo(Path(SECRETS_DIR).name)
        folder.type, folder.mode = tarfile.DIRTYPE, 0o700
        folder.uid, folder.gid = owner["uid"], owner["gid"]
        tar.addfile(folder)
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{folder.name}/{name}")
            info.size, info.mode = len(data), 0o400
            info.uid, info.gid = owner["uid"], owner["gid"]
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# -- ports ------------------------------------------------------------------------------------


def parse_protocols(spec: str) -> tuple[str, ...]:
    """``"udp+tcp"`` -> ``("tcp", "udp")``; a ConfigError for anything but tcp/udp."""
    protocols = tuple(sorted({p.strip().lower() for p in spec.split("+") if p.strip()}))
    if not protocols or not set(protocols) <= _PROTOCOLS:
        raise ConfigError(f"extra port protocols {spec!r}: expected tcp, udp or udp+tcp")
    return protocols


def free_port(host: str, protocols: Sequence[str], attempts: int = 50) -> int:
    """A port that is free on ``host`` for every one of ``protocols`` right now."""
    kinds = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}
    for _ in range(attempts):
        first = socket.socket(socket.AF_INET, kinds[protocols[0]])
        try:
            first.bind((host, 0))
            port = int(first.getsockname()[1])
            others = []
            try:
                for proto in protocols[1:]:
                    s = socket.socket(socket.AF_INET, kinds[proto])
                    others.append(s)
                    s.bind((host, port))
            except OSError:
                continue
            finally:
                for s in others:
                    s.close()
            return port
        finally:
            first.close()
    raise EndpointStartError(
        f"found no port free for {'+'.join(protocols)} on {host} in {attempts} attempts"
    )


def extra_ports_of(name: str) -> dict[str, tuple[str, ...]]:
    """Extra listeners the registry declares for endpoint ``name`` (``{"dns": ("tcp", "udp")}``)."""
    from harness.reference import get_endpoint

    declared: Mapping[str, str] = getattr(get_endpoint(name), "extra_ports", None) or {}
    return {key: parse_protocols(spec) for key, spec in sorted(declared.items())}


# -- the runtime ------------------------------------------------------------------------------


@dataclass
class _Container:
    endpoint: RunningEndpoint
    container: Any
    log_path: Path
    #: how the other containers of the run reach it (container name and ports inside)
    peer: RunningEndpoint | None = None
    log_thread: threading.Thread | None = None
    removed: bool = False


@dataclass
class _Mounts:
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def mount_path(self, key: str, host_path: Path) -> str:
        """Mount ``host_path`` read-only for option ``key``; the path to give inside."""
        resolved = host_path.resolve()
        if not resolved.exists():
            raise ConfigError(
                f"option {key}={host_path}: no such file or folder on this machine (the Docker"
                " backend mounts it into the container read-only)"
            )
        for host, spec in self.volumes.items():
            if host == str(resolved):
                return spec["bind"]
        inside = f"{CONTAINER_OPTIONS}/{len(self.volumes)}-{_hostname(key)}"
        self.volumes[str(resolved)] = {"bind": inside, "mode": "ro"}
        return inside


#: Option names that always carry a host path (``pki_dir=...``): mounted, argument rewritten.
_PATH_SUFFIXES = ("_dir", "_file", "_path")
#: Option names that carry a host path when the value names one (``tls_cert``, ``tls_key``).
_MAYBE_PATH_SUFFIXES = ("_cert", "_key")


def _is_path_option(key: str, value: object) -> bool:
    if isinstance(value, os.PathLike) or key.endswith(_PATH_SUFFIXES):
        return True
    return key.endswith(_MAYBE_PATH_SUFFIXES) and Path(str(value)).exists()


def _hostname(text: str) -> str:
    """``text`` as a DNS label-ish name: lower case letters, digits and '-'."""
    cleaned = "".join(c if c.isalnum() and c.isascii() else "-" for c in text.lower())
    return "-".join(part for part in cleaned.split("-") if part)[:120]


class DockerRuntime(EndpointRuntime):
    """Runs reference endpoints as containers (see the module docstring for the guarantees).

    Nothing touches the engine until the first :meth:`start` (or :meth:`prepare`): then the
    runtime connects, removes stale resources of crashed runs, makes sure the image exists and
    creates its network.
    """

    backend = "docker"

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        *,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
        stop_grace: int = DEFAULT_STOP_GRACE,
        base_image: str | None = None,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        client: Any = None,
        run_id: str | None = None,
        user: str | None = None,
    ) -> None:
        self.log_dir = (
            Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="conformance-endpoints-"))
        )
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.base_image = base_image
        self.image = image
        self.env = dict(os.environ if env is None else env)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        # As the harness's own user, like the local backend: the endpoint can read what the
        # harness can (mounted PKI keys, cache) and nothing more.
        self.user = user or f"{os.getuid()}:{os.getgid()}"
        self.owner = owner_label()
        self.image_info: ImageInfo | None = None
        self.stale_removed: StaleCleanup | None = None
        self._client = client
        self._network: Any = None
        self._children: list[_Container] = []
        self._lock = threading.RLock()
        self._counter = 0
        stop_at_exit(self)

    # -- interface -------------------------------------------------------------------------

    @property
    def endpoints(self) -> tuple[RunningEndpoint, ...]:
        with self._lock:
            return tuple(c.endpoint for c in self._children if not c.removed)

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_RUN: self.run_id, LABEL_OWNER: self.owner}

    @property
    def network_name(self) -> str:
        return f"conformance-{self.run_id}"

    def prepare(self) -> ImageInfo:
        """Connect, clean up after crashed runs, ensure the image and the network. Idempotent."""
        with self._lock:
            if self._client is None:
                self._client = connect()
            if self.stale_removed is None:
                self.stale_removed = remove_stale(self._client)
            if self.image_info is None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                self.image_info = ensure_image(
                    self._client, base_image=self.base_image, image=self.image,
                    log_path=self.log_dir / "image-build.log", owner=self.owner,
                )  # fmt: skip
            if self._network is None:
                self._network = self._client.networks.create(
                    self.network_name, driver="bridge", labels=self.labels, check_duplicate=True
                )
            return self.image_info

    def start(
        self,
        name: str,
        *,
        variant: str | None = None,
        token: str | None = None,
        ready_timeout: float | None = None,
        peer_host: str | None = None,
        **options: Any,
    ) -> RunningEndpoint:
        """Start ``name`` in a container and wait for its health check through the published port.

        Arguments as :meth:`LocalRuntime.start <harness.runtime.local.LocalRuntime.start>`.
        ``peer_host``: a host name chosen by the caller (letters, digits, '-'; unique in the run)
        that the container also gets as an alias on the run's network and that
        :meth:`peer_endpoint` uses instead of the generated container name, so that a TLS server
        certificate issued before the start can name the host its peers connect to.
        """
        if peer_host is not None and (_hostname(peer_host) != peer_host or len(peer_host) > 63):
            raise ConfigError(
                f"peer_host {peer_host!r} is not a DNS label (lower-case letters, digits and '-',"
                " at most 63 characters)"
            )
        timeout = self.ready_timeout if ready_timeout is None else ready_timeout
        # ``conformance serve --tls-cert/--tls-key``: the endpoint speaks HTTPS
        scheme = "https" if options.get("tls_cert") else "http"
        extras_declared = extra_ports_of(name)  # ConfigError for an unknown name, before Docker
        image = self.prepare()
        with self._lock:
            self._counter += 1
            seq = self._counter
        tag = f"{name}-{variant}" if variant else name
        # also its host name on the run's network: letters, digits and '-' only
        container_name = _hostname(f"conformance-{self.run_id}-{tag}-{seq}")
        log_path = self.log_dir / f"{tag}-docker-{self.run_id}-{seq}.log"

        mounts = self._mounts()
        command = [name, "--host", "0.0.0.0", "--port", str(CONTAINER_PORT)]
        shown_options: dict[str, Any] = {}
        if variant is not None:
            command += ["--variant", variant]
            shown_options["variant"] = variant
        for key, value in options.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                arg = str(v)
                if _is_path_option(key, v):
                    arg = mounts.mount_path(key, Path(v))
                command += [f"--{key.replace('_', '-')}", arg]
            shown_options[key] = value

        ports: dict[str, Any] = {f"{CONTAINER_PORT}/tcp": ("127.0.0.1",)}
        extra_container_ports: dict[str, tuple[int, int]] = {}
        for index, (extra, protocols) in enumerate(extras_declared.items()):
            inner = EXTRA_PORT_BASE + index
            host_port = free_port("127.0.0.1", protocols)
            for proto in protocols:
                ports[f"{inner}/{proto}"] = ("127.0.0.1", host_port)
            extra_container_ports[extra] = (inner, host_port)
            command += ["--extra-port", f"{extra}={inner}"]

        environment = dict(mounts.environment)
        environment["CONFORMANCE_HEALTH_URL"] = (
            f"{scheme}://127.0.0.1:{CONTAINER_PORT}{HEALTH_PATH}"
        )
        if token:
            # a file written into the container before it starts: its environment and arguments
            # are shown to anyone who may run `docker inspect`
            environment[TOKEN_FILE_ENV] = f"{SECRETS_DIR}/{TOKEN_FILE_NAME}"

        self.log_dir.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as fh:
            fh.write(f"# docker run {image.tag} {' '.join(command)} (container {container_name})\n")
        launched = time.monotonic()
        try:
            container = self._client.containers.create(
                image.tag, command, name=container_name, detach=True, labels={**self.labels, LABEL_ENDPOINT: name},
                network=self.network_name, ports=ports, environment=environment, volumes=mounts.volumes,
                # the endpoint name is also a DNS alias on the run's network (``sml``, ``smp`` ...)
                networking_config={
                    self.network_name: self._client.api.create_endpoint_config(
                        aliases=[name, *([peer_host] if peer_host else [])]
                    )
                },
                user=self.user, stop_signal="SIGTERM",
            )  # fmt: skip
            if token:
                container.put_archive("/run", secrets_archive({TOKEN_FILE_NAME: token}, self.user))
            container.start()
        except _errors() as exc:
            self._remove_named(container_name)
            raise EndpointStartError(
                f"could not start a container for reference endpoint {name!r} from image {image.tag}:"
                f" {type(exc).__name__}: {exc}"
            ) from None
        pending = RunningEndpoint(name=name, base_url="", log_path=log_path)
        child = _Container(pending, container, log_path)
        with self._lock:
            self._children.append(child)
        try:
            child.log_thread = _follow_logs(container, log_path)
            base_url, pid = self._wait_ready(child, timeout, launched, scheme)
        except BaseException:
            self._remove(child)  # also on Ctrl-C while waiting
            raise
        endpoint = RunningEndpoint(
            name=name,
            base_url=base_url,
            pid=pid,
            log_path=log_path,
            options=MappingProxyType(shown_options),
            startup_seconds=round(time.monotonic() - launched, 3),
            extras=MappingProxyType(
                {k: f"127.0.0.1:{hp}" for k, (_, hp) in extra_container_ports.items()}
            ),
        )
        child.endpoint = endpoint
        peer = peer_host or container_name
        child.peer = replace(
            endpoint,
            base_url=f"{scheme}://{peer}:{CONTAINER_PORT}",
            extras=MappingProxyType(
                {k: f"{peer}:{inner}" for k, (inner, _) in extra_container_ports.items()}
            ),
        )
        return endpoint

    def peer_endpoint(self, endpoint: RunningEndpoint) -> RunningEndpoint:
        """``endpoint`` as the other endpoints of this runtime reach it (its container name and
        ports on the run's network; the published 127.0.0.1 ports exist only on the host).

        What to hand to a reference endpoint that must call another one (an AP doing a lookup
        needs the SML's DNS and the SMP). KeyError if this runtime did not start ``endpoint``.
        """
        with self._lock:
            for child in self._children:
                if child.endpoint.base_url == endpoint.base_url and child.peer is not None:
                    return child.peer
        raise KeyError(f"{endpoint.name} at {endpoint.base_url} was not started by this runtime")

    def stop(self, endpoint: RunningEndpoint | None = None) -> None:
        with self._lock:
            if endpoint is None:
                chosen = list(self._children)
            else:
                chosen = [c for c in self._children if c.endpoint.base_url == endpoint.base_url]
        errors: list[str] = []
        for child in reversed(chosen):
            try:
                self._remove(child)
            except _errors() as exc:  # keep removing the others
                errors.append(f"{child.container.name}: {exc}")
        if endpoint is None:
            self._remove_network()
        if errors:
            raise EndpointStartError("could not remove every container: " + "; ".join(errors))

    # -- internals -------------------------------------------------------------------------

    def _mounts(self) -> _Mounts:
        """Read-only mounts: artefact mirror and cache (normative files stay out of images)."""
        mounts = _Mounts()
        mirror = self.env.get("CONFORMANCE_ARTEFACTS_MIRROR")
        if mirror and Path(mirror).is_dir():
            mounts.volumes[str(Path(mirror).resolve())] = {"bind": CONTAINER_MIRROR, "mode": "ro"}
            mounts.environment["CONFORMANCE_ARTEFACTS_MIRROR"] = CONTAINER_MIRROR
        cache_env = self.env.get("CONFORMANCE_CACHE_DIR")
        cache = (
            Path(cache_env).expanduser()
            if cache_env
            else Path.home() / ".cache" / "trade-conformance-harness"
        )
        if (cache / "artefacts").is_dir():
            mounts.volumes[str(cache.resolve())] = {"bind": CONTAINER_CACHE, "mode": "ro"}
            mounts.environment["CONFORMANCE_CACHE_DIR"] = CONTAINER_CACHE
        return mounts

    def _wait_ready(
        self, child: _Container, timeout: float, launched: float, scheme: str = "http"
    ) -> tuple[str, int | None]:
        errors = _sdk().errors

        name = child.endpoint.name
        container = child.container
        deadline = launched + timeout
        base_url: str | None = None
        last_probe = "not probed yet"
        next_reload = 0.0
        while True:
            now = time.monotonic()
            if now >= next_reload or base_url is None:
                try:
                    container.reload()
                except errors.NotFound:
                    raise EndpointStartError(
                        f"the container of reference endpoint {name!r} vanished while starting"
                    ) from None
                next_reload = now + 0.25
                state = container.attrs.get("State", {})
                if state.get("Status") in ("exited", "dead"):
                    raise EndpointStartError(
                        f"reference endpoint {name!r} (container {container.name}) exited with code"
                        f" {state.get('ExitCode')} before it was ready{self._log_tail(child)}"
                    )
                if base_url is None:
                    bindings = (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(
                        f"{CONTAINER_PORT}/tcp"
                    )
                    if bindings:
                        base_url = f"{scheme}://127.0.0.1:{int(bindings[0]['HostPort'])}"
            if base_url is not None:
                ok, last_probe = _probe(base_url + HEALTH_PATH)
                if ok:
                    return base_url, container.attrs.get("State", {}).get("Pid") or None
            if time.monotonic() >= deadline:
                state = container.attrs.get("State", {})
                health = (state.get("Health") or {}).get("Status", "no health check")
                if base_url is None:
                    what = f"Docker never published its port {CONTAINER_PORT}/tcp on 127.0.0.1"
                else:
                    what = f"it is published at {base_url} but GET {HEALTH_PATH} did not answer 200 (last: {last_probe})"
                raise EndpointStartError(
                    f"reference endpoint {name!r} (container {container.name}, image"
                    f" {self.image_info.tag if self.image_info else '?'}) did not become ready within"
                    f" {timeout:g} s: {what}; container status {state.get('Status')!r}, Docker health"
                    f" {health!r}. It was removed. To see why, run `docker run --rm -p 127.0.0.1:8080:8080"
                    f" {self.image_info.tag if self.image_info else 'IMAGE'} {name} --host 0.0.0.0 --port 8080`;"
                    f" a slow machine may need a longer ready_timeout.{self._log_tail(child)}"
                )
            time.sleep(0.05)

    def _log_tail(self, child: _Container) -> str:
        try:
            raw = child.container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES)
            lines = raw.decode("utf-8", errors="replace").splitlines()
        except _errors() as exc:
            lines = [f"(container log unavailable: {exc})"]
        tail = "\n    ".join(lines) or "(empty)"
        return f"\n  log {child.log_path} (last {len(lines)} lines):\n    {tail}"

    def _remove(self, child: _Container) -> None:
        errors = _sdk().errors

        if child.removed:
            return
        container = child.container
        try:
            with contextlib.suppress(errors.NotFound, errors.APIError):
                container.stop(timeout=self.stop_grace)
            if child.log_thread is not None:
                child.log_thread.join(timeout=2)
            with contextlib.suppress(errors.NotFound):
                container.remove(force=True, v=True)
        except BaseException:
            # Ctrl-C during a graceful stop: do not leave it behind
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)
            raise
        finally:
            child.removed = True
            with self._lock:
                if child in self._children:
                    self._children.remove(child)

    def _remove_named(self, container_name: str) -> None:
        errors = _sdk().errors

        with contextlib.suppress(errors.NotFound, errors.APIError):
            self._client.containers.get(container_name).remove(force=True, v=True)

    def _remove_network(self) -> None:
        errors = _sdk().errors

        with self._lock:
            network, self._network = self._network, None
        if network is None:
            return
        for attempt in range(10):
            try:
                network.remove()
                return
            except errors.NotFound:
                return
            except errors.APIError:
                # an endpoint still attached (a container that is being removed): try again
                if attempt == 9:
                    raise
                time.sleep(0.2)


def _follow_logs(container: Any, log_path: Path) -> threading.Thread:
    """Stream the container's output into ``log_path`` until the container stops."""

    def follow() -> None:
        with contextlib.suppress(Exception), log_path.open("ab") as fh:
            for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
                fh.write(chunk)
                fh.flush()

    thread = threading.Thread(target=follow, name=f"logs-{container.name}", daemon=True)
    thread.start()
    return thread


def _probe(url: str) -> tuple[bool, str]:
    from harness.runtime.local import _probe as probe

    return probe(url)


# -- command line: python -m harness.runtime.docker prepare|clean|status -------------------------


def prune_images(client: Any, keep: Sequence[str]) -> list[str]:
    """Remove harness images (``conformance-harness:*``) other than ``keep``; images that a
    container still uses are left alone. Returns the removed tags."""
    errors = _sdk().errors
    removed: list[str] = []
    for image in client.images.list(name=IMAGE_REPOSITORY):
        tags = [t for t in image.tags if t.startswith(IMAGE_REPOSITORY + ":")]
        if not tags or any(t in keep for t in image.tags):
            continue
        try:
            client.images.remove(image.id, noprune=False)
        except errors.APIError:
            continue  # in use by a container (of a run going on right now)
        removed.extend(tags)
    return removed


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    """``python -m harness.runtime.docker prepare|wheels|clean|prune|status``."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.runtime.docker",
        description="Prepare and inspect the Docker backend of the harness.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    base_help = f"base image (default: ${ENV_BASE_IMAGE} or {DEFAULT_BASE_IMAGE})"
    prepare = sub.add_parser(
        "prepare", help=f"build (or reuse) the harness image and tag it {IMAGE_REPOSITORY}:latest"
    )
    prepare.add_argument("--base-image", help=base_help)
    wheels = sub.add_parser(
        "wheels",
        help="fill a build context with the wheels docker/Dockerfile installs (docker build by hand)",
    )
    wheels.add_argument("--base-image", help=base_help)
    wheels.add_argument("--dest", help="wheel folder (default: docker/.wheels of this checkout)")
    sub.add_parser(
        "clean", help="remove labelled containers and networks of runs whose process is gone"
    )
    sub.add_parser(
        "prune", help=f"remove {IMAGE_REPOSITORY} images but the current one and :latest"
    )
    sub.add_parser("status", help="list labelled containers and networks (exit 1 if there are any)")
    args = parser.parse_args(argv)
    try:
        client = connect()
        if args.action == "prepare":
            started = time.monotonic()
            info = ensure_image(client, base_image=args.base_image)
            client.images.get(info.tag).tag(IMAGE_REPOSITORY, "latest")
            verb = f"built in {info.seconds:.1f} s" if info.built else "present"
            took = time.monotonic() - started
            out(
                f"harness image {info.tag} (also :latest) over {info.base_image}: {verb} ({took:.1f} s)"
            )
            return 0
        if args.action == "wheels":
            root = source_root()
            if root is None:
                raise ImageBuildError("`wheels` needs a source checkout of the harness")
            base = args.base_image or os.environ.get(ENV_BASE_IMAGE) or DEFAULT_BASE_IMAGE
            resolve_base_image(client, base)
            dest = Path(args.dest) if args.dest else root / "docker" / ".wheels"
            target = probe_target(client, base, owner_label())
            with (dest.parent / f"{dest.name}.log").open("w") as log:
                made = build_wheels(root, target, dest, log)
            out(f"{len(made)} wheels for {base} (cp{target.version}, {target.libc}) in {dest}")
            return 0
        if args.action == "clean":
            removed = remove_stale(client)
            out(f"removed {len(removed.containers)} containers, {len(removed.networks)} networks")
            return 0
        if args.action == "prune":
            keep = [f"{IMAGE_REPOSITORY}:latest"]
            root = source_root()
            base = os.environ.get(ENV_BASE_IMAGE) or DEFAULT_BASE_IMAGE
            with contextlib.suppress(_sdk().errors.ImageNotFound):
                if root is not None:
                    keep.append(harness_tag(root, client.images.get(base).id))
            out(f"removed {', '.join(prune_images(client, keep)) or 'nothing'}")
            return 0
        containers, networks = labelled_resources(client)
        out(json.dumps({"containers": containers, "networks": networks}))
        return 1 if containers or networks else 0
    except EndpointStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
