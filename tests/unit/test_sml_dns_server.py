"""The reference SML's DNS server, asked by our dnslib client and by independent ones (dig,
dnspython when installed)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest

from harness.peppol.smp.errors import ParticipantNotRegistered, SmlLookupError
from harness.peppol.smp.identifiers import ParticipantIdentifier
from harness.peppol.smp.sml import (
    DnsNameAlgorithm,
    participant_dns_name,
    query,
    resolve_smp_url,
)
from harness.reference import ExtraListener
from harness.reference.sml import DnsServer, SmlZone

ZONE = "sml.conformance.test"
SMP_URL = "http://127.0.0.1:8123"
P = ParticipantIdentifier.peppol("9915:test")


def _listener() -> ExtraListener:
    """A UDP and a TCP socket on one free port (as ``conformance serve --extra-port`` binds)."""
    for _ in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        return ExtraListener("dns", "127.0.0.1", port, (udp, tcp))
    raise RuntimeError("no free port for UDP and TCP")


@pytest.fixture
def sml() -> Iterator[tuple[SmlZone, str]]:
    zone = SmlZone(ZONE)
    listener = _listener()
    server = DnsServer(zone, listener)
    server.start()
    try:
        yield zone, listener.address
    finally:
        server.stop()


def test_registered_participant_resolves_to_its_smp(sml: tuple[SmlZone, str]) -> None:
    zone, resolver = sml
    reg = zone.register(P, SMP_URL + "/")
    assert reg.naptr_name == (
        "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.iso6523-actorid-upis." + ZONE
    )
    location = resolve_smp_url(ParticipantIdentifier.peppol("9915:TEST"), ZONE, resolver)
    assert location.smp_url == SMP_URL and location.dns_name == reg.naptr_name
    assert location.answer.rcode == "NOERROR" and location.answer.naptr[0].service == "Meta:SMP"
    assert [(q.qname, q.qtype, q.rcode) for q in zone.queries()] == [
        (reg.naptr_name, "NAPTR", "NOERROR")
    ]


def test_tcp_gives_the_same_answer(sml: tuple[SmlZone, str]) -> None:
    zone, resolver = sml
    zone.register(P, SMP_URL)
    name = participant_dns_name(P, ZONE)
    udp, tcp = query(resolver, name, "NAPTR"), query(resolver, name, "NAPTR", tcp=True)
    assert udp.naptr == tcp.naptr and udp.naptr
    assert [q.transport for q in zone.queries()] == ["udp", "tcp"]


def test_unknown_names_are_nxdomain_and_other_zones_refused(sml: tuple[SmlZone, str]) -> None:
    zone, resolver = sml
    with pytest.raises(ParticipantNotRegistered, match="NXDOMAIN"):
        resolve_smp_url(P, ZONE, resolver)
    assert query(resolver, "example.org", "NAPTR").rcode == "REFUSED"
    zone.register(P, SMP_URL)
    name = participant_dns_name(P, ZONE)
    nodata = query(resolver, name, "A")
    assert nodata.rcode == "NOERROR" and not nodata.naptr
    zone.unregister(ParticipantIdentifier.peppol("9915:Test"))  # case-insensitive, like the ids
    assert query(resolver, name, "NAPTR").rcode == "NXDOMAIN"


def test_wrong_name_computations_find_nothing(sml: tuple[SmlZone, str]) -> None:
    zone, resolver = sml
    zone.register(P, SMP_URL)
    for wrong in (DnsNameAlgorithm.SHA256_SCHEME_AND_VALUE, DnsNameAlgorithm.MD5_LEGACY):
        with pytest.raises(ParticipantNotRegistered):
            resolve_smp_url(P, ZONE, resolver, algorithm=wrong)


def test_legacy_cname_only_behind_its_flag(sml: tuple[SmlZone, str]) -> None:
    zone, resolver = sml
    zone.register(P, "http://smp.example.test")
    with pytest.raises(ParticipantNotRegistered):
        resolve_smp_url(P, ZONE, resolver, algorithm=DnsNameAlgorithm.MD5_LEGACY)
    zone.register(P, "http://smp.example.test", legacy_cname=True)
    location = resolve_smp_url(P, ZONE, resolver, algorithm=DnsNameAlgorithm.MD5_LEGACY)
    assert location.smp_url == "http://smp.example.test"
    assert location.dns_name.startswith("B-85008b8279e07ab0392da75fa55856a2.")
    # the NAPTR record is still there for correct clients
    assert resolve_smp_url(P, ZONE, resolver).smp_url == "http://smp.example.test"


def test_silent_server_is_a_lookup_error_not_a_hang() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))
        port = mute.getsockname()[1]
        with pytest.raises(SmlLookupError, match="did not answer"):
            resolve_smp_url(P, ZONE, f"127.0.0.1:{port}", timeout=0.3)


def test_garbage_is_dropped_and_the_server_keeps_answering(sml: tuple[SmlZone, str]) -> None:
    zone, resolver = sml
    host, port = resolver.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00\x01garbage", (host, int(port)))
    zone.register(P, SMP_URL)
    assert resolve_smp_url(P, ZONE, resolver).smp_url == SMP_URL


DIG = shutil.which("dig")


@pytest.mark.skipif(DIG is None, reason="dig not installed (Debian: apt-get install dnsutils)")
@pytest.mark.parametrize("transport", ["+notcp", "+tcp"])
def test_dig_sees_the_naptr_record(sml: tuple[SmlZone, str], transport: str) -> None:
    """An independent DNS client (BIND's dig) reads the record the way an AP's resolver would."""
    zone, resolver = sml
    zone.register(P, SMP_URL)
    host, port = resolver.rsplit(":", 1)
    assert DIG is not None
    out = subprocess.run(
        [DIG, transport, "+norecurse", "+time=2", "+tries=1", f"@{host}", "-p", port, "NAPTR",
         participant_dns_name(P, ZONE)],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert "status: NOERROR" in out and " aa" in out.split("flags:")[1].split(";")[0]
    assert f'100 10 "U" "Meta:SMP" "!^.*$!{SMP_URL}!" .' in out
    missing = subprocess.run(
        [DIG, transport, "+time=2", "+tries=1", f"@{host}", "-p", port, "NAPTR", "x.iso6523-actorid-upis." + ZONE],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert "status: NXDOMAIN" in missing and "SOA" in missing


def test_dnspython_sees_the_naptr_record(sml: tuple[SmlZone, str]) -> None:
    """A second independent implementation, when installed (dnspython)."""
    resolver_mod = pytest.importorskip("dns.resolver")
    zone, resolver = sml
    zone.register(P, SMP_URL)
    host, port = resolver.rsplit(":", 1)
    r = resolver_mod.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    answer = r.resolve(participant_dns_name(P, ZONE), "NAPTR", lifetime=3)
    (record,) = list(answer)
    assert (record.order, record.preference) == (100, 10)
    assert (record.flags, record.service, record.regexp) == (
        b"U",
        b"Meta:SMP",
        f"!^.*$!{SMP_URL}!".encode(),
    )
