"""Per-test check recorder handed to suites as the ``checks`` fixture (pytest-free).

A suite test records one :class:`~harness.report.model.CheckResult` per assertion it makes about
the participant; the plugin ships them to the controller through the test report, so they
survive pytest-xdist. ``verify()`` turns recorded failures into a test failure, so pytest's own
outcome (and exit code) agrees with the certification verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.report.model import CheckResult, Outcome


class ConformanceFailure(AssertionError):
    """Raised by :meth:`CheckRecorder.verify` when a recorded check failed."""


@dataclass
class CheckRecorder:
    test: str
    profile: str | None
    replay: str | None
    default_requirements: tuple[str, ...] = ()
    checks: list[CheckResult] = field(default_factory=list)

    def record(
        self,
        requirements: Iterable[str] | str,
        outcome: Outcome | str,
        message: str = "",
        *,
        evidence: Iterable[str] = (),
        scenario: str | None = None,
        location: str | None = None,
        no_traffic: bool = False,
    ) -> CheckResult:
        reqs = (requirements,) if isinstance(requirements, str) else tuple(requirements)
        check = CheckResult(
            test=self.test,
            requirements=reqs,
            outcome=Outcome(outcome),
            message=message,
            evidence=tuple(evidence),
            replay=self.replay,
            scenario=scenario,
            no_traffic=no_traffic,
            location=location,
            profile=self.profile,
        )
        self.checks.append(check)
        return check

    def passed(self, requirements: Iterable[str] | str, message: str = "", **kw: object) -> CheckResult:
        return self.record(requirements, Outcome.PASS, message, **kw)  # type: ignore[arg-type]

    def failed(self, requirements: Iterable[str] | str, message: str, **kw: object) -> CheckResult:
        return self.record(requirements, Outcome.FAIL, message, **kw)  # type: ignore[arg-type]

    def errored(self, requirements: Iterable[str] | str, message: str, **kw: object) -> CheckResult:
        return self.record(requirements, Outcome.ERROR, message, **kw)  # type: ignore[arg-type]

    def check(
        self, condition: bool, requirements: Iterable[str] | str, message: str, **kw: object
    ) -> bool:
        """Record pass when ``condition`` holds, else fail with ``message``; return ``condition``."""
        self.record(requirements, Outcome.PASS if condition else Outcome.FAIL, "" if condition else message, **kw)  # type: ignore[arg-type]
        return condition

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome is Outcome.FAIL]

    def verify(self) -> None:
        """Fail the test if any recorded check failed (message lists them, most useful first)."""
        failures = self.failures
        errors = [c for c in self.checks if c.outcome is Outcome.ERROR]
        if not failures and not errors:
            return
        lines = [f"{len(failures)} check(s) failed, {len(errors)} errored:"]
        for c in (failures + errors)[:25]:
            where = f" at {c.location}" if c.location else ""
            lines.append(f"  [{c.outcome.value}] {', '.join(c.requirements)}{where}: {c.message}")
        if len(failures) + len(errors) > 25:
            lines.append(f"  ... and {len(failures) + len(errors) - 25} more (see report.json)")
        raise ConformanceFailure("\n".join(lines))
