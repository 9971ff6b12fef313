"""The SML side of a lookup: the DNS name of a participant and its U-NAPTR ``Meta:SMP`` record.

What a caller may rely on:

- :func:`participant_dns_name` is the current Peppol form (PFUOI 4.4.0 POLICY 7, Peppol SML
  1.3.0): ``base32(sha256(lowercase(value)))`` without ``=`` padding, lower-case, then the scheme,
  then the zone. Only the identifier *value* is hashed, never the scheme. ``9915:test`` in
  ``iso6523-actorid-upis`` gives ``eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.
  iso6523-actorid-upis.<zone>`` (pinned by a test).
- :func:`legacy_cname_dns_name` is the retired form (``B-`` + hex MD5 of the lower-cased value),
  only used where a caller asks for it (:class:`DnsNameAlgorithm`).
- :func:`naptr_regexp` / :func:`apply_naptr_regexp` write and apply the RFC 3402 substitution
  expression of a U-NAPTR record (RFC 4848): the reference SML publishes ``!^.*$!<smp url>!``.
- :func:`resolve_smp_url` asks a DNS server (``host:port``, UDP, falling back to TCP when the
  answer is truncated) for the NAPTR records of a participant and returns the SMP base URL of the
  best ``U`` / ``Meta:SMP`` record, or raises
  :class:`~harness.peppol.smp.errors.ParticipantNotRegistered` /
  :class:`~harness.peppol.smp.errors.SmlLookupError` saying why not.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.errors import ConfigError
from harness.peppol.smp.errors import ParticipantNotRegistered, SmlLookupError
from harness.peppol.smp.identifiers import ParticipantIdentifier

#: The U-NAPTR service of an SMP (Peppol SML 1.3.0 / BDXL 1.0).
NAPTR_SERVICE = "Meta:SMP"
#: The U-NAPTR flag: the regexp yields the terminal URI (RFC 4848 section 2.1).
NAPTR_FLAG = "U"
DEFAULT_TIMEOUT = 5.0


class DnsNameAlgorithm(enum.StrEnum):
    """How a participant's DNS name is computed. Only ``SHA256_VALUE`` is correct today; the
    others exist for the retired CNAME form and for known-bad lookup variants."""

    SHA256_VALUE = "sha256-value"
    #: Retired ``B-<md5 hex>`` CNAME form (SML before the NAPTR migration).
    MD5_LEGACY = "md5-legacy"
    #: Wrong: hashes ``scheme::value`` instead of the value alone.
    SHA256_SCHEME_AND_VALUE = "sha256-scheme-and-value"
    #: Wrong: hashes the value without lower-casing it first.
    SHA256_CASE_PRESERVED = "sha256-case-preserved"


def normalise_zone(zone: str) -> str:
    """``acc.edelivery.tech.ec.europa.eu.`` -> ``acc.edelivery.tech.ec.europa.eu`` (lower case)."""
    z = zone.strip().rstrip(".").lower()
    if not z or any(not label or len(label) > 63 for label in z.split(".")):
        raise ConfigError(f"SML zone {zone!r} is not a DNS name (e.g. sml.conformance.test)")
    return z


def sha256_label(text: str) -> str:
    """``base32(sha256(text))``, RFC 4648 alphabet, lower case, no ``=`` padding (52 characters)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def participant_dns_name(
    participant: ParticipantIdentifier,
    zone: str,
    *,
    algorithm: DnsNameAlgorithm = DnsNameAlgorithm.SHA256_VALUE,
) -> str:
    """The DNS name the SML publishes ``participant`` under in ``zone`` (no trailing dot)."""
    z = normalise_zone(zone)
    if algorithm is DnsNameAlgorithm.SHA256_VALUE:
        label = sha256_label(participant.canonical_value)
    elif algorithm is DnsNameAlgorithm.SHA256_SCHEME_AND_VALUE:
        label = sha256_label(f"{participant.scheme}::{participant.canonical_value}")
    elif algorithm is DnsNameAlgorithm.SHA256_CASE_PRESERVED:
        label = sha256_label(participant.value)
    elif algorithm is DnsNameAlgorithm.MD5_LEGACY:
        return legacy_cname_dns_name(participant, z)
    else:  # pragma: no cover - exhaustive enum
        raise ValueError(algorithm)
    return f"{label}.{participant.scheme}.{z}"


def legacy_cname_dns_name(participant: ParticipantIdentifier, zone: str) -> str:
    """The retired CNAME name: ``B-`` + hex(md5(lowercase(value))) + ``.scheme.zone``."""
    digest = hashlib.md5(participant.canonical_value.encode("utf-8")).hexdigest()
    return f"B-{digest}.{participant.scheme}.{normalise_zone(zone)}"


# -- U-NAPTR -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NaptrRecord:
    """One NAPTR resource record (RFC 3403 section 4.1)."""

    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str = "."

    @property
    def is_smp(self) -> bool:
        """A U-NAPTR record for the ``Meta:SMP`` service (service compared case-insensitively,
        RFC 3403 section 4.1: the services field is case-insensitive)."""
        return self.flags.upper() == NAPTR_FLAG and self.service.lower() == NAPTR_SERVICE.lower()


def naptr_regexp(smp_url: str) -> str:
    """The substitution expression that rewrites any name to ``smp_url``: ``!^.*$!<url>!``."""
    try:
        check_smp_url(smp_url)
    except SmlLookupError as exc:
        raise ConfigError(str(exc)) from None
    if "!" in smp_url:
        raise ConfigError(
            f"SMP URL {smp_url!r} contains '!', the NAPTR delimiter; percent-encode it"
        )
    return f"!^.*$!{smp_url}!"


_BACKREF = re.compile(r"\\(\d)")


def apply_naptr_regexp(regexp: str, subject: str) -> str | None:
    """Apply an RFC 3402 section 3.2 substitution expression to ``subject``.

    Returns the rewritten string, or ``None`` when the ERE does not match. The ERE is run with
    Python's ``re`` (POSIX EREs used in NAPTR records are a subset it reads alike); only the
    ``i`` flag is defined.
    """
    if len(regexp) < 3:
        raise SmlLookupError(
            f"NAPTR regexp {regexp!r} is too short to be delim-ere-delim-repl-delim"
        )
    delim = regexp[0]
    if delim.isalnum() or delim == "\\":
        raise SmlLookupError(f"NAPTR regexp {regexp!r} uses {delim!r} as delimiter (RFC 3402 3.2)")
    parts = _split_unescaped(regexp[1:], delim)
    if len(parts) != 3:
        raise SmlLookupError(
            f"NAPTR regexp {regexp!r} is not delim-ere-delim-replacement-delim-flags (RFC 3402 3.2)"
        )
    ere, replacement, flags = parts
    if flags not in ("", "i"):
        raise SmlLookupError(f"NAPTR regexp {regexp!r} has unknown flags {flags!r}")
    try:
        pattern = re.compile(ere, re.IGNORECASE if flags == "i" else 0)
    except re.error as exc:
        raise SmlLookupError(f"NAPTR regexp {regexp!r}: the ERE does not compile ({exc})") from None
    match = pattern.search(subject)
    if match is None:
        return None

    def backref(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n == 0:
            return match.group(0)
        if n > (pattern.groups or 0):
            raise SmlLookupError(f"NAPTR regexp {regexp!r} refers to group {n} that does not exist")
        return match.group(n) or ""

    return _BACKREF.sub(backref, replacement)


def _split_unescaped(text: str, delim: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] == delim:
            current.append(delim)
            i += 2
            continue
        if c == delim:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


def check_smp_url(url: str) -> str:
    """Refuse anything but an absolute http(s) URL with a host (what a ``Meta:SMP`` record must
    yield); returns ``url`` without a trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SmlLookupError(
            f"{url!r} is not an absolute http(s) URL; a Meta:SMP NAPTR record must yield the SMP's"
            " base URL (e.g. https://smp.example.org)"
        )
    if parts.query or parts.fragment:
        raise SmlLookupError(f"SMP URL {url!r} has a query or fragment; it must be a base URL")
    return url.rstrip("/")


def select_smp_url(records: list[NaptrRecord], dns_name: str) -> str:
    """The SMP URL from ``records`` (the answer for ``dns_name``): the ``U`` / ``Meta:SMP``
    records in (order, preference) order, the first whose regexp matches."""
    candidates = sorted((r for r in records if r.is_smp), key=lambda r: (r.order, r.preference))
    if not candidates:
        raise ParticipantNotRegistered(
            f"{dns_name} has {len(records)} NAPTR record(s) but none with flag U and service"
            f" {NAPTR_SERVICE}; the participant is not registered for SMP lookup"
        )
    for record in candidates:
        url = apply_naptr_regexp(record.regexp, dns_name)
        if url is not None:
            return check_smp_url(url)
    raise SmlLookupError(
        f"no {NAPTR_SERVICE} NAPTR regexp of {dns_name} matches the name itself"
        f" ({', '.join(r.regexp for r in candidates)})"
    )


# -- resolver client ---------------------------------------------------------------------------


def parse_host_port(address: str, *, default_port: int = 53) -> tuple[str, int]:
    """``127.0.0.1:5353`` / ``[::1]:5353`` / ``dns.example`` -> (host, port)."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ConfigError(
            f"DNS resolver {address!r}: the port is not a number (host:port)"
        ) from None
    if not host or not 0 < port < 65536:
        raise ConfigError(f"DNS resolver {address!r} is not host:port (e.g. 127.0.0.1:5353)")
    return host, port


@dataclass(frozen=True)
class DnsAnswer:
    """What a DNS server said about one name: response code and the records we understand."""

    qname: str
    rcode: str
    naptr: tuple[NaptrRecord, ...] = ()
    cname: tuple[str, ...] = ()
    #: The answer as it came over the wire (evidence).
    wire: bytes = b""


def query(
    resolver: str,
    name: str,
    qtype: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    tcp: bool = False,
) -> DnsAnswer:
    """Ask ``resolver`` (``host:port``) for ``qtype`` records of ``name`` (dnslib).

    A truncated UDP answer is asked again over TCP. Raises SmlLookupError when the server does not
    answer in time or answers garbage.
    """
    from dnslib import DNSError, DNSRecord

    host, port = parse_host_port(resolver)
    request = DNSRecord.question(name, qtype)
    try:
        raw = request.send(host, port, tcp=tcp, timeout=timeout)
        reply = DNSRecord.parse(raw)
        if reply.header.tc and not tcp:
            raw = request.send(host, port, tcp=True, timeout=timeout)
            reply = DNSRecord.parse(raw)
    except OSError as exc:
        raise SmlLookupError(
            f"DNS server {resolver} did not answer the {qtype} query for {name} within"
            f" {timeout:g} s ({type(exc).__name__}: {exc}); is the SML's DNS server running there?"
        ) from None
    except DNSError as exc:
        raise SmlLookupError(f"DNS server {resolver} answered {name} with garbage: {exc}") from None
    if reply.header.id != request.header.id:
        raise SmlLookupError(f"DNS server {resolver} answered with another query id")
    from dnslib import QTYPE, RCODE

    naptr: list[NaptrRecord] = []
    cname: list[str] = []
    for rr in reply.rr:
        if rr.rtype == QTYPE.NAPTR:
            d = rr.rdata
            naptr.append(
                NaptrRecord(
                    order=int(d.order),
                    preference=int(d.preference),
                    flags=d.flags.decode("ascii", "replace")
                    if isinstance(d.flags, bytes)
                    else str(d.flags),
                    service=d.service.decode("ascii", "replace")
                    if isinstance(d.service, bytes)
                    else str(d.service),
                    regexp=d.regexp.decode("utf-8", "replace")
                    if isinstance(d.regexp, bytes)
                    else str(d.regexp),
                    replacement=str(d.replacement),
                )
            )
        elif rr.rtype == QTYPE.CNAME:
            cname.append(str(rr.rdata.label).rstrip("."))
    return DnsAnswer(
        qname=name,
        rcode=RCODE.get(reply.header.rcode, str(reply.header.rcode)),
        naptr=tuple(naptr),
        cname=tuple(cname),
        wire=bytes(raw),
    )


@dataclass(frozen=True)
class SmpLocation:
    """The outcome of an SML lookup: where the participant's SMP is, and how that was found."""

    participant: ParticipantIdentifier
    dns_name: str
    smp_url: str
    answer: DnsAnswer


def resolve_smp_url(
    participant: ParticipantIdentifier,
    zone: str,
    resolver: str,
    *,
    algorithm: DnsNameAlgorithm = DnsNameAlgorithm.SHA256_VALUE,
    timeout: float = DEFAULT_TIMEOUT,
) -> SmpLocation:
    """Look ``participant`` up in ``zone`` through the DNS server ``resolver`` (``host:port``).

    With the (retired) ``MD5_LEGACY`` algorithm the CNAME of the ``B-`` name is followed and the
    SMP is taken to be ``http://<cname target>``, as it was before the NAPTR migration.
    """
    name = participant_dns_name(participant, zone, algorithm=algorithm)
    if algorithm is DnsNameAlgorithm.MD5_LEGACY:
        answer = query(resolver, name, "CNAME", timeout=timeout)
        if answer.rcode == "NXDOMAIN" or not answer.cname:
            raise ParticipantNotRegistered(
                f"{participant} is not registered in {zone}: {name} has no CNAME ({answer.rcode})"
            )
        return SmpLocation(participant, name, check_smp_url(f"http://{answer.cname[0]}"), answer)
    answer = query(resolver, name, "NAPTR", timeout=timeout)
    if answer.rcode == "NXDOMAIN":
        raise ParticipantNotRegistered(
            f"{participant} is not registered in SML zone {zone}: {name} does not exist (NXDOMAIN)"
        )
    if answer.rcode != "NOERROR":
        raise SmlLookupError(
            f"DNS server {resolver} answered {answer.rcode} for the NAPTR of {name}"
        )
    return SmpLocation(participant, name, select_smp_url(list(answer.naptr), name), answer)
