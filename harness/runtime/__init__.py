"""Runtimes: start, health-check and stop reference endpoints (``local`` backend now).

``from harness.runtime.local import LocalRuntime``; the interface is in :mod:`.base`.
"""

from harness.runtime.base import HEALTH_PATH, EndpointRuntime, EndpointStartError, RunningEndpoint

__all__ = ["HEALTH_PATH", "EndpointRuntime", "EndpointStartError", "RunningEndpoint"]
