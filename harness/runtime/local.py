"""Local runtime: reference endpoints as subprocesses on 127.0.0.1 with ephemeral ports.

Every endpoint is launched the one way every endpoint is launched, ``conformance serve NAME``
(here ``python -m harness.cli serve NAME --host 127.0.0.1 --port 0 --ready-file F``). Handshake:
the server binds port 0, and once it accepts connections writes ``F`` (JSON with the port); the
runtime then probes ``GET /conformance/v1/health`` until it answers 200. Nothing is shared
between runtimes, so each pytest-xdist worker can start its own endpoints.

Lifecycle guarantees (nothing may outlive the harness):

* each endpoint runs in its own process group; stop sends SIGTERM to the group, then SIGKILL
  after a grace period;
* the ``with`` block stops everything on exit, exceptions and Ctrl-C included; an ``atexit`` hook
  stops what is left, and SIGTERM to the harness is turned into ``SystemExit`` (when no handler
  was installed) so those run;
* the child watches the harness process (``--watch-pid``) and exits if it disappears, which covers
  SIGKILL of the harness;
* stdout and stderr of each endpoint go to a log file that is kept (evidence).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from harness.runtime.base import (
    HEALTH_PATH,
    EndpointRuntime,
    EndpointStartError,
    RunningEndpoint,
    stop_at_exit,
)

#: Environment variable through which a bearer token reaches ``conformance serve`` (never argv,
#: which other users of the machine can read).
TOKEN_ENV = "CONFORMANCE_SERVE_TOKEN"

DEFAULT_READY_TIMEOUT = 20.0
DEFAULT_STOP_GRACE = 5.0
LOG_TAIL_LINES = 25


@dataclass
class _Child:
    endpoint: RunningEndpoint
    process: subprocess.Popen[bytes]
    log: IO[bytes]


class LocalRuntime(EndpointRuntime):
    """Runs reference endpoints as local processes.

    ``log_dir``: where endpoint logs are written and kept (default: a new temporary folder, see
    :attr:`log_dir`). ``ready_timeout``: seconds an endpoint gets to answer its health check.
    """

    backend = "local"

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        *,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
        stop_grace: float = DEFAULT_STOP_GRACE,
        host: str = "127.0.0.1",
        python: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="conformance-endpoints-"))
        self.ready_timeout = ready_timeout
        self.stop_grace = stop_grace
        self.host = host
        self.python = python or sys.executable
        self.env = dict(env) if env is not None else None
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self._counter = 0
        stop_at_exit(self)

    # -- interface -------------------------------------------------------------------------

    @property
    def endpoints(self) -> tuple[RunningEndpoint, ...]:
        with self._lock:
            return tuple(c.endpoint for c in self._children)

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
        """Start ``conformance serve name`` and wait for its health check.

        ``variant`` selects a known-bad variant; ``token`` makes the endpoint require that bearer
        token (handed over in the environment); other ``options`` become ``--key value``
        arguments of ``conformance serve``. ``peer_host`` (the host name other endpoints reach
        it by, in the Docker backend) is accepted and unused: here every endpoint reaches every
        other one on 127.0.0.1.
        """
        del peer_host
        timeout = self.ready_timeout if ready_timeout is None else ready_timeout
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._counter += 1
            seq = self._counter
        tag = f"{name}-{variant}" if variant else name
        log_path = self.log_dir / f"{tag}-{os.getpid()}-{seq}.log"
        ready_dir = Path(tempfile.mkdtemp(prefix="conformance-ready-"))
        ready_file = ready_dir / "ready.json"

        cmd = [
            self.python, "-m", "harness.cli", "serve", name,
            "--host", self.host, "--port", "0",
            "--ready-file", str(ready_file),
            "--watch-pid", str(os.getpid()),
        ]  # fmt: skip
        shown_options: dict[str, Any] = {}
        if variant is not None:
            cmd += ["--variant", variant]
            shown_options["variant"] = variant
        for key, value in options.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                cmd += [f"--{key.replace('_', '-')}", str(v)]
            shown_options[key] = value

        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop(TOKEN_ENV, None)
        if token:
            env[TOKEN_ENV] = token

        log = log_path.open("ab")
        log.write(f"# {' '.join(cmd)}\n".encode())
        log.flush()
        launched = time.monotonic()
        try:
            process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own process group: stop reaches its children too
            )
        except OSError as exc:
            log.close()
            raise EndpointStartError(
                f"could not launch reference endpoint {name!r} ({self.python}): {exc}"
            ) from exc

        pending = RunningEndpoint(name=name, base_url="", pid=process.pid, log_path=log_path)
        child = _Child(pending, process, log)
        with self._lock:
            self._children.append(child)
        try:
            base_url, extras = self._wait_ready(child, ready_file, timeout, launched)
        except BaseException:
            self._stop_child(child)  # also on Ctrl-C while waiting
            raise
        finally:
            with contextlib.suppress(OSError):
                ready_file.unlink()
            with contextlib.suppress(OSError):
                ready_dir.rmdir()
        endpoint = RunningEndpoint(
            name=name,
            base_url=base_url,
            pid=process.pid,
            log_path=log_path,
            options=MappingProxyType(shown_options),
            startup_seconds=round(time.monotonic() - launched, 3),
            extras=MappingProxyType(extras),
        )
        child.endpoint = endpoint
        return endpoint

    def stop(self, endpoint: RunningEndpoint | None = None) -> None:
        with self._lock:
            if endpoint is None:
                chosen = list(self._children)
            else:
                chosen = [c for c in self._children if c.endpoint.pid == endpoint.pid]
        for child in reversed(chosen):
            self._stop_child(child)

    # -- internals -------------------------------------------------------------------------

    def _wait_ready(
        self, child: _Child, ready_file: Path, timeout: float, launched: float
    ) -> tuple[str, dict[str, str]]:
        """(base URL, extra listeners ``{name: "host:port"}``) once the health check answers."""
        name = child.endpoint.name
        deadline = launched + timeout
        base_url: str | None = None
        extras: dict[str, str] = {}
        last_probe = "not probed yet"
        while True:
            code = child.process.poll()
            if code is not None:
                raise EndpointStartError(
                    f"reference endpoint {name!r} exited with code {code} before it was ready"
                    f"{self._log_tail(child)}"
                )
            if base_url is None and ready_file.exists():
                with contextlib.suppress(ValueError, OSError, KeyError):
                    info = json.loads(ready_file.read_text("utf-8"))
                    scheme = "https" if info.get("scheme") == "https" else "http"
                    base_url = f"{scheme}://{_url_host(info['host'])}:{int(info['port'])}"
                    extras = {str(k): str(v) for k, v in dict(info.get("extras") or {}).items()}
            if base_url is not None:
                ok, last_probe = _probe(base_url + HEALTH_PATH)
                if ok:
                    return base_url, extras
            if time.monotonic() >= deadline:
                if base_url is None:
                    what = "it never reported the port it listens on (no ready file was written)"
                else:
                    what = f"it listens at {base_url} but GET {HEALTH_PATH} did not answer 200 (last: {last_probe})"
                raise EndpointStartError(
                    f"reference endpoint {name!r} did not become ready within {timeout:g} s: {what}."
                    f" It was stopped. To see why, run `conformance serve {name}` by hand; a slow"
                    f" machine may need a longer ready_timeout.{self._log_tail(child)}"
                )
            time.sleep(0.02 if base_url is None else 0.05)

    def _log_tail(self, child: _Child) -> str:
        with contextlib.suppress(OSError):
            child.log.flush()
        path = child.endpoint.log_path
        try:
            lines = path.read_text("utf-8", errors="replace").splitlines() if path else []
        except OSError:
            lines = []
        tail = "\n    ".join(lines[-LOG_TAIL_LINES:]) or "(empty)"
        return f"\n  log {path} (last {min(len(lines), LOG_TAIL_LINES)} lines):\n    {tail}"

    def _stop_child(self, child: _Child) -> None:
        process = child.process
        try:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
                try:
                    process.wait(timeout=self.stop_grace)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait(timeout=self.stop_grace)
            else:
                # the leader is gone; make sure nothing it started is left in its group
                _signal_group(process, signal.SIGKILL)
        except BaseException:
            # Ctrl-C during a graceful stop: do not leave it running
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(Exception):
                process.wait(timeout=1)
            raise
        finally:
            with contextlib.suppress(OSError):
                child.log.close()
            with self._lock:
                if child in self._children:
                    self._children.remove(child)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)  # start_new_session: pgid == pid


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _probe(url: str) -> tuple[bool, str]:
    """GET ``url`` once with a short timeout: (answered 200?, what happened)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        import ssl

        # readiness only: the endpoint's certificate is judged by whoever uses it, not here
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=2.0, context=context
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=2.0)
    try:
        conn.request("GET", parts.path)
        response = conn.getresponse()
        response.read()
        return response.status == 200, f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
