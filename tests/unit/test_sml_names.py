"""SML DNS names of participants (PFUOI 4.4.0 POLICY 7) and U-NAPTR substitution expressions."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.peppol.smp.errors import ParticipantNotRegistered, SmlLookupError
from harness.peppol.smp.identifiers import ParticipantIdentifier
from harness.peppol.smp.sml import (
    DnsNameAlgorithm,
    NaptrRecord,
    apply_naptr_regexp,
    legacy_cname_dns_name,
    naptr_regexp,
    normalise_zone,
    parse_host_port,
    participant_dns_name,
    select_smp_url,
)

ZONE = "sml.conformance.test"


def test_worked_example_of_the_issue_9915_test() -> None:
    p = ParticipantIdentifier.peppol("9915:test")
    assert participant_dns_name(p, ZONE) == (
        "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a.iso6523-actorid-upis." + ZONE
    )


@pytest.mark.parametrize(
    ("value", "zone", "label"),
    [
        # PFUOI 4.4.0 POLICY 7, its example (the same for 0088:123ABC: values are case-insensitive)
        ("0088:123abc", "edelivery.tech.ec.europa.eu.", "Y7DZFXAF3D4CJZ4KCGRXTEC6TWVCGA4KY7ZWA5BOIF6MSWD4TDRQ"),
        ("0088:123ABC", "edelivery.tech.ec.europa.eu.", "Y7DZFXAF3D4CJZ4KCGRXTEC6TWVCGA4KY7ZWA5BOIF6MSWD4TDRQ"),
        # Peppol SML 1.3.0 section 3.1.1, "Format of Participant Identifiers"
        ("0010:5798000000001", ZONE, "XUKHFQABQZIKI3YKVR2FHR4SNFA3PF5VPQ6K4TONV3LMVSY5ARVQ"),
    ],
)
def test_the_examples_of_the_specifications(value: str, zone: str, label: str) -> None:
    """DNS names are case-insensitive: the specifications print the label in capitals."""
    name = participant_dns_name(ParticipantIdentifier.peppol(value), zone)
    assert name == f"{label.lower()}.iso6523-actorid-upis.{normalise_zone(zone)}"


def test_only_the_lower_cased_value_is_hashed() -> None:
    upper = ParticipantIdentifier.peppol("9915:TEST")
    assert participant_dns_name(upper, ZONE + ".") == participant_dns_name(
        ParticipantIdentifier.peppol("9915:test"), ZONE.upper()
    )
    wrong = participant_dns_name(upper, ZONE, algorithm=DnsNameAlgorithm.SHA256_SCHEME_AND_VALUE)
    case = participant_dns_name(upper, ZONE, algorithm=DnsNameAlgorithm.SHA256_CASE_PRESERVED)
    right = participant_dns_name(upper, ZONE)
    assert len({wrong, case, right}) == 3
    assert right.split(".")[0] == right.split(".")[0].lower() and "=" not in right


def test_retired_cname_form_matches_the_published_example() -> None:
    # peppol.helger.com's explanation of the CNAME era: B-85008b8279e07ab0392da75fa55856a2 for 9915:test
    p = ParticipantIdentifier.peppol("9915:test")
    assert legacy_cname_dns_name(p, "acc.edelivery.tech.ec.europa.eu") == (
        "B-85008b8279e07ab0392da75fa55856a2.iso6523-actorid-upis.acc.edelivery.tech.ec.europa.eu"
    )
    assert participant_dns_name(p, ZONE, algorithm=DnsNameAlgorithm.MD5_LEGACY).startswith(
        "B-85008b82"
    )
    # Peppol SML 1.2.0 (2021-05-13), "Format of Participant Identifiers": 0010:5798000000001
    sml_120 = ParticipantIdentifier.peppol("0010:5798000000001")
    assert legacy_cname_dns_name(sml_120, ZONE).startswith("B-e49b223851f6e97cbfce4f72c3402aac.")


def test_naptr_regexp_rewrites_any_name_to_the_smp_url() -> None:
    rx = naptr_regexp("https://smp.example.org")
    assert rx == "!^.*$!https://smp.example.org!"
    assert apply_naptr_regexp(rx, "abc.iso6523-actorid-upis." + ZONE) == "https://smp.example.org"
    assert apply_naptr_regexp("!^(.*)\\.zone$!http://\\1/!", "smp.zone") == "http://smp/"
    assert apply_naptr_regexp("!^nomatch$!http://x!", "other") is None
    with pytest.raises(SmlLookupError):
        apply_naptr_regexp("!^.*$!http://x", "a")  # missing final delimiter
    with pytest.raises(ConfigError):
        naptr_regexp("ftp://smp.example.org")


def test_select_prefers_order_then_preference_and_ignores_other_services() -> None:
    name = "x." + ZONE
    records = [
        NaptrRecord(100, 20, "U", "Meta:SMP", "!^.*$!http://second!"),
        NaptrRecord(100, 10, "U", "Meta:SMP", "!^.*$!http://first!"),
        NaptrRecord(10, 10, "U", "Meta:OTHER", "!^.*$!http://other!"),
        NaptrRecord(10, 10, "S", "Meta:SMP", "!^.*$!http://not-terminal!"),
    ]
    assert select_smp_url(records, name) == "http://first"
    with pytest.raises(ParticipantNotRegistered):
        select_smp_url(records[2:], name)
    with pytest.raises(SmlLookupError, match="absolute http"):
        select_smp_url([NaptrRecord(1, 1, "U", "Meta:SMP", "!^.*$!smp.example.org!")], name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:53", ("::1", 53)),
        ("dns.test", ("dns.test", 53)),
    ],
)
def test_resolver_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


def test_bad_zone_and_resolver_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        normalise_zone("bad..zone")
    with pytest.raises(ConfigError):
        parse_host_port("127.0.0.1:dns")
