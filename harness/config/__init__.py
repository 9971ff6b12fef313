"""Participant configuration: load and validate participant files (see :mod:`.participant`)."""

from harness.config.participant import (
    ConfigProblem,
    DriverConfig,
    Participant,
    ParticipantFileError,
    ProfileClaim,
    Secret,
    load_participant,
    parse_participant,
    redact,
    reference_participant_path,
)

__all__ = [
    "ConfigProblem",
    "DriverConfig",
    "Participant",
    "ParticipantFileError",
    "ProfileClaim",
    "Secret",
    "load_participant",
    "parse_participant",
    "redact",
    "reference_participant_path",
]
