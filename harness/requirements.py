"""Requirement catalogues: our own (``suites/<suite>/requirements.yaml``) and official ones.

Official rule sets (Schematron) are not written down anywhere in this project: their
requirements are generated from the pinned rule files, keyed by (rule set, id) because ids
repeat across versions. Flags ``fatal``/``error`` are MUST, ``warning`` is SHOULD.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from harness.errors import ConfigError
from harness.profiles import get_profile
from harness.report.model import Level, Requirement, Source

_RULESET_DOCUMENTS = {
    "cen": "CEN EN 16931 validation artefacts",
    "peppol": "Peppol BIS Billing 3.0",
    "pint": "Peppol International (PINT) Billing",
    "pint-sg": "PINT SG (InvoiceNow) Billing",
    "xsd": "OASIS UBL 2.1 schema",
}


def _load_yaml(path: Path) -> object:
    import yaml  # local: only needed when a catalogue is read

    try:
        with path.open("rb") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


@cache
def own_requirements(profile_id: str) -> tuple[Requirement, ...]:
    """Our own requirements of ``profile_id``, from its suite's ``requirements.yaml``."""
    profile = get_profile(profile_id)
    path = profile.suite_dir / "requirements.yaml"
    data = _load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("requirements"), list):
        raise ConfigError(f"{path}: expected a mapping with a 'requirements' list")
    out: list[Requirement] = []
    seen: set[str] = set()
    for i, item in enumerate(data["requirements"]):
        where = f"{path}: requirements[{i}]"
        try:
            rid = str(item["id"])
            src = item["source"]
            req = Requirement(
                id=rid,
                level=Level(item["level"]),
                source=Source(str(src["document"]), str(src["version"]), str(src["clause"])),
                summary=" ".join(str(item["summary"]).split()),
                profile=profile_id,
                roles=tuple(item.get("roles", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: malformed requirement ({exc!r})") from None
        if rid in seen:
            raise ConfigError(f"{where}: duplicate requirement id {rid}")
        seen.add(rid)
        out.append(req)
    return tuple(out)


def official_requirements(profile_id: str, ruleset_ids: Sequence[str]) -> tuple[Requirement, ...]:
    """Requirements generated from the rule files of ``ruleset_ids`` (implied sets included)."""
    from harness.peppol import rulesets as rs

    out: list[Requirement] = []
    seen: set[str] = set()
    for ruleset_id in rs.expand(list(ruleset_ids)):
        ruleset = rs.get_ruleset(ruleset_id)
        document = _RULESET_DOCUMENTS.get(ruleset.family, ruleset.title)
        if ruleset.family == "xsd":
            qid = f"{ruleset_id}:XSD"
            if qid not in seen:
                seen.add(qid)
                out.append(
                    Requirement(
                        id=qid,
                        level=Level.MUST,
                        source=Source(document, ruleset.version, "schema validity"),
                        summary="The document is valid against the UBL 2.1 maindoc schema.",
                        profile=profile_id,
                        roles=("sender",),
                        ruleset=ruleset_id,
                        flag="fatal",
                    )
                )
            continue
        for rule in rs.rule_catalogue(ruleset_id):
            qid = f"{ruleset_id}:{rule.id}"
            if qid in seen:
                continue
            seen.add(qid)
            out.append(
                Requirement(
                    id=qid,
                    level=Level.SHOULD if rule.flag == "warning" else Level.MUST,
                    source=Source(document, ruleset.version, rule.id),
                    summary=rule.text,
                    profile=profile_id,
                    roles=("sender",),
                    ruleset=ruleset_id,
                    flag=rule.flag,
                )
            )
    return tuple(out)


def catalogue(
    profile_id: str, ruleset_ids: Sequence[str], roles: Iterable[str] | None = None
) -> tuple[Requirement, ...]:
    """Every requirement of a profile for the claimed rule sets, optionally limited to roles."""
    reqs = own_requirements(profile_id) + official_requirements(profile_id, ruleset_ids)
    if roles is None:
        return reqs
    wanted = set(roles)
    return tuple(r for r in reqs if not r.roles or wanted.intersection(r.roles))
