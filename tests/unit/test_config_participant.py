"""Participant files: schema validation, error messages, ${ENV} substitution, secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config import (
    Participant,
    ParticipantFileError,
    Secret,
    load_participant,
    reference_participant_path,
)
from harness.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

HTTP_FILE = """\
[participant]
name = "Example Bank trade platform"
profiles = ["peppol-bis"]

[driver]
kind = "http"
base_url = "https://platform.example/conformance/v1"
token = "${CONFORMANCE_DRIVER_TOKEN}"
timeout = 12.5

[profiles.peppol-bis]
roles = ["sender", "receiver"]
rulesets = ["peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1"]
"""

TOKEN = "s3cr3t-t0ken-value-9f2c"


def write(tmp_path: Path, text: str, name: str = "participant.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(exc: pytest.ExceptionInfo[ParticipantFileError]) -> dict[str, tuple[str, str]]:
    return {p.key: (p.expected, p.found) for p in exc.value.problems}


def test_http_participant_loads_with_substituted_token(tmp_path: Path) -> None:
    p = load_participant(write(tmp_path, HTTP_FILE), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert p.name == "Example Bank trade platform"
    assert p.profiles == ("peppol-bis",)
    assert p.driver.kind == "http"
    assert p.driver.base_url == "https://platform.example/conformance/v1"
    assert p.driver.timeout == 12.5
    assert isinstance(p.driver.token, Secret) and p.driver.token.reveal() == TOKEN
    claim = p.profile("peppol-bis")
    assert claim.roles == ("sender", "receiver")
    assert claim.rulesets == ("peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1")
    assert p.secrets == (TOKEN,)
    assert p.source == tmp_path / "participant.toml"


def test_secret_never_in_repr_str_or_public_view(tmp_path: Path) -> None:
    p = load_participant(write(tmp_path, HTTP_FILE), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert TOKEN not in repr(p)
    assert TOKEN not in str(p)
    assert TOKEN not in repr(p.driver)
    view = p.public_view()
    assert TOKEN not in json.dumps(view)
    assert view["driver"]["token"] == "[REDACTED]"
    assert view["claims"]["peppol-bis"]["rulesets"] == ["peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1"]


def test_redact_replaces_secrets_in_text_and_bytes(tmp_path: Path) -> None:
    p = load_participant(write(tmp_path, HTTP_FILE), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert p.redact(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer [REDACTED]"
    assert p.redact(f"x{TOKEN}y".encode()) == b"x[REDACTED]y"


def test_password_in_base_url_is_a_secret(tmp_path: Path) -> None:
    text = HTTP_FILE.replace("https://platform.example", "https://bob:hunter22@platform.example")
    p = load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert "hunter22" in p.secrets
    assert "hunter22" not in json.dumps(p.public_view())
    assert p.public_view()["driver"]["base_url"].startswith("https://bob:[REDACTED]@platform.example")


def test_missing_env_var_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, HTTP_FILE)
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path, environ={})
    assert problems_of(exc)["driver.token"][0].startswith("environment variable CONFORMANCE_DRIVER_TOKEN")
    message = str(exc.value)
    assert str(path) in message
    assert "CONFORMANCE_DRIVER_TOKEN is not set" in message


def test_empty_env_var_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, HTTP_FILE), environ={"CONFORMANCE_DRIVER_TOKEN": ""})
    assert "set but empty" in problems_of(exc)["driver.token"][1]


def test_unknown_key_names_key_path_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, HTTP_FILE.replace("timeout = 12.5", "tiemout = 12.5"))
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path, environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    expected, found = problems_of(exc)["driver.tiemout"]
    assert found == "an unknown key"
    assert "did you mean `timeout`?" in expected
    assert "key `driver.tiemout`" in str(exc.value)
    assert str(path) in str(exc.value)


def test_unknown_top_level_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, HTTP_FILE + '\n[extras]\nfoo = 1\n')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path, environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert problems_of(exc)["extras"][1] == "an unknown key"


def test_wrong_type_names_key_expected_and_found(tmp_path: Path) -> None:
    path = write(tmp_path, HTTP_FILE.replace("timeout = 12.5", 'timeout = "30"'))
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path, environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert problems_of(exc) == {"driver.timeout": ("a number", "the string '30'")}
    assert "key `driver.timeout`: expected a number; found the string '30'" in str(exc.value)


def test_wrong_type_of_secret_does_not_show_its_value(tmp_path: Path) -> None:
    path = write(tmp_path, HTTP_FILE.replace('token = "${CONFORMANCE_DRIVER_TOKEN}"', "token = 918273645"))
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path, environ={})
    assert "918273645" not in str(exc.value)
    assert problems_of(exc)["driver.token"] == ("a string", "an integer (value hidden: it is a secret)")


def test_array_items_are_addressed_by_position(tmp_path: Path) -> None:
    path = write(tmp_path, HTTP_FILE.replace('roles = ["sender", "receiver"]', 'roles = ["sender", "reciever"]'))
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path, environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    expected, found = problems_of(exc)["profiles.peppol-bis.roles[1]"]
    assert "did you mean 'receiver'?" in expected
    assert found == "the string 'reciever'"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = HTTP_FILE.replace('kind = "http"', 'kind = "http"\ncolour = "red"').replace(
        "timeout = 12.5", "timeout = -1"
    )
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert set(problems_of(exc)) == {"driver.colour", "driver.timeout"}
    assert problems_of(exc)["driver.timeout"] == ("a number greater than 0", "the number -1")


def test_kind_specific_keys(tmp_path: Path) -> None:
    text = HTTP_FILE.replace('base_url = "https://platform.example/conformance/v1"', 'folder = "docs"')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    found = problems_of(exc)
    assert found["driver.base_url"] == ("this key to be present (driver kind 'http' needs it)", "no such key")
    assert "only kind folder, prompt uses it" in found["driver.folder"][0]


def test_unknown_driver_kind(tmp_path: Path) -> None:
    text = HTTP_FILE.replace('kind = "http"', 'kind = "htpp"')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    expected, found = problems_of(exc)["driver.kind"]
    assert expected.startswith('one of "http", "prompt", "folder", "embedded"')
    assert found == "the string 'htpp'"


def test_bad_base_url(tmp_path: Path) -> None:
    text = HTTP_FILE.replace("https://platform.example/conformance/v1", "platform.example")
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert problems_of(exc)["driver.base_url"][0].startswith("an http:// or https:// URL")


def test_base_url_from_env_is_checked_after_substitution(tmp_path: Path) -> None:
    text = HTTP_FILE.replace("https://platform.example/conformance/v1", "${PARTICIPANT_URL}")
    env = {"CONFORMANCE_DRIVER_TOKEN": TOKEN, "PARTICIPANT_URL": "ftp://nowhere"}
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ=env)
    assert problems_of(exc)["driver.base_url"] == (
        "an http:// or https:// URL with a host",
        "the string 'ftp://nowhere'",
    )
    env["PARTICIPANT_URL"] = "http://127.0.0.1:8080/"
    assert load_participant(write(tmp_path, text), environ=env).driver.base_url == "http://127.0.0.1:8080"


def test_claimed_profile_needs_its_table_and_vice_versa(tmp_path: Path) -> None:
    text = HTTP_FILE.split("[profiles.peppol-bis]")[0]
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert problems_of(exc)["profiles.peppol-bis"][1] == "no such table"


def test_unsupported_profile(tmp_path: Path) -> None:
    text = HTTP_FILE.replace('profiles = ["peppol-bis"]', 'profiles = ["peppol-bis", "tradetrust"]')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert problems_of(exc)["participant.profiles[1]"] == ('one of "peppol-bis", "peppol-smp"', "the string 'tradetrust'")


def test_folder_driver_cannot_claim_receiver(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    text = """\
[participant]
name = "Folder sender"
profiles = ["peppol-bis"]
[driver]
kind = "folder"
folder = "docs"
[profiles.peppol-bis]
roles = ["sender", "receiver"]
rulesets = ["peppol-ubl-3.0.19"]
"""
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    assert "use kind http, prompt or embedded" in problems_of(exc)["profiles.peppol-bis.roles[1]"][0]
    p = load_participant(write(tmp_path, text.replace('"sender", "receiver"', '"sender"')))
    assert p.driver.folder == tmp_path / "docs"  # relative to the participant file
    assert p.driver.timeout == 0.0


def test_folder_must_exist_for_folder_driver(tmp_path: Path) -> None:
    text = """\
[participant]
name = "Folder sender"
profiles = ["peppol-bis"]
[driver]
kind = "folder"
folder = "missing"
[profiles.peppol-bis]
roles = ["sender"]
rulesets = ["peppol-ubl-3.0.19"]
"""
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    assert "does not exist" in problems_of(exc)["driver.folder"][1]


def test_embedded_variant_must_be_known(tmp_path: Path) -> None:
    text = reference_participant_path().read_text().replace('variant = "good"', 'variant = "no-such-variant"')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text))
    assert problems_of(exc)["driver.variant"][0].startswith('"good" or a known-bad variant')


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[participant\nname = 1\n")
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(path)
    assert exc.value.problems[0].expected == "valid TOML"
    assert "line 1" in exc.value.problems[0].found


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_participant(tmp_path / "nope.toml")


def test_reference_participant_file() -> None:
    p = load_participant(reference_participant_path())
    assert p.name == "Harness reference participant"
    assert p.driver.kind == "embedded" and p.driver.variant == "good"
    assert p.profile("peppol-bis").roles == ("sender", "receiver")
    assert p.profile("peppol-bis").rulesets == ("peppol-ubl-3.0.19", "pint-sg-ubl-1.4.1")
    assert p.secrets == ()


def test_fixture_reference_is_the_packaged_file() -> None:
    fixture = REPO / "fixtures" / "participants" / "reference.toml"
    assert fixture.is_symlink()
    assert fixture.resolve() == reference_participant_path().resolve()


@pytest.mark.parametrize(
    "path", sorted((REPO / "fixtures" / "participants").rglob("*.toml")), ids=lambda p: p.name
)
def test_every_sample_participant_file_loads(path: Path) -> None:
    p = load_participant(path, environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert isinstance(p, Participant)


def test_profile_not_claimed_is_a_config_error() -> None:
    p = load_participant(reference_participant_path())
    with pytest.raises(ConfigError, match="does not claim profile 'tradetrust'"):
        p.profile("tradetrust")


def test_unknown_rule_set_is_named_with_a_suggestion(tmp_path: Path) -> None:
    text = HTTP_FILE.replace('"pint-sg-ubl-1.4.1"', '"pint-sg-ubl-1.4.2"')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    expected, found = problems_of(exc)["profiles.peppol-bis.rulesets[1]"]
    assert "did you mean 'pint-sg-ubl-1.4.1'?" in expected
    assert found == "the string 'pint-sg-ubl-1.4.2'"


def test_malformed_rule_set_id(tmp_path: Path) -> None:
    text = HTTP_FILE.replace('"pint-sg-ubl-1.4.1"', '"PINT SG"')
    with pytest.raises(ParticipantFileError) as exc:
        load_participant(write(tmp_path, text), environ={"CONFORMANCE_DRIVER_TOKEN": TOKEN})
    assert problems_of(exc)["profiles.peppol-bis.rulesets[1]"][0].startswith("a rule-set id <family>-<syntax>-<version>")


def test_prompt_folder_defaults_next_to_the_file(tmp_path: Path) -> None:
    text = """\
[participant]
name = "Manual"
profiles = ["peppol-bis"]
[driver]
kind = "prompt"
[profiles.peppol-bis]
roles = ["sender", "receiver"]
rulesets = ["peppol-ubl-3.0.19"]
"""
    p = load_participant(write(tmp_path, text))
    assert p.driver.folder == tmp_path / "conformance-inbox"
    assert p.driver.timeout == 300.0


def test_one_sample_participant_per_known_bad_variant() -> None:
    from harness.reference.peppol_variants import VARIANTS

    folder = REPO / "fixtures" / "participants" / "known-bad"
    files = {p.stem: p for p in folder.glob("*.toml")}
    assert set(files) == set(VARIANTS)
    reference = load_participant(reference_participant_path())
    for name, path in files.items():
        p = load_participant(path)
        assert p.driver.kind == "embedded" and p.driver.variant == name
        assert p.claims == reference.claims  # same claims as the reference: only the fault differs
