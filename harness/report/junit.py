"""``junit.xml``: the run for CI systems that read JUnit XML.

One ``<testsuite>`` per claimed profile (checks that belong to no claimed profile go to a
``conformance`` suite), one ``<testcase>`` per check, with the requirement ids as repeated
``<property name="requirement">`` elements. ``fail`` -> ``<failure>``, ``error`` -> ``<error>``,
``skip`` -> ``<skipped>``; ``warning`` and ``not-applicable`` are passing test cases whose
``outcome`` property says so. Each profile also gets one ``profile verdict`` test case that fails
unless the profile is CONFORMANT, so a CI dashboard never shows green for an INCONCLUSIVE run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from harness.report.builder import RunReport
from harness.report.model import CheckResult, Outcome, ProfileResult, Verdict

# Characters XML 1.0 cannot carry at all; replaced so a hostile message cannot break the file.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", "" if text is None else str(text))


def _classname(test: str) -> str:
    """``suites/peppol_bis/test_outbound.py::TestX::test_y[p]`` -> ``suites.peppol_bis.test_outbound.TestX``."""
    path, _, rest = test.partition("::")
    module = path.removesuffix(".py")
    parts = [module.replace("/", ".")]
    inner = rest.split("::")[:-1]
    parts += inner
    return ".".join(p for p in parts if p)


def _casename(check: CheckResult) -> str:
    name = check.test.rsplit("::", 1)[-1]
    if check.requirements:
        name += f" [{', '.join(check.requirements)}]"
    if check.location:
        name += f" @ {check.location}"
    return name


def _add_properties(case: ET.Element, check: CheckResult, evidence_path: dict[str, str]) -> None:
    props = ET.SubElement(case, "properties")
    for rid in check.requirements:
        ET.SubElement(props, "property", name="requirement", value=_x(rid))
    ET.SubElement(props, "property", name="outcome", value=check.outcome.value)
    for key in ("profile", "scenario", "location", "replay"):
        value = getattr(check, key)
        if value:
            ET.SubElement(props, "property", name=key, value=_x(value))
    if check.no_traffic:
        ET.SubElement(props, "property", name="no_traffic", value="true")
    for digest in check.evidence:
        ET.SubElement(
            props, "property", name="evidence", value=_x(evidence_path.get(digest, digest))
        )


def _detail(check: CheckResult) -> str:
    lines = [check.message]
    if check.location:
        lines.append(f"location: {check.location}")
    if check.replay:
        lines.append(f"replay: {check.replay}")
    return _x("\n".join(line for line in lines if line))


def _verdict_case(suite: ET.Element, profile: ProfileResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname="conformance.verdict",
        name=f"profile verdict: {profile.profile}",
    )
    props = ET.SubElement(case, "properties")
    ET.SubElement(props, "property", name="verdict", value=profile.verdict.value)
    if profile.verdict is not Verdict.CONFORMANT:
        failure = ET.SubElement(
            case,
            "failure",
            message=_x(f"{profile.profile} is {profile.verdict.value}"),
            type=profile.verdict.value,
        )
        failure.text = _x("\n".join(profile.reasons))


def render_junit(report: RunReport) -> bytes:
    """The bytes of ``junit.xml`` for ``report`` (UTF-8, with XML declaration)."""
    claimed = {p.profile for p in report.profiles}
    index_of = {id(c): i for i, c in enumerate(report.checks)}
    profile_of_index: dict[int, str] = {}
    for p in report.profiles:
        for res in p.requirements:
            for i in res.checks:
                profile_of_index.setdefault(i, p.profile)
    grouped: dict[str, list[CheckResult]] = {}
    for check in report.checks:
        if check.profile in claimed:
            suite_name = str(check.profile)
        else:
            suite_name = profile_of_index.get(index_of[id(check)], "conformance")
        grouped.setdefault(suite_name, []).append(check)
    evidence_path = {e.digest: e.path for e in report.evidence}

    root = ET.Element("testsuites", name=_x(f"conformance run {report.meta.run_id}"))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    suite_names = sorted(set(grouped) | claimed)
    for name in suite_names:
        checks: Sequence[CheckResult] = grouped.get(name, [])
        suite = ET.SubElement(root, "testsuite", name=_x(name), timestamp=_x(report.meta.started))
        sprops = ET.SubElement(suite, "properties")
        ET.SubElement(sprops, "property", name="run_id", value=_x(report.meta.run_id))
        ET.SubElement(sprops, "property", name="seed", value=str(report.meta.seed))
        ET.SubElement(
            sprops, "property", name="harness_version", value=_x(report.meta.harness_version)
        )
        profile = next((p for p in report.profiles if p.profile == name), None)
        if profile is not None:
            ET.SubElement(sprops, "property", name="verdict", value=profile.verdict.value)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        time = 0.0
        for check in checks:
            case = ET.SubElement(
                suite, "testcase", classname=_x(_classname(check.test)), name=_x(_casename(check))
            )
            if check.duration is not None:
                case.set("time", f"{check.duration:.3f}")
                time += check.duration
            _add_properties(case, check, evidence_path)
            counts["tests"] += 1
            if check.outcome is Outcome.FAIL:
                el = ET.SubElement(case, "failure", message=_x(check.message), type="fail")
                el.text = _detail(check)
                counts["failures"] += 1
            elif check.outcome is Outcome.ERROR:
                el = ET.SubElement(case, "error", message=_x(check.message), type="error")
                el.text = _detail(check)
                counts["errors"] += 1
            elif check.outcome is Outcome.SKIP:
                ET.SubElement(case, "skipped", message=_x(check.message))
                counts["skipped"] += 1
            elif check.outcome is Outcome.WARNING:
                out = ET.SubElement(case, "system-out")
                out.text = _x(f"warning: {_detail(check)}")
        if profile is not None:
            _verdict_case(suite, profile)
            counts["tests"] += 1
            if profile.verdict is not Verdict.CONFORMANT:
                counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{time:.3f}")
        total_time += time
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
