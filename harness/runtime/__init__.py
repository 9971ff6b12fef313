"""Runtimes: start, health-check and stop reference endpoints.

Two backends behind one interface (:mod:`.base`): ``local`` (subprocesses on 127.0.0.1,
:mod:`.local`) and ``docker`` (containers published on 127.0.0.1, :mod:`.docker`, needs the
``[docker]`` extra). ``make_runtime(backend, **kw)`` picks one; the backend modules are imported
only when chosen.
"""

from __future__ import annotations

from typing import Any

from harness.errors import ConfigError
from harness.runtime.base import HEALTH_PATH, EndpointRuntime, EndpointStartError, RunningEndpoint

#: Backend names accepted by :func:`make_runtime` (and ``--endpoints``).
BACKENDS = ("local", "docker")


def make_runtime(backend: str = "local", **kw: Any) -> EndpointRuntime:
    """A new runtime of ``backend`` (``"local"`` or ``"docker"``); ``kw`` go to its constructor
    (``log_dir``, ``ready_timeout`` ...). A ConfigError names the backends for anything else."""
    if backend == "local":
        from harness.runtime.local import LocalRuntime

        return LocalRuntime(**kw)
    if backend == "docker":
        from harness.runtime.docker import DockerRuntime

        return DockerRuntime(**kw)
    raise ConfigError(f"unknown endpoint backend {backend!r}; choose one of: {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "HEALTH_PATH",
    "EndpointRuntime",
    "EndpointStartError",
    "RunningEndpoint",
    "make_runtime",
]
