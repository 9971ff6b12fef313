"""The profiles the harness certifies, and where their suites and requirements live.

A profile id (``peppol-bis``) names a standard family and the participant roles it certifies;
its suite is an installed package (``suites.peppol_bis``) holding pytest modules and our own
``requirements.yaml``. Official rule ids are not listed here: they come from the rule files.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    suite_package: str
    roles: tuple[str, ...]

    @property
    def suite_dir(self) -> Path:
        spec = importlib.util.find_spec(self.suite_package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                f"the suite package {self.suite_package!r} of profile {self.id!r} is not installed;"
                " reinstall the harness (pip install trade-conformance-harness)"
            )
        return Path(next(iter(spec.submodule_search_locations)))

    def suite_digest(self) -> str:
        """SHA-256 over the suite's files (path + bytes), so a report pins the exact tests run."""
        h = hashlib.sha256()
        root = self.suite_dir
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".yaml", ".yml"}:
                h.update(path.relative_to(root).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
        return h.hexdigest()


PROFILES: dict[str, Profile] = {
    "peppol-bis": Profile(
        id="peppol-bis",
        title="Peppol BIS Billing 3.0 / EN 16931 / PINT / PINT SG documents",
        suite_package="suites.peppol_bis",
        roles=("sender", "receiver"),
    ),
    "peppol-smp": Profile(
        id="peppol-smp",
        title="Peppol SMP 1.x and SML lookup (BDXL / U-NAPTR)",
        suite_package="suites.peppol_smp",
        roles=("smp", "ap"),
    ),
}


def get_profile(profile_id: str) -> Profile:
    try:
        return PROFILES[profile_id]
    except KeyError:
        raise ConfigError(
            f"unknown profile {profile_id!r}; known profiles: {', '.join(sorted(PROFILES))}"
        ) from None
