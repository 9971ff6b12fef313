"""``report.html``: the run report for people (a regulator, a certifier, the participant's team).

Standalone: one file, inline CSS, no script, no external asset, every value escaped. Reading
order is the order of questions a reader has: *what is the verdict and why* (first, in big
letters), *what was certified* (scope: profiles, roles, rule sets and their provenance, what was
not tested and why), *who sealed it* (signing), *which requirement failed and on what evidence*
(one table per profile, failures first and open, passes collapsed), and *how to reproduce it*.
Links to evidence are relative to the run folder, so the folder can be moved or zipped.
"""

from __future__ import annotations

import json
import shlex
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from harness.report.builder import EPHEMERAL_SENTENCE, RunReport
from harness.report.model import (
    CheckResult,
    Level,
    Outcome,
    ProfileResult,
    RequirementResult,
    RequirementStatus,
    Verdict,
)

THIRD_PARTY = "third-party copy"

_VERDICT_CLASS = {
    Verdict.CONFORMANT: "v-ok",
    Verdict.PARTIALLY_CONFORMANT: "v-partial",
    Verdict.INCONCLUSIVE: "v-inconclusive",
    Verdict.NON_CONFORMANT: "v-bad",
}
_VERDICT_MEANING = {
    Verdict.CONFORMANT: "Every requirement in scope that was tested passed, and every claimed"
    " MUST requirement was tested.",
    Verdict.PARTIALLY_CONFORMANT: "No MUST requirement failed, but at least one SHOULD"
    " requirement did.",
    Verdict.INCONCLUSIVE: "No MUST requirement failed, but the harness could not judge every"
    " MUST requirement (an error, a requirement not tested, or a scenario with no traffic)."
    " This is not a pass.",
    Verdict.NON_CONFORMANT: "At least one MUST requirement failed.",
}
_STATUS_ORDER = {
    RequirementStatus.FAILED: 0,
    RequirementStatus.INCONCLUSIVE: 1,
    RequirementStatus.NOT_TESTED: 2,
    RequirementStatus.PASSED: 3,
    RequirementStatus.NOT_APPLICABLE: 4,
}
_LEVEL_ORDER = {Level.MUST: 0, Level.SHOULD: 1, Level.MAY: 2}
_OUTCOME_CLASS = {
    Outcome.PASS: "o-pass",
    Outcome.FAIL: "o-fail",
    Outcome.ERROR: "o-error",
    Outcome.SKIP: "o-skip",
    Outcome.NOT_APPLICABLE: "o-na",
    Outcome.WARNING: "o-warn",
}

CSS = """
:root { --ok:#146c2e; --partial:#8a5a00; --inc:#5b3c88; --bad:#a1141b; --muted:#555; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #111; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 0 1.2rem 3rem; }
header.verdict { padding: 1.5rem 1.2rem; color: #fff; }
header.verdict .inner { max-width: 1200px; margin: 0 auto; }
.v-ok { background: var(--ok); } .v-partial { background: var(--partial); }
.v-inconclusive { background: var(--inc); } .v-bad { background: var(--bad); }
.verdict-label { text-transform: uppercase; letter-spacing: .1em; margin: 0; opacity: .9; }
.verdict-text { font-size: 3.2rem; line-height: 1.1; margin: .2rem 0 .6rem; font-weight: 800; }
header.verdict a { color: #fff; }
header.verdict ul { margin: .3rem 0; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .3rem; font-weight: 700;
  font-size: .85em; color: #fff; white-space: nowrap; }
.third-party { background: #c2410c; color: #fff; padding: .1rem .5rem; font-weight: 800;
  border-radius: .3rem; text-transform: uppercase; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
td.wrap, .msg { white-space: pre-wrap; word-break: break-word; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em;
  word-break: break-all; }
tr.s-failed > td { background: #fde8e8; }
tr.s-failed > td:first-child { border-left: 6px solid var(--bad); }
tr.s-inconclusive > td { background: #f1ebfa; }
tr.s-inconclusive > td:first-child { border-left: 6px solid var(--inc); }
tr.s-not-tested > td:first-child { border-left: 6px solid #999; }
.st-failed { background: var(--bad); } .st-inconclusive { background: var(--inc); }
.st-not-tested { background: #777; } .st-passed { background: var(--ok); }
.st-not-applicable { background: #999; }
.o-fail, .o-error { color: var(--bad); font-weight: 700; } .o-pass { color: var(--ok); }
.o-warn { color: var(--partial); font-weight: 700; } .o-na, .o-skip { color: var(--muted); }
details { margin: .2rem 0; } summary { cursor: pointer; }
tr.checks > td { padding-top: 0; }
.note { border-left: 4px solid #c2410c; background: #fff4ec; padding: .5rem .8rem; }
.muted { color: var(--muted); }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
h2 { border-bottom: 2px solid #222; padding-bottom: .2rem; margin-top: 2rem; }
@media print { details { display: block; } header.verdict { -webkit-print-color-adjust: exact;
  print-color-adjust: exact; } }
"""


def _e(value: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    return escape("" if value is None else str(value), quote=True)


def _verdict_words(verdict: Verdict) -> str:
    return verdict.value.replace("_", " ")


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links leave the report; anything else (javascript:, data:) is shown as text."""
    if not url:
        return None
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    return url if scheme in ("http", "https") else None


def _kv_rows(mapping: Mapping[str, Any]) -> str:
    rows = []
    for key in sorted(mapping):
        value = mapping[key]
        if isinstance(value, (dict, list, tuple)):
            text = json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True)
            cell = f'<td class="wrap mono">{_e(text)}</td>'
        else:
            cell = f'<td class="wrap">{_e(value)}</td>'
        rows.append(f'<tr><th scope="row">{_e(key)}</th>{cell}</tr>')
    return "".join(rows) or '<tr><td class="muted">(none recorded)</td></tr>'


class _Renderer:
    def __init__(self, report: RunReport) -> None:
        self.r = report
        self.out: list[str] = []

    def w(self, *parts: str) -> None:
        self.out.extend(parts)

    # -- sections ---------------------------------------------------------------------------------

    def render(self) -> str:
        r = self.r
        name = r.meta.participant.get("name") or "(unnamed participant)"
        self.w(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{_e(_verdict_words(r.verdict))}: conformance report for {_e(name)}"
            f" (run {_e(r.meta.run_id)})</title>\n",
            f"<style>{CSS}</style>\n</head>\n<body>\n",
        )
        self.verdict(name)
        self.w("<main>\n")
        self.nav()
        self.scope()
        self.signing()
        for profile in r.profiles:
            self.profile(profile)
        self.orphans()
        self.reproducibility()
        self.w(
            '<footer class="muted"><p>Written by the Trade Conformance Harness'
            f" {_e(r.meta.harness_version)} (report schema {_e(r.schema_version)}). The machine-"
            "readable source of this page is <code>report.json</code> in the same folder;"
            " <code>attestation.json</code> seals every file of the folder.</p></footer>\n",
            "</main>\n</body>\n</html>\n",
        )
        return "".join(self.out)

    def verdict(self, name: str) -> None:
        r = self.r
        self.w(
            f'<header class="verdict {_VERDICT_CLASS[r.verdict]}" id="verdict">'
            '<div class="inner">\n<p class="verdict-label">Verdict</p>\n',
            f'<h1 class="verdict-text">{_e(_verdict_words(r.verdict))}</h1>\n',
            f"<p><strong>{_e(name)}</strong> &middot; run <code>{_e(r.meta.run_id)}</code>"
            f" &middot; {_e(r.meta.started)}"
            f"{' to ' + _e(r.meta.finished) if r.meta.finished else ''}"
            f" &middot; exit code {r.exit_code}</p>\n",
            f"<p>{_e(_VERDICT_MEANING[r.verdict])}</p>\n",
        )
        if r.reasons:
            self.w('<p><strong>Why:</strong></p>\n<ul class="reasons">')
            for reason in r.reasons:
                self.w(f"<li>{_e(reason)}</li>")
            self.w("</ul>\n")
        if r.profiles:
            self.w(
                "<table><thead><tr><th>Profile</th><th>Roles claimed</th><th>Verdict</th>"
                "<th>Requirements</th></tr></thead><tbody>"
            )
            for p in r.profiles:
                self.w(
                    f'<tr><td><a href="#profile-{_anchor(p.profile)}">{_e(p.profile)}</a></td>'
                    f"<td>{_e(', '.join(p.roles) or '-')}</td>"
                    f"<td><strong>{_e(_verdict_words(p.verdict))}</strong></td>"
                    f"<td>{_e(_status_counts(p.requirements))}</td></tr>"
                )
            self.w("</tbody></table>\n")
        self.w("</div></header>\n")

    def nav(self) -> None:
        items = [("scope", "Scope"), ("signing", "Signing")]
        items += [
            (f"profile-{_anchor(p.profile)}", f"Profile {p.profile}") for p in self.r.profiles
        ]
        items.append(("reproducibility", "Environment and reproducibility"))
        self.w("<nav><ul>")
        for anchor, title in items:
            self.w(f'<li><a href="#{_e(anchor)}">{_e(title)}</a></li>')
        self.w("</ul></nav>\n")

    def scope(self) -> None:
        r, meta = self.r, self.r.meta
        self.w('<section id="scope">\n<h2>Scope: what was certified</h2>\n')
        participant = dict(meta.participant)
        self.w(
            "<h3>Participant as declared</h3>\n<table><tbody>",
            _kv_rows(participant),
            "</tbody></table>\n",
        )
        self.w(
            "<h3>Participant as observed by the harness</h3>\n"
            '<p class="muted">Endpoints, TLS and signing certificate fingerprints seen on the'
            " wire, not taken from the participant file.</p>\n<table><tbody>",
            _kv_rows(meta.observed),
            "</tbody></table>\n",
        )
        self.w(
            "<h3>Profiles and roles claimed</h3>\n<table><thead><tr><th>Profile</th>"
            "<th>Roles</th><th>Requirements in scope</th></tr></thead><tbody>"
        )
        for p in r.profiles:
            self.w(
                f"<tr><td>{_e(p.profile)}</td><td>{_e(', '.join(p.roles) or '-')}</td>"
                f"<td>{len(p.requirements)}</td></tr>"
            )
        if not r.profiles:
            self.w('<tr><td colspan="3">No profile was claimed: nothing was certified.</td></tr>')
        self.w("</tbody></table>\n")

        self.w("<h3>Rule sets and normative artefacts</h3>\n")
        third = any(rs.get("provenance") == THIRD_PARTY for rs in meta.rulesets) or any(
            a.provenance == THIRD_PARTY for a in meta.artefacts
        )
        if third:
            self.w(
                '<p class="note"><span class="third-party">third-party copy</span> Some rules or'
                " artefacts used by this run are <strong>not the publisher's own bytes</strong>"
                " but a copy published by a third party. Findings based on them are as good as"
                " that copy. They are marked below.</p>\n"
            )
        self.w(
            "<table><thead><tr><th>Rule set</th><th>Version</th><th>Provenance</th>"
            "<th>What it is</th></tr></thead><tbody>"
        )
        for rs in sorted(meta.rulesets, key=lambda x: str(x.get("id"))):
            self.w(
                f"<tr><td><code>{_e(rs.get('id'))}</code></td><td>{_e(rs.get('version', ''))}</td>"
                f"<td>{_provenance(rs.get('provenance'))}</td>"
                f'<td class="wrap">{_ruleset_details(rs)}</td></tr>'
            )
        if not meta.rulesets:
            self.w('<tr><td colspan="4" class="muted">(no rule set recorded)</td></tr>')
        self.w("</tbody></table>\n")
        self.w(
            "<table><thead><tr><th>Artefact</th><th>Version</th><th>Provenance</th>"
            "<th>Source</th><th>SHA-256</th></tr></thead><tbody>"
        )
        for a in sorted(meta.artefacts, key=lambda x: x.path):
            self.w(
                f"<tr><td><code>{_e(a.path)}</code></td><td>{_e(a.version or '')}</td>"
                f'<td>{_provenance(a.provenance)}</td><td class="mono">{_e(a.url)}</td>'
                f'<td class="mono">{_e(a.sha256)}</td></tr>'
            )
        if not meta.artefacts:
            self.w('<tr><td colspan="5" class="muted">(no external artefact recorded)</td></tr>')
        self.w("</tbody></table>\n")

        not_tested = sorted(
            r.not_tested(),
            key=lambda pr: (_LEVEL_ORDER[pr[1].requirement.level], pr[0], pr[1].requirement.id),
        )
        self.w(f"<h3>Requirements not tested ({len(not_tested)})</h3>\n")
        if not_tested:
            musts = sum(1 for _, res in not_tested if res.requirement.level is Level.MUST)
            self.w(
                "<p>These requirements are in scope but no check exercised them"
                f" ({musts} of them MUST). A claimed MUST requirement that was not tested makes"
                " the verdict INCONCLUSIVE.</p>\n"
                f"<details{' open' if musts or len(not_tested) <= 50 else ''}><summary>"
                f"{len(not_tested)} requirements not tested</summary>"
                "<table><thead><tr><th>Profile</th><th>Requirement</th><th>Level</th>"
                "<th>Why not tested</th></tr></thead><tbody>"
            )
            for profile, res in not_tested:
                self.w(
                    f"<tr><td>{_e(profile)}</td><td><code>{_e(res.requirement.id)}</code></td>"
                    f"<td>{_e(res.requirement.level.value)}</td><td>{_e(res.reason or '')}</td></tr>"
                )
            self.w("</tbody></table></details>\n")
        else:
            self.w("<p>Every requirement in scope was exercised by at least one check.</p>\n")
        self.w("</section>\n")

    def signing(self) -> None:
        s = self.r.signing
        self.w('<section id="signing">\n<h2>Signing</h2>\n')
        if s is None:
            self.w(
                '<p class="note">This report was not sealed: nothing proves it is unaltered.</p>'
            )
        else:
            self.w(
                "<p>Every file of this run folder is listed with its SHA-256 in"
                " <code>attestation.json</code> (a DSSE envelope around an in-toto statement),"
                " signed with Ed25519. The public key is <code>signing-key.pub</code>.</p>\n"
                f'<table><tbody><tr><th scope="row">Key id (SHA-256 of the public key)</th>'
                f'<td class="mono">{_e(s.keyid)}</td></tr>'
                f'<tr><th scope="row">Key</th><td>'
                f"{'ephemeral (generated for this run)' if s.ephemeral else 'operator key'}"
                "</td></tr></tbody></table>\n"
            )
            if s.ephemeral:
                self.w(f'<p class="note"><strong>{_e(EPHEMERAL_SENTENCE)}</strong>.</p>\n')
            self.w(
                "<p>Check it with <code>conformance report verify &lt;this folder&gt;"
                f" --fingerprint {_e(s.keyid)}</code>, or with <code>--trusted-key</code> and"
                " the public key of the operator you trust.</p>\n"
            )
        self.w("</section>\n")

    def profile(self, p: ProfileResult) -> None:
        self.w(
            f'<section id="profile-{_anchor(p.profile)}">\n<h2>Profile {_e(p.profile)}:'
            f" {_e(_verdict_words(p.verdict))}</h2>\n",
            f"<p>Roles claimed: {_e(', '.join(p.roles) or '-')}. {_e(_status_counts(p.requirements))}.</p>\n",
        )
        if p.reasons:
            self.w("<ul>")
            for reason in p.reasons:
                self.w(f"<li>{_e(reason)}</li>")
            self.w("</ul>\n")
        if p.no_traffic_scenarios:
            self.w(
                '<p class="note">Scenarios that saw no traffic (NO_TRAFFIC, never a pass): '
                f"{_e(', '.join(p.no_traffic_scenarios))}</p>\n"
            )
        self.w(
            "<table><thead><tr><th>Requirement</th><th>Level</th><th>Source</th><th>Summary</th>"
            "<th>Status</th></tr></thead><tbody>\n"
        )
        ordered = sorted(
            p.requirements,
            key=lambda x: (
                _STATUS_ORDER[x.status],
                _LEVEL_ORDER[x.requirement.level],
                x.requirement.id,
            ),
        )
        for res in ordered:
            self.requirement_row(res)
        self.w("</tbody></table>\n</section>\n")

    def requirement_row(self, res: RequirementResult) -> None:
        req = res.requirement
        src = req.source
        source_text = " ".join(x for x in (src.document, src.version) if x)
        if src.clause:
            source_text += f", {src.clause}"
        url = _safe_url(src.url)
        source_html = f'<a href="{_e(url)}">{_e(source_text)}</a>' if url else _e(source_text)
        status = res.status.value
        reason = f'<br><span class="muted">{_e(res.reason)}</span>' if res.reason else ""
        self.w(
            f'<tr class="s-{status}" id="req-{_anchor(req.profile)}-{_anchor(req.id)}">'
            f"<td><code>{_e(req.id)}</code></td><td>{_e(req.level.value)}</td>"
            f'<td>{source_html}</td><td class="wrap">{_e(req.summary)}</td>'
            f'<td><span class="badge st-{status}">{_e(status)}</span>'
            f"{reason}</td></tr>\n"
        )
        if res.checks:
            checks = [self.r.checks[i] for i in res.checks]
            open_attr = (
                " open"
                if res.status in (RequirementStatus.FAILED, RequirementStatus.INCONCLUSIVE)
                else ""
            )
            self.w(
                f'<tr class="checks"><td colspan="5"><details{open_attr}><summary>'
                f"{len(checks)} check{'s' if len(checks) != 1 else ''}: {_e(_outcome_counts(checks))}"
                "</summary>\n"
            )
            self.checks_table(checks)
            self.w("</details></td></tr>\n")

    def checks_table(self, checks: Sequence[CheckResult]) -> None:
        self.w(
            "<table><thead><tr><th>Outcome</th><th>Test</th><th>Message and location</th>"
            "<th>Evidence</th><th>Replay</th></tr></thead><tbody>"
        )
        for c in checks:
            location = (
                f'<br><span class="muted">at</span> <code>{_e(c.location)}</code>'
                if c.location
                else ""
            )
            scenario = (
                f'<br><span class="muted">scenario {_e(c.scenario)}</span>' if c.scenario else ""
            )
            self.w(
                f'<tr><td class="{_OUTCOME_CLASS[c.outcome]}">{_e(c.outcome.value)}'
                f"{' (no traffic)' if c.no_traffic else ''}</td>"
                f"<td><code>{_e(c.test)}</code>{scenario}</td>"
                f'<td><span class="msg">{_e(c.message)}</span>{location}</td>'
                f"<td>{self.evidence_links(c.evidence)}</td>"
                f"<td>{'<code>' + _e(c.replay) + '</code>' if c.replay else ''}</td></tr>"
            )
        self.w("</tbody></table>\n")

    def evidence_links(self, digests: Iterable[str]) -> str:
        parts = []
        for digest in digests:
            item = self.r.evidence_item(digest)
            if item is None:
                parts.append(
                    f'<code>{_e(digest[:19])}&hellip;</code> <span class="muted">(not in the evidence index)</span>'
                )
                continue
            href = urllib.parse.quote(item.path, safe="/")
            title = item.labels[0] if item.labels else item.path.rsplit("/", 1)[-1]
            parts.append(
                f'<a href="{_e(href)}" title="{_e(digest)}">{_e(title)}</a>'
                f' <span class="muted">({_e(item.media_type)}, {item.size} bytes)</span>'
            )
        return "<br>".join(parts)

    def orphans(self) -> None:
        """Checks citing no requirement (they count for nothing, but a reader should see them)."""
        orphans = [c for c in self.r.checks if not c.requirements]
        if not orphans:
            return
        self.w(
            '<section id="unattributed">\n<h2>Checks citing no requirement</h2>\n'
            "<p>These checks do not count towards any verdict.</p>\n<details>"
            f"<summary>{len(orphans)} checks: {_e(_outcome_counts(orphans))}</summary>\n"
        )
        self.checks_table(orphans)
        self.w("</details></section>\n")

    def reproducibility(self) -> None:
        meta = self.r.meta
        command = shlex.join(meta.command) if meta.command else ""
        self.w(
            '<section id="reproducibility">\n<h2>Environment and reproducibility</h2>\n'
            "<table><tbody>",
            f'<tr><th scope="row">Run id</th><td class="mono">{_e(meta.run_id)}</td></tr>',
            f'<tr><th scope="row">Started / finished</th><td>{_e(meta.started)} / {_e(meta.finished or "-")}</td></tr>',
            f'<tr><th scope="row">Harness version</th><td>{_e(meta.harness_version)}</td></tr>',
            f'<tr><th scope="row">Suite digest</th><td class="mono">{_e(meta.suite_digest)}</td></tr>',
            f'<tr><th scope="row">Seed</th><td class="mono">{_e(meta.seed)}</td></tr>',
            f'<tr><th scope="row">Command</th><td><code>{_e(command)}</code></td></tr>',
            "</tbody></table>\n<h3>Environment</h3>\n<table><tbody>",
            _kv_rows(meta.environment),
            "</tbody></table>\n<h3>Artefact digests</h3>\n<table><thead><tr><th>Artefact</th>"
            "<th>SHA-256</th><th>Provenance</th></tr></thead><tbody>",
        )
        for a in sorted(meta.artefacts, key=lambda x: x.path):
            self.w(
                f'<tr><td><code>{_e(a.path)}</code></td><td class="mono">{_e(a.sha256)}</td>'
                f"<td>{_provenance(a.provenance)}</td></tr>"
            )
        self.w("</tbody></table>\n</section>\n")


def _ruleset_details(ruleset: Mapping[str, Any]) -> str:
    """Title, engine, note and implied rule sets of a rule set, as readable text (its artefacts
    are listed in the artefact table)."""
    parts = []
    if ruleset.get("title"):
        parts.append(f"<strong>{_e(ruleset['title'])}</strong>")
    if ruleset.get("implies"):
        implied = ", ".join(str(i) for i in ruleset["implies"])
        parts.append(f'<span class="muted">implies</span> {_e(implied)}')
    if ruleset.get("engine"):
        parts.append(f'<span class="muted">engine</span> {_e(ruleset["engine"])}')
    if ruleset.get("note"):
        parts.append(_e(ruleset["note"]))
    artefacts = ruleset.get("artefacts") or []
    if artefacts:
        parts.append(f'<span class="muted">{len(artefacts)} artefact file(s), listed below</span>')
    return "<br>".join(parts)


def _provenance(value: Any) -> str:
    if value == THIRD_PARTY:
        return '<span class="third-party">third-party copy</span>'
    return _e(value or "unknown")


def _status_counts(results: Iterable[RequirementResult]) -> str:
    counts: dict[RequirementStatus, int] = {}
    for res in results:
        counts[res.status] = counts.get(res.status, 0) + 1
    parts = [f"{counts[s]} {s.value}" for s in sorted(counts, key=lambda s: _STATUS_ORDER[s])]
    return ", ".join(parts) if parts else "no requirement in scope"


def _outcome_counts(checks: Iterable[CheckResult]) -> str:
    counts: dict[Outcome, int] = {}
    for c in checks:
        counts[c.outcome] = counts.get(c.outcome, 0) + 1
    return ", ".join(
        f"{n} {o.value}" for o, n in sorted(counts.items(), key=lambda kv: kv[0].value)
    )


def render_html(report: RunReport) -> str:
    """The text of ``report.html`` for ``report``."""
    return _Renderer(report).render()
