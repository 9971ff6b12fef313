"""The participant file: who is under test, what it claims and how the harness drives it.

A participant file is TOML, validated against ``harness/data/participant.schema.json`` (JSON Schema
draft 2020-12, unknown keys are errors). Every problem is reported with the file, the key path
(``driver.timeout``, ``profiles.peppol-bis.rulesets[1]``), what was expected and what was found,
as a :class:`ParticipantFileError` (a :class:`~harness.errors.ConfigError`: exit 2 before anything
runs).

Strings may hold ``${ENV_VAR}`` references, replaced from the environment after the schema check
(so error messages quote the reference, never its value). Secrets -- the driver token, a password
inside ``base_url`` -- are wrapped in :class:`Secret` and listed in :attr:`Participant.secrets` so
that evidence, logs and reports can redact them; they never appear in a ``repr`` or in
:meth:`Participant.public_view`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, overload
from urllib.parse import urlsplit, urlunsplit

from harness.errors import ConfigError

DriverKind = Literal["http", "prompt", "folder", "embedded"]

#: Seconds the harness waits for one answer, per driver kind, when ``driver.timeout`` is absent.
#: ``embedded`` is generous because the first inbound document warms up the validator.
DEFAULT_TIMEOUTS: Mapping[str, float] = {"http": 30.0, "prompt": 300.0, "folder": 0.0, "embedded": 120.0}

#: Keys of the ``[driver]`` table and the kinds that use them (the schema says the same thing).
DRIVER_KEYS_BY_KIND: Mapping[str, frozenset[str]] = {
    "http": frozenset({"kind", "base_url", "token", "timeout"}),
    "folder": frozenset({"kind", "folder"}),
    "prompt": frozenset({"kind", "folder", "timeout"}),
    "embedded": frozenset({"kind", "variant", "timeout"}),
}

#: Roles a driver kind can exercise; ``folder`` only hands over documents the participant made.
ROLES_BY_KIND: Mapping[str, frozenset[str]] = {
    "http": frozenset({"sender", "receiver"}),
    "prompt": frozenset({"sender", "receiver"}),
    "folder": frozenset({"sender"}),
    "embedded": frozenset({"sender", "receiver"}),
}

#: Roles of profile ``peppol-smp`` a driver kind can exercise: the harness must publish on the
#: SMP and ask the AP for lookups, which needs the control API (or the embedded reference).
SMP_ROLES_BY_KIND: Mapping[str, frozenset[str]] = {
    "http": frozenset({"smp", "ap"}),
    "prompt": frozenset(),
    "folder": frozenset(),
    "embedded": frozenset({"smp", "ap"}),
}

#: The transport profile a peppol-smp AP is taken to support when the file names none
#: (Peppol AS4 profile 2.0, ``Endpoint/@transportProfile``).
DEFAULT_TRANSPORT_PROFILES = ("peppol-transport-as4-v2_0",)

REDACTED = "[REDACTED]"

#: Where a ``prompt`` participant's files go when ``driver.folder`` is absent (next to the file).
PROMPT_DEFAULT_FOLDER = "conformance-inbox"

_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: Keys whose value is a secret wherever it came from.
_SECRET_KEYS = frozenset({("driver", "token")})

#: How a failed ``pattern`` is explained, by key path with array positions removed.
_PATTERN_EXPECTATIONS = {
    "driver.base_url": "an http:// or https:// URL (or a ${ENV_VAR} reference to one)",
    "profiles.peppol-bis.rulesets": (
        "a rule-set id <family>-<syntax>-<version>, e.g. peppol-ubl-3.0.19 or pint-sg-ubl-1.4.1"
    ),
    "profiles.peppol-smp.smp_url": "an http:// or https:// URL (or a ${ENV_VAR} reference to one)",
    "profiles.peppol-smp.transport_profiles": "a transport profile id without spaces, e.g. peppol-transport-as4-v2_0",
}


# --------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Secret:
    """A secret string; its ``repr``/``str`` never show the value. Call :meth:`reveal` to use it."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


@dataclass(frozen=True)
class DriverConfig:
    """The ``[driver]`` table, with defaults applied, references substituted and paths resolved."""

    kind: DriverKind
    timeout: float
    base_url: str | None = None
    token: Secret | None = None
    folder: Path | None = None
    variant: str | None = None


@dataclass(frozen=True)
class SmpSettings:
    """The ``[profiles.peppol-smp]`` keys besides ``roles``, defaults applied, paths resolved.

    ``smp_url`` and ``smp_ca`` are ``None`` with driver ``embedded``: the harness then runs the
    reference SMP itself and knows both.
    """

    #: Role smp: base URL of the SMP's read interface under test (no trailing slash).
    smp_url: str | None = None
    #: Role smp: PEM file of the CA the SMP's signing certificate must chain to.
    smp_ca: Path | None = None
    #: Role smp: served over HTTPS (TLS 1.2+) only.
    require_https: bool = False
    #: Role smp: PEM file of the CA(s) of the SMP's TLS server certificate (None: system CAs).
    tls_ca: Path | None = None
    #: Role smp: how the harness publishes its test participants (``control-api``).
    publish: str = "control-api"
    #: Role ap: transport profiles the AP supports, most preferred first.
    transport_profiles: tuple[str, ...] = DEFAULT_TRANSPORT_PROFILES


@dataclass(frozen=True)
class ProfileClaim:
    """What the participant claims for one profile (``[profiles.<id>]``)."""

    profile: str
    roles: tuple[str, ...]
    rulesets: tuple[str, ...]
    #: Profile ``peppol-smp`` only.
    smp: SmpSettings | None = None


@dataclass(frozen=True)
class Participant:
    """A loaded participant file. Values only; build one with :func:`load_participant`."""

    name: str
    profiles: tuple[str, ...]
    driver: DriverConfig
    claims: tuple[ProfileClaim, ...]
    source: Path | None = None
    #: Every secret value (to redact from anything written); never shown in ``repr``.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def profile(self, profile: str) -> ProfileClaim:
        """The claim for ``profile``; a ConfigError if the participant does not claim it."""
        for claim in self.claims:
            if claim.profile == profile:
                return claim
        raise ConfigError(
            f"participant {self.name!r} ({self.source}) does not claim profile {profile!r}; "
            f"it claims {', '.join(self.profiles)}. Add it to participant.profiles with a "
            f"[profiles.{profile}] table, or choose one of those."
        )

    def public_view(self) -> dict[str, Any]:
        """What a report may say about the participant (JSON-ready, secrets replaced)."""
        d = self.driver
        driver: dict[str, Any] = {"kind": d.kind, "timeout": d.timeout}
        if d.base_url is not None:
            driver["base_url"] = self.redact(_strip_password(d.base_url))
        if d.token is not None:
            driver["token"] = REDACTED
        if d.folder is not None:
            driver["folder"] = str(d.folder)
        if d.variant is not None:
            driver["variant"] = d.variant
        return {
            "name": self.name,
            "source": str(self.source) if self.source else None,
            "profiles": list(self.profiles),
            "driver": driver,
            "claims": {c.profile: self._claim_view(c) for c in self.claims},
        }

    def _claim_view(self, claim: ProfileClaim) -> dict[str, Any]:
        view: dict[str, Any] = {"roles": list(claim.roles), "rulesets": list(claim.rulesets)}
        s = claim.smp
        if s is not None:
            if s.smp_url is not None:
                view["smp_url"] = self.redact(_strip_password(s.smp_url))
            if s.smp_ca is not None:
                view["smp_ca"] = str(s.smp_ca)
            if s.tls_ca is not None:
                view["tls_ca"] = str(s.tls_ca)
            view.update(
                require_https=s.require_https,
                publish=s.publish,
                transport_profiles=list(s.transport_profiles),
            )
        return view

    @overload
    def redact(self, data: str) -> str: ...
    @overload
    def redact(self, data: bytes) -> bytes: ...
    def redact(self, data: str | bytes) -> str | bytes:
        """``data`` with every secret of this participant replaced by ``[REDACTED]``."""
        return redact(data, self.secrets)


@overload
def redact(data: str, secrets: Iterable[str]) -> str: ...
@overload
def redact(data: bytes, secrets: Iterable[str]) -> bytes: ...
def redact(data: str | bytes, secrets: Iterable[str]) -> str | bytes:
    """Replace every occurrence of each secret (longest first) by ``[REDACTED]``."""
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
    if isinstance(data, bytes):
        for s in ordered:
            data = data.replace(s.encode("utf-8"), REDACTED.encode("ascii"))
        return data
    for s in ordered:
        data = data.replace(s, REDACTED)
    return data


# --------------------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a participant file."""

    key: str  #: key path, e.g. ``driver.timeout``; empty for the whole file
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"key `{self.key}`" if self.key else "file"
        return f"{where}: expected {self.expected}; found {self.found}"


class ParticipantFileError(ConfigError):
    """The participant file cannot be used. ``problems`` lists every issue found."""

    def __init__(self, path: Path | str, problems: Iterable[ConfigProblem]) -> None:
        self.path = Path(path)
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        if len(self.problems) == 1:
            body = str(self.problems[0])
        else:
            body = f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"participant file {self.path}: {body}\n"
            "  (fix the participant file and run again; the keys are described in "
            "harness/data/participant.schema.json)"
        )


# --------------------------------------------------------------------------------------- loading


def participant_schema() -> dict[str, Any]:
    """The JSON Schema of participant files shipped in the package."""
    text = resources.files("harness").joinpath("data/participant.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def reference_participant_path(profile: str = "peppol-bis") -> Path:
    """The bundled reference participant file of ``profile`` (driver ``embedded``, variant
    ``good``): ``reference.toml`` (peppol-bis) or ``reference-smp.toml`` (peppol-smp)."""
    name = {"peppol-bis": "reference.toml", "peppol-smp": "reference-smp.toml"}.get(profile)
    if name is None:
        raise ConfigError(f"no bundled reference participant for profile {profile!r}")
    return Path(str(resources.files("harness").joinpath(f"data/participants/{name}")))


def load_participant(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> Participant:
    """Read, validate and resolve a participant file.

    Raises :class:`ParticipantFileError` naming the file, the key path, the expectation and the
    finding for every problem (all problems at once, not only the first).
    """
    file = Path(path).expanduser().absolute()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"participant file {file} does not exist; pass the path of a participant TOML file "
            "(fixtures/participants/reference.toml is a working example)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"participant file {file} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParticipantFileError(
            file, [ConfigProblem("", "UTF-8 text (TOML)", f"bytes that are not UTF-8 at offset {exc.start}")]
        ) from None
    return parse_participant(text, source=file, environ=environ)


def parse_participant(
    text: str, *, source: Path, environ: Mapping[str, str] | None = None
) -> Participant:
    """Like :func:`load_participant` for TOML text; ``source`` names the file in errors and
    anchors relative paths."""
    environ = os.environ if environ is None else environ
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParticipantFileError(source, [ConfigProblem("", "valid TOML", f"a syntax error: {exc}")]) from None

    problems = _schema_problems(doc)
    if problems:
        raise ParticipantFileError(source, problems)

    problems = list(_claim_problems(doc))
    secrets: list[str] = []
    doc = _substitute(doc, (), environ, problems, secrets)
    if problems:
        raise ParticipantFileError(source, problems)

    driver = _driver(doc["driver"], source.parent, problems, secrets)
    if problems:
        raise ParticipantFileError(source, problems)

    claims = tuple(
        ProfileClaim(
            profile=pid,
            roles=tuple(table["roles"]),
            rulesets=tuple(table.get("rulesets", ())),
            smp=_smp_settings(table, doc["driver"]["kind"], source.parent, problems, secrets)
            if pid == "peppol-smp"
            else None,
        )
        for pid, table in doc.get("profiles", {}).items()
    )
    if problems:
        raise ParticipantFileError(source, problems)
    return Participant(
        name=doc["participant"]["name"],
        profiles=tuple(doc["participant"]["profiles"]),
        driver=driver,
        claims=claims,
        source=source,
        secrets=tuple(dict.fromkeys(s for s in secrets if s)),
    )


# --------------------------------------------------------------------------------------- internals


def _key_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _describe(value: Any, key: tuple[Any, ...] = ()) -> str:
    if tuple(k for k in key if not isinstance(k, int)) in _SECRET_KEYS:
        return f"{_type_name(value)} (value hidden: it is a secret)"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the string {shown!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"an array of {len(value)} item(s)"
    return _type_name(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__} (dates and times are not used in participant files)"


_SCHEMA_TYPES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "array": "an array",
    "object": "a table",
    "boolean": "a boolean",
}


def _schema_problems(doc: dict[str, Any]) -> list[ConfigProblem]:
    import jsonschema  # local: only loading a participant file needs it

    validator = jsonschema.Draft202012Validator(participant_schema())
    problems: list[ConfigProblem] = []
    for err in validator.iter_errors(doc):
        problems.extend(_explain(err, doc))
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.key)


def _explain(err: Any, doc: dict[str, Any]) -> list[ConfigProblem]:
    path = tuple(err.absolute_path)
    key = _key_path(path)
    kind = err.validator
    value = err.instance
    schema = err.schema if isinstance(err.schema, dict) else {}
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        out = []
        for extra in sorted(set(value) - set(allowed)):
            hint = difflib.get_close_matches(extra, allowed, n=1)
            expected = "one of the keys " + ", ".join(allowed) if allowed else "no keys here"
            if hint:
                expected += f" (did you mean `{hint[0]}`?)"
            out.append(ConfigProblem(_key_path(path + (extra,)), expected, "an unknown key"))
        return out
    if kind == "required":
        missing = err.message.split("'")[1] if "'" in err.message else str(err.validator_value)
        expected = "this key to be present"
        schema_path = list(err.absolute_schema_path)
        if "then" in schema_path and path == ("driver",):
            expected += f" (driver kind {doc.get('driver', {}).get('kind')!r} needs it)"
        return [ConfigProblem(_key_path(path + (missing,)), expected, "no such key")]
    if kind == "not" and path and path[0] == "driver":
        driver_kind = doc.get("driver", {}).get("kind")
        users = sorted(k for k, keys in DRIVER_KEYS_BY_KIND.items() if path[-1] in keys)
        return [
            ConfigProblem(
                key,
                f"no `{path[-1]}` key with driver kind {driver_kind!r} "
                f"(only kind {', '.join(users)} uses it)",
                _describe(value, path),
            )
        ]
    if kind == "type":
        expected = _SCHEMA_TYPES.get(str(err.validator_value), str(err.validator_value))
        return [ConfigProblem(key, expected, _describe(value, path))]
    if kind in ("enum", "const"):
        options = err.validator_value if kind == "enum" else [err.validator_value]
        expected = "one of " + ", ".join(json.dumps(o) for o in options)
        if isinstance(value, str):
            hint = difflib.get_close_matches(value, [str(o) for o in options], n=1)
            if hint:
                expected += f" (did you mean {hint[0]!r}?)"
        return [ConfigProblem(key, expected, _describe(value, path))]
    if kind == "pattern":
        generic = _key_path(p for p in path if not isinstance(p, int))
        expected = _PATTERN_EXPECTATIONS.get(generic, f"a string matching {err.validator_value}")
        return [ConfigProblem(key, expected, _describe(value, path))]
    limits = {
        "exclusiveMinimum": f"a number greater than {err.validator_value}",
        "minimum": f"a number of at least {err.validator_value}",
        "maximum": f"a number of at most {err.validator_value}",
        "minLength": "a non-empty string",
        "minItems": f"at least {err.validator_value} item(s)",
        "uniqueItems": "no repeated items",
    }
    if kind in limits:
        return [ConfigProblem(key, limits[kind], _describe(value, path))]
    return [ConfigProblem(key, f"a value the schema accepts ({err.message})", _describe(value, path))]


def _claim_problems(doc: dict[str, Any]) -> Iterable[ConfigProblem]:
    claimed = doc["participant"]["profiles"]
    tables = doc.get("profiles", {})
    for i, pid in enumerate(claimed):
        if pid not in tables:
            keys = "roles" if pid == "peppol-smp" else "roles and rulesets"
            yield ConfigProblem(
                f"profiles.{pid}",
                f"a [profiles.{pid}] table with {keys} (participant.profiles[{i}] claims {pid})",
                "no such table",
            )
    for pid in tables:
        if pid not in claimed:
            yield ConfigProblem(
                f"profiles.{pid}",
                f"{pid!r} to be listed in participant.profiles too (or remove this table)",
                "a table for a profile that is not claimed",
            )
    kind = doc["driver"]["kind"]
    for pid, table in tables.items():
        for i, role in enumerate(table.get("roles", [])):
            if pid == "peppol-smp":
                if role not in SMP_ROLES_BY_KIND[kind]:
                    yield ConfigProblem(
                        f"profiles.{pid}.roles[{i}]",
                        f"a driver kind that can exercise role {role} of peppol-smp (http or"
                        f" embedded: the harness publishes on the SMP and asks the AP for lookups"
                        f" through the control API); driver kind {kind!r} cannot",
                        _describe(role),
                    )
            elif role not in ROLES_BY_KIND[kind]:
                yield ConfigProblem(
                    f"profiles.{pid}.roles[{i}]",
                    f"a role driver kind {kind!r} can exercise ({', '.join(sorted(ROLES_BY_KIND[kind]))});"
                    " use kind http, prompt or embedded to certify a receiver",
                    _describe(role),
                )
        if pid == "peppol-smp":
            yield from _smp_claim_problems(table, kind)
        known = _known_rulesets(pid)
        if known is not None:
            for i, rid in enumerate(table.get("rulesets", [])):
                if rid not in known:
                    hint = difflib.get_close_matches(rid, sorted(known), n=1)
                    expected = "a rule set the harness has (" + ", ".join(sorted(known)) + ")"
                    if hint:
                        expected += f"; did you mean {hint[0]!r}?"
                    yield ConfigProblem(f"profiles.{pid}.rulesets[{i}]", expected, _describe(rid))
    if kind == "embedded":
        variant = doc["driver"].get("variant", "good")
        names = _variant_names(claimed)
        if variant != "good" and variant not in names:
            hint = difflib.get_close_matches(variant, names, n=1)
            expected = '"good" or a known-bad variant (' + ", ".join(names) + ")"
            if hint:
                expected += f"; did you mean {hint[0]!r}?"
            yield ConfigProblem("driver.variant", expected, _describe(variant))


def _known_rulesets(profile: str) -> frozenset[str] | None:
    """Rule sets a participant may claim for ``profile`` (``None``: no list to check against)."""
    if profile != "peppol-bis":
        return None
    from harness.peppol import rulesets  # the registry reads the artefact lock, not the artefacts

    return frozenset(rulesets.claimable_ids())


def _variant_names(profiles: Iterable[str] = ("peppol-bis",)) -> list[str]:
    """Known-bad variant names of the reference participants of ``profiles``."""
    names: set[str] = set()
    for profile in profiles:
        if profile == "peppol-bis":
            from harness.reference.peppol_variants import VARIANTS

            names.update(n for n in VARIANTS if n != "good")
        elif profile == "peppol-smp":
            from harness.reference.smp_variants import LOOKUP_VARIANTS, SMP_VARIANTS

            names.update(SMP_VARIANTS)
            names.update(LOOKUP_VARIANTS)
    return sorted(names)


def _smp_claim_problems(table: dict[str, Any], kind: str) -> Iterable[ConfigProblem]:
    """Keys of ``[profiles.peppol-smp]`` that the claimed roles and the driver kind need or forbid."""
    roles = set(table.get("roles", []))
    where = "profiles.peppol-smp"
    if kind == "embedded":
        for key in ("smp_url", "smp_ca", "tls_ca"):
            if key in table:
                yield ConfigProblem(
                    f"{where}.{key}",
                    f"no `{key}` key with driver kind 'embedded' (the harness runs the reference"
                    " SMP and knows its URL and certificates)",
                    _describe(table[key]),
                )
    elif "smp" in roles:
        for key, what in (
            ("smp_url", "the base URL of the SMP under test (e.g. https://smp.example.org)"),
            ("smp_ca", "the PEM file of the CA the SMP signs with a certificate of (the SMP CA)"),
        ):
            if key not in table:
                yield ConfigProblem(
                    f"{where}.{key}",
                    f"this key to be present (role smp with driver kind {kind!r} needs {what})",
                    "no such key",
                )
    if "smp" not in roles:
        for key in ("smp_url", "smp_ca", "require_https", "tls_ca", "publish"):
            if key in table:
                yield ConfigProblem(
                    f"{where}.{key}",
                    f"no `{key}` key unless role smp is claimed (roles = {sorted(roles)})",
                    _describe(table[key]),
                )
    if "ap" not in roles and "transport_profiles" in table:
        yield ConfigProblem(
            f"{where}.transport_profiles",
            f"no `transport_profiles` key unless role ap is claimed (roles = {sorted(roles)})",
            _describe(table["transport_profiles"]),
        )


def _smp_settings(
    table: dict[str, Any],
    kind: str,
    base: Path,
    problems: list[ConfigProblem],
    secrets: list[str],
) -> SmpSettings:
    where = "profiles.peppol-smp"
    smp_url = table.get("smp_url")
    if smp_url is not None:
        parts = urlsplit(smp_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            problems.append(
                ConfigProblem(
                    f"{where}.smp_url",
                    "an http:// or https:// base URL with a host and no query or fragment",
                    _describe(redact(smp_url, secrets + ([parts.password] if parts.password else []))),
                )
            )
        if parts.password:
            secrets.append(parts.password)
        smp_url = smp_url.rstrip("/")
    smp_ca = _pem_file(table.get("smp_ca"), f"{where}.smp_ca", base, problems)
    tls_ca = _pem_file(table.get("tls_ca"), f"{where}.tls_ca", base, problems)
    require_https = table.get("require_https")
    if require_https is None:
        require_https = bool(smp_url and urlsplit(smp_url).scheme == "https")
    if require_https and smp_url is not None and urlsplit(smp_url).scheme != "https":
        problems.append(
            ConfigProblem(
                f"{where}.smp_url",
                "an https:// URL, since require_https = true",
                _describe(redact(smp_url, secrets)),
            )
        )
    return SmpSettings(
        smp_url=smp_url,
        smp_ca=smp_ca,
        require_https=bool(require_https),
        tls_ca=tls_ca,
        publish=str(table.get("publish", "control-api")),
        transport_profiles=tuple(table.get("transport_profiles", DEFAULT_TRANSPORT_PROFILES)),
    )


def _pem_file(
    value: str | None, key: str, base: Path, problems: list[ConfigProblem]
) -> Path | None:
    """The resolved path of a PEM certificate file, with a problem if it holds no certificate."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (base / path).resolve()
    try:
        text = path.read_bytes()
    except OSError as exc:
        problems.append(
            ConfigProblem(
                key,
                "a readable PEM file with the CA certificate(s)",
                f"{path}: {exc.strerror or exc}",
            )
        )
        return path
    if b"-----BEGIN CERTIFICATE-----" not in text:
        problems.append(
            ConfigProblem(key, "a PEM file with at least one CERTIFICATE block", f"{path} has none")
        )
    return path


def _substitute(
    value: Any,
    path: tuple[Any, ...],
    environ: Mapping[str, str],
    problems: list[ConfigProblem],
    secrets: list[str],
) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, path + (k,), environ, problems, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, path + (i,), environ, problems, secrets) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    is_secret = tuple(p for p in path if not isinstance(p, int)) in _SECRET_KEYS

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if not _ENV_NAME.match(name):
            problems.append(
                ConfigProblem(
                    _key_path(path),
                    "${NAME} references with NAME made of letters, digits and _",
                    f"the reference {m.group(0)!r}",
                )
            )
            return ""
        if name not in environ:
            problems.append(
                ConfigProblem(
                    _key_path(path),
                    f"environment variable {name} to be set (the value refers to ${{{name}}})",
                    f"{name} is not set; export it before running",
                )
            )
            return ""
        if environ[name] == "":
            problems.append(
                ConfigProblem(
                    _key_path(path),
                    f"environment variable {name} to hold a value",
                    f"{name} is set but empty",
                )
            )
        return environ[name]

    result = _ENV_REF.sub(replace, value)
    if is_secret:
        secrets.append(result)
    return result


def _strip_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{netloc}" if user else netloc))


def _driver(
    table: dict[str, Any], base: Path, problems: list[ConfigProblem], secrets: list[str]
) -> DriverConfig:
    kind: DriverKind = table["kind"]
    base_url = table.get("base_url")
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(
                ConfigProblem(
                    "driver.base_url",
                    "an http:// or https:// URL with a host",
                    _describe(redact(base_url, secrets + ([parts.password] if parts.password else []))),
                )
            )
        if parts.password:
            secrets.append(parts.password)
    folder = table.get("folder")
    if folder is None and kind == "prompt":
        folder = PROMPT_DEFAULT_FOLDER
    folder_path = None
    if folder is not None:
        folder_path = Path(folder).expanduser()
        if not folder_path.is_absolute():
            folder_path = (base / folder_path).resolve()
        if kind == "folder" and not folder_path.is_dir():
            problems.append(
                ConfigProblem(
                    "driver.folder",
                    "an existing folder holding the participant's documents",
                    f"{folder_path} does not exist or is not a folder",
                )
            )
    token = table.get("token")
    return DriverConfig(
        kind=kind,
        timeout=float(table.get("timeout", DEFAULT_TIMEOUTS[kind])),
        base_url=base_url.rstrip("/") if base_url else None,
        token=Secret(token) if token is not None else None,
        folder=folder_path,
        variant=table.get("variant", "good") if kind == "embedded" else None,
    )
