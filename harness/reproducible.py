"""Reproducible property-based generation.

Hypothesis (>= 6.131) mixes "local constants" into generation: literals harvested from every
non-site-packages module that happens to be imported at the time. Which modules are imported
differs between a serial run, a pytest-xdist worker and a replay, so the same ``@seed`` could
produce different documents. A certification campaign must replay exactly from its recorded
seed, so campaigns run inside :func:`deterministic_generation`, which pins that pool to empty
(Hypothesis' built-in global constants, which are fixed per version, still apply).

This touches a private Hypothesis hook; if it is ever renamed the context manager becomes a
no-op and the determinism test in ``tests/integration`` catches the difference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def deterministic_generation() -> Iterator[None]:
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - very old or very new Hypothesis
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    constants_type = getattr(providers, "Constants", None)
    if original is None or cache is None or constants_type is None:  # pragma: no cover
        yield
        return
    empty = constants_type()
    providers._get_local_constants = lambda: empty  # type: ignore[attr-defined]
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original  # type: ignore[attr-defined]
        cache.cache.clear()
