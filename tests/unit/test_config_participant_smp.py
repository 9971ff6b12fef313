"""Participant files claiming profile peppol-smp: ``[profiles.peppol-smp]`` keys, what each driver
kind and role needs or forbids, and errors that name the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.participant import (
    DEFAULT_TRANSPORT_PROFILES,
    ParticipantFileError,
    load_participant,
    reference_participant_path,
)
from harness.pki import init_pki

HTTP = """\
[participant]
name = "Example SMP and AP"
profiles = ["peppol-smp"]

[driver]
kind = "http"
base_url = "https://platform.example/conformance/v1"

[profiles.peppol-smp]
roles = ["smp", "ap"]
smp_url = "https://smp.example.org/"
smp_ca = "smp-ca.pem"
transport_profiles = ["peppol-transport-as4-v2_0", "busdox-transport-as2-ver2p0"]
"""


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    pki = init_pki(tmp_path_factory.mktemp("pki"))
    return pki.authority("smp-ca").certificate_path.read_bytes()


def write(folder: Path, text: str, ca: bytes | None = None) -> Path:
    if ca is not None:
        (folder / "smp-ca.pem").write_bytes(ca)
    path = folder / "participant.toml"
    path.write_text(text)
    return path


def problems_of(exc: pytest.ExceptionInfo[ParticipantFileError]) -> dict[str, tuple[str, str]]:
    return {p.key: (p.expected, p.found) for p in exc.value.problems}


def test_reference_smp_participant_loads_with_defaults() -> None:
    p = load_participant(reference_participant_path("peppol-smp"))
    claim = p.profile("peppol-smp")
    assert claim.roles == ("smp", "ap") and claim.rulesets == ()
    assert p.driver.kind == "embedded" and p.driver.variant == "good"
    assert claim.smp is not None
    assert claim.smp.smp_url is None and claim.smp.smp_ca is None and not claim.smp.require_https
    assert claim.smp.transport_profiles == DEFAULT_TRANSPORT_PROFILES
    fixture = Path(__file__).resolve().parents[2] / "fixtures/participants/reference-smp.toml"
    assert fixture.read_text() == reference_participant_path("peppol-smp").read_text()


def test_http_participant_with_smp_and_ap(tmp_path: Path, ca_pem: bytes) -> None:
    p = load_participant(write(tmp_path, HTTP, ca_pem))
    s = p.profile("peppol-smp").smp
    assert s is not None
    assert s.smp_url == "https://smp.example.org"
    assert s.smp_ca == tmp_path / "smp-ca.pem"
    assert s.require_https  # implied by the https:// URL
    assert s.publish == "control-api"
    assert s.transport_profiles == ("peppol-transport-as4-v2_0", "busdox-transport-as2-ver2p0")
    view = p.public_view()["claims"]["peppol-smp"]
    assert view["smp_url"] == "https://smp.example.org" and view["require_https"] is True


def test_role_smp_over_http_needs_the_smp_url_and_its_ca(tmp_path: Path) -> None:
    text = HTTP.replace('smp_url = "https://smp.example.org/"\n', "").replace(
        'smp_ca = "smp-ca.pem"\n', ""
    )
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    problems = problems_of(exc)
    assert set(problems) == {"profiles.peppol-smp.smp_url", "profiles.peppol-smp.smp_ca"}
    assert problems["profiles.peppol-smp.smp_url"][0].startswith("this key to be present (role smp")
    assert str(tmp_path / "participant.toml") in str(exc.value)


def test_smp_ca_must_be_a_readable_pem_certificate(tmp_path: Path) -> None:
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, HTTP))
    expected, found = problems_of(exc)["profiles.peppol-smp.smp_ca"]
    assert "readable PEM file" in expected and str(tmp_path / "smp-ca.pem") in found
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, HTTP, b"not a certificate"))
    assert problems_of(exc)["profiles.peppol-smp.smp_ca"][0] == (
        "a PEM file with at least one CERTIFICATE block"
    )


def test_require_https_needs_an_https_url(tmp_path: Path, ca_pem: bytes) -> None:
    text = HTTP.replace("https://smp.example.org/", "http://smp.example.org").replace(
        "[profiles.peppol-smp]\n", "[profiles.peppol-smp]\nrequire_https = true\n"
    )
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text, ca_pem))
    assert problems_of(exc)["profiles.peppol-smp.smp_url"][0] == (
        "an https:// URL, since require_https = true"
    )
    plain = HTTP.replace("https://smp.example.org/", "http://smp.example.org")
    s = load_participant(write(tmp_path, plain, ca_pem)).profile("peppol-smp").smp
    assert s is not None and not s.require_https


def test_embedded_driver_runs_its_own_smp(tmp_path: Path) -> None:
    text = (
        reference_participant_path("peppol-smp")
        .read_text()
        .replace(
            'roles = ["smp", "ap"]', 'roles = ["smp", "ap"]\nsmp_url = "https://smp.example.org"'
        )
    )
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    assert "driver kind 'embedded'" in problems_of(exc)["profiles.peppol-smp.smp_url"][0]


@pytest.mark.parametrize("kind", ["folder", "prompt"])
def test_folder_and_prompt_cannot_drive_peppol_smp(tmp_path: Path, kind: str) -> None:
    (tmp_path / "docs").mkdir()
    text = f"""\
[participant]
name = "x"
profiles = ["peppol-smp"]
[driver]
kind = "{kind}"
folder = "docs"
[profiles.peppol-smp]
roles = ["ap"]
"""
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    expected, found = problems_of(exc)["profiles.peppol-smp.roles[0]"]
    assert "http or embedded" in expected and found == "the string 'ap'"


def test_keys_of_an_unclaimed_role_are_refused(tmp_path: Path) -> None:
    text = (
        reference_participant_path("peppol-smp")
        .read_text()
        .replace('roles = ["smp", "ap"]', 'roles = ["smp"]')
    )
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    assert (
        "unless role ap is claimed" in problems_of(exc)["profiles.peppol-smp.transport_profiles"][0]
    )


def test_variants_of_the_claimed_profiles_only(tmp_path: Path) -> None:
    base = reference_participant_path("peppol-smp").read_text()
    for name in ("case-sensitive-participants", "accepts-wrong-ca"):
        p = load_participant(
            write(tmp_path, base.replace('variant = "good"', f'variant = "{name}"'))
        )
        assert p.driver.variant == name
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(
            write(tmp_path, base.replace('variant = "good"', 'variant = "wrong-totals"'))
        )
    expected, _ = problems_of(exc)["driver.variant"]
    assert expected.startswith('"good" or a known-bad variant') and "accepts-wrong-ca" in expected
    assert "wrong-totals" not in expected  # a peppol-bis variant: that profile is not claimed


def test_peppol_smp_takes_no_rulesets(tmp_path: Path) -> None:
    text = (
        reference_participant_path("peppol-smp")
        .read_text()
        .replace('roles = ["smp", "ap"]', 'roles = ["smp", "ap"]\nrulesets = ["peppol-ubl-3.0.19"]')
    )
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    assert problems_of(exc)["profiles.peppol-smp.rulesets"][1] == "an unknown key"
