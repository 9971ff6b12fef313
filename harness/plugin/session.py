"""The active part of the plugin, registered only when ``--participant`` is given.

Data flow (works the same serially and under pytest-xdist):

* every process that runs tests attaches the checks of each test to the test report
  (``user_properties``), which xdist serialises back to the controller;
* evidence is written straight into the run folder by whichever process produced it
  (content-addressed, so workers never collide);
* only the controller (or the single process of a serial run) assembles the report, writes its
  projections and seals the run folder at session end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import secrets
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.plugin.recorder import CheckRecorder, ConformanceFailure
from harness.report.model import CheckResult, Outcome

CHECKS_PROPERTY = "conformance.checks"
recorder_key = pytest.StashKey[CheckRecorder]()


def new_run_id(now: dt.datetime | None = None) -> str:
    """Run id ``YYYYMMDDTHHMMSSZ-<6 hex>`` (UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def seed_from_run_id(run_id: str) -> int:
    """The campaign seed used when none is given: derived from (and recorded with) the run id."""
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4], "big")


@dataclass
class RunContext:
    """What every process of a run agrees on (the controller hands it to xdist workers)."""

    run_id: str
    run_dir: Path
    seed: int
    participant_path: Path
    profiles: tuple[str, ...]
    sign_key: str | None
    started: str
    campaign_budget: int | None = None
    worker_id: str = "main"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_worker(self) -> bool:
        return self.worker_id != "main"

    def replay_command(self, profile: str | None, test_name: str) -> str:
        parts = ["conformance", "run", "--participant", str(self.participant_path)]
        if profile:
            parts += ["--profile", profile]
        parts += ["--seed", str(self.seed), "--", "-k", test_name]
        return " ".join(shlex.quote(p) for p in parts)


class ConformanceSession:
    """Plugin object holding the run context; see the module docstring for the data flow."""

    def __init__(self, config: pytest.Config) -> None:
        from harness.config.participant import load_participant
        from harness.profiles import get_profile

        self.config = config
        workerinput: dict[str, Any] = getattr(config, "workerinput", {}) or {}
        try:
            if workerinput.get("conformance_run_dir"):
                self.ctx = RunContext(
                    run_id=workerinput["conformance_run_id"],
                    run_dir=Path(workerinput["conformance_run_dir"]),
                    seed=int(workerinput["conformance_seed"]),
                    participant_path=Path(workerinput["conformance_participant"]),
                    profiles=tuple(workerinput["conformance_profiles"]),
                    sign_key=None,
                    started=workerinput["conformance_started"],
                    campaign_budget=workerinput.get("conformance_campaign_budget"),
                    worker_id=str(workerinput.get("workerid", "gw?")),
                )
                self.participant = load_participant(self.ctx.participant_path)
            else:
                participant_path = Path(config.getoption("participant")).resolve()
                self.participant = load_participant(participant_path)
                run_id = config.getoption("conformance_run_id") or new_run_id()
                report_dir = Path(config.getoption("report_dir") or "reports").resolve()
                seed = config.getoption("seed")
                profiles = tuple(config.getoption("profile") or self.participant.profiles)
                for p in profiles:
                    get_profile(p)
                    if p not in self.participant.profiles:
                        raise HarnessError(
                            f"{participant_path}: profile {p!r} is not claimed by the participant"
                            f" (participant.profiles = {list(self.participant.profiles)})"
                        )
                self.ctx = RunContext(
                    run_id=run_id,
                    run_dir=report_dir / run_id,
                    seed=int(seed) if seed is not None else seed_from_run_id(run_id),
                    participant_path=participant_path,
                    profiles=profiles,
                    sign_key=config.getoption("sign_key"),
                    started=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    campaign_budget=config.getoption("campaign_budget"),
                )
                self.ctx.run_dir.mkdir(parents=True, exist_ok=False)
                self._collect_suites_by_default(config)
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.checks: list[CheckResult] = []
        self.report_path: Path | None = None
        self.verdicts: dict[str, str] = {}

    def _collect_suites_by_default(self, config: pytest.Config) -> None:
        """Plain ``pytest --participant P`` with no paths runs the selected profiles' suites
        (not the current project's tests)."""
        from harness.profiles import get_profile

        if config.args_source is not pytest.Config.ArgsSource.ARGS:
            config.args[:] = [str(get_profile(p).suite_dir) for p in self.ctx.profiles]

    # -- xdist ---------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput.update(
            conformance_run_dir=str(self.ctx.run_dir),
            conformance_run_id=self.ctx.run_id,
            conformance_seed=self.ctx.seed,
            conformance_participant=str(self.ctx.participant_path),
            conformance_profiles=list(self.ctx.profiles),
            conformance_started=self.ctx.started,
            conformance_campaign_budget=self.ctx.campaign_budget,
        )

    # -- collection ----------------------------------------------------------------------

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Keep only tests of the selected profiles (a suite test names its profile)."""
        keep, drop = [], []
        for item in items:
            marker = item.get_closest_marker("profile")
            if marker is None or marker.args[0] in self.ctx.profiles:
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    # -- per test ------------------------------------------------------------------------

    def recorder_for(self, item: pytest.Item) -> CheckRecorder:
        rec = item.stash.get(recorder_key, None)
        if rec is None:
            profile = _profile_of(item)
            rec = CheckRecorder(
                test=test_id(item),
                profile=profile,
                replay=self.ctx.replay_command(profile, item.name),
                default_requirements=_requirements_of(item),
            )
            item.stash[recorder_key] = rec
        return rec

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
        outcome = yield
        rep: pytest.TestReport = outcome.get_result()
        rec = self.recorder_for(item)
        reqs = rec.default_requirements
        checks: list[CheckResult] = []
        if rep.when == "call":
            checks = list(rec.checks)
            excinfo = call.excinfo
            if excinfo is not None and not excinfo.errisinstance((ConformanceFailure, pytest.skip.Exception)):
                if excinfo.errisinstance(AssertionError) and reqs:
                    checks.append(_synth(rec, reqs, Outcome.FAIL, _short(rep)))
                elif not excinfo.errisinstance(AssertionError):
                    checks.append(
                        _synth(
                            rec,
                            reqs or ("HARNESS",),
                            Outcome.ERROR,
                            f"harness or participant error, no judgement possible: {excinfo.typename}: {excinfo.value}",
                        )
                    )
            elif rep.passed and rec.failures:
                # The test recorded failures but did not call checks.verify(): keep pytest's
                # outcome consistent with the verdict.
                rep.outcome = "failed"
                rep.longrepr = "\n".join(
                    f"[fail] {', '.join(c.requirements)}: {c.message}" for c in rec.failures[:25]
                )
            if not checks and reqs:
                outcome_map = {"passed": Outcome.PASS, "failed": Outcome.FAIL, "skipped": Outcome.SKIP}
                checks.append(_synth(rec, reqs, outcome_map[rep.outcome], _short(rep)))
        elif rep.when == "setup" and not rep.passed:
            if rep.skipped:
                checks.append(_synth(rec, reqs, Outcome.SKIP, _short(rep))) if reqs else None
            else:
                checks.append(
                    _synth(rec, reqs or ("HARNESS",), Outcome.ERROR, f"setup failed: {_short(rep)}")
                )
        if checks:
            rep.user_properties.append((CHECKS_PROPERTY, [c.to_json() for c in checks]))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.ctx.is_worker:
            return
        for name, value in report.user_properties:
            if name == CHECKS_PROPERTY and isinstance(value, list):
                self.checks.extend(CheckResult.from_json(v) for v in value)

    # -- end of run ----------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.ctx.is_worker:
            return
        from harness.plugin.reporting import write_report

        self.report_path, self.verdicts = write_report(self, session, exitstatus)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.ctx.is_worker or self.report_path is None:
            return
        tr = terminalreporter
        tr.section("conformance")
        for profile, verdict in self.verdicts.items():
            tr.write_line(f"{profile}: {verdict}")
        tr.write_line(f"report: {self.report_path.parent}")


def test_id(item: pytest.Item) -> str:
    """Node id with the path relative to the suites' parent (stable wherever they are installed)."""
    path = Path(str(item.path))
    parts = path.parts
    if "suites" in parts:
        i = len(parts) - 1 - list(reversed(parts)).index("suites")
        rel = "/".join(parts[i:])
        return rel + item.nodeid[item.nodeid.index("::") :] if "::" in item.nodeid else rel
    return item.nodeid


def _profile_of(item: pytest.Item) -> str | None:
    m = item.get_closest_marker("profile")
    return str(m.args[0]) if m else None


def _requirements_of(item: pytest.Item) -> tuple[str, ...]:
    ids: list[str] = []
    for m in item.iter_markers("requirement"):
        ids.extend(str(a) for a in m.args)
    return tuple(dict.fromkeys(ids))


def _synth(rec: CheckRecorder, reqs: tuple[str, ...], outcome: Outcome, message: str) -> CheckResult:
    return CheckResult(
        test=rec.test, requirements=reqs, outcome=outcome, message=message, replay=rec.replay,
        profile=rec.profile,
    )


def _short(rep: pytest.TestReport) -> str:
    if rep.passed:
        return ""
    text = getattr(rep, "longreprtext", "") or str(rep.longrepr or "")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if rep.skipped and isinstance(rep.longrepr, tuple):
        return str(rep.longrepr[2])
    errs = [ln for ln in lines if ln.startswith("E ")]
    return " ".join(errs or lines[-1:])[:2000]


def environment() -> dict[str, Any]:
    """The environment a report records (no hostnames or user names: reports get shared)."""
    import importlib.metadata as md

    versions = {}
    for dist in ("pytest", "hypothesis", "lxml", "saxonche", "cryptography", "pytest-xdist"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
        "packages": versions,
        "xdist_workers": os.environ.get("PYTEST_XDIST_WORKER_COUNT"),
    }


def write_observed(ctx: RunContext, key: str, value: Any) -> None:
    """Record a fact the harness observed of the participant (merged into the report)."""
    folder = ctx.run_dir / ".observed"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ctx.worker_id}.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"key": key, "value": value}, sort_keys=True) + "\n")
