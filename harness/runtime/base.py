"""The interface every runtime backend implements (``local`` now, ``docker`` next).

A runtime starts reference endpoints by name (``peppol-participant``), waits until each answers
its health check, hands back a :class:`RunningEndpoint` (base URL and where its log is), and stops
them all when leaving the ``with`` block -- also after an exception or Ctrl-C. Tests never know
which backend ran: they only see base URLs.
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import signal
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self

from harness.errors import HarnessError

#: Path of the health check every reference endpoint answers (control API, DESIGN.md).
HEALTH_PATH = "/conformance/v1/health"


class EndpointStartError(HarnessError):
    """A reference endpoint did not come up; the message says what did not happen and shows the
    end of its log."""


@dataclass(frozen=True)
class RunningEndpoint:
    """A started endpoint. ``base_url`` has no trailing slash (``http://127.0.0.1:41234``)."""

    name: str
    base_url: str
    pid: int | None = None
    log_path: Path | None = None
    #: Options it was started with (``variant`` ...); never secrets.
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: Seconds from launch until the health check answered.
    startup_seconds: float | None = None
    #: Further listeners of the endpoint besides HTTP, by name, as ``host:port`` strings
    #: (e.g. ``{"dns": "127.0.0.1:53535"}`` for the reference SML's DNS server).
    extras: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)


_RUNTIMES: weakref.WeakSet[EndpointRuntime] = weakref.WeakSet()
_HOOKS_INSTALLED = False
_HOOKS_LOCK = threading.Lock()


def _stop_all_at_exit() -> None:
    for runtime in list(_RUNTIMES):
        with contextlib.suppress(Exception):
            runtime.stop()


def _sigterm_to_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def stop_at_exit(runtime: EndpointRuntime) -> None:
    """Stop ``runtime`` at interpreter exit if nobody did; on first use, also turn SIGTERM into
    SystemExit (when no handler is installed) so ``finally`` blocks and atexit run."""
    global _HOOKS_INSTALLED
    with _HOOKS_LOCK:
        if not _HOOKS_INSTALLED:
            _HOOKS_INSTALLED = True
            atexit.register(_stop_all_at_exit)
            if threading.current_thread() is threading.main_thread():
                with contextlib.suppress(ValueError, OSError):
                    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                        signal.signal(signal.SIGTERM, _sigterm_to_exit)
    _RUNTIMES.add(runtime)


class EndpointRuntime(abc.ABC):
    """Starts, health-checks and stops reference endpoints. Use as a context manager."""

    backend: str = "?"

    @abc.abstractmethod
    def start(self, name: str, **options: Any) -> RunningEndpoint:
        """Start endpoint ``name`` and return once its health check answers.

        Raises :class:`EndpointStartError` (after cleaning up) if it does not come up in time.
        """

    @abc.abstractmethod
    def stop(self, endpoint: RunningEndpoint | None = None) -> None:
        """Stop ``endpoint``, or every endpoint this runtime started. Idempotent."""

    @property
    @abc.abstractmethod
    def endpoints(self) -> tuple[RunningEndpoint, ...]:
        """Endpoints started and not yet stopped."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
