"""SMP-TLS-001: an SMP the participant file says is HTTPS-only is served over TLS 1.2 or later
with a certificate the harness trusts, its ServiceGroup references are HTTPS URLs, and its
resources are not served over plain HTTP (pytest-free).

Peppol SMP 1.4.0 made TLS mandatory (change note "mandatory TLS usage"). A plain-HTTP request to
the SMP's host may be refused, answered with an error, or redirected to HTTPS; it must not be
answered with the resource.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from harness.peppol.judge import Judgement
from harness.peppol.smp.identifiers import ParticipantIdentifier, service_group_path
from harness.peppol.smp.judge import SMP_TLS, Inspection
from harness.peppol.smp.reader import HttpExchange, SmpReader
from harness.report.model import Outcome

TLS_VERSIONS = frozenset({"TLSv1.2", "TLSv1.3"})
_TLS_WORDS = ("ssl", "tls", "certificate", "handshake")


def judge_https(reader: SmpReader, participant: ParticipantIdentifier) -> Inspection:
    """Judge SMP-TLS-001 on the ServiceGroup of ``participant`` (a published participant)."""
    from harness.peppol.smp.errors import SmpDocumentError
    from harness.peppol.smp.smp_xml import parse_document, read_service_group

    base = urlsplit(reader.base_url)
    if base.scheme != "https":
        return Inspection(
            (),
            (Judgement(SMP_TLS, Outcome.FAIL, f"the SMP URL {reader.base_url} is not https://"),),
        )
    out: list[Judgement] = []
    exchanges: list[HttpExchange] = []
    ex = reader.service_group(participant)
    exchanges.append(ex)
    if ex.status is None:
        error = ex.error or ""
        if any(w in error.lower() for w in _TLS_WORDS):
            out.append(
                Judgement(SMP_TLS, Outcome.FAIL, f"TLS with {reader.base_url} failed: {error}")
            )
        else:
            out.append(
                Judgement(SMP_TLS, Outcome.ERROR, f"the SMP did not answer over HTTPS: {error}")
            )
        return Inspection(tuple(exchanges), tuple(out))
    if ex.tls_version in TLS_VERSIONS:
        out.append(Judgement(SMP_TLS, Outcome.PASS, f"served over {ex.tls_version}"))
    else:
        out.append(
            Judgement(SMP_TLS, Outcome.FAIL, f"negotiated {ex.tls_version}, not TLS 1.2 or later")
        )
    if ex.status == 200:
        try:
            group = read_service_group(parse_document(ex.body, name="ServiceGroup"))
        except SmpDocumentError:
            group = None  # SMP-XML-001 judges that
        if group is not None:
            plain = [h for h in group.references if urlsplit(h).scheme != "https"]
            out.append(
                Judgement(
                    SMP_TLS, Outcome.FAIL, f"ServiceGroup references are not HTTPS: {plain[:3]}"
                )
                if plain
                else Judgement(SMP_TLS, Outcome.PASS, "every ServiceGroup reference is https://")
            )
    path = base.path.rstrip("/") + service_group_path(participant)
    ports = [base.port or 443] + ([80] if (base.port or 443) == 443 else [])
    for port in ports:
        host = f"[{base.hostname}]" if base.hostname and ":" in base.hostname else base.hostname
        url = urlunsplit(("http", f"{host}:{port}", path, "", ""))
        plain_ex = reader.get(url)
        exchanges.append(plain_ex)
        if plain_ex.status == 200:
            out.append(
                Judgement(
                    SMP_TLS,
                    Outcome.FAIL,
                    f"the ServiceGroup is also served over plain HTTP at {url}",
                )
            )
        else:
            out.append(
                Judgement(
                    SMP_TLS,
                    Outcome.PASS,
                    f"plain HTTP at {url}: {plain_ex.status or plain_ex.error}",
                )
            )
    return Inspection(tuple(exchanges), tuple(out))
