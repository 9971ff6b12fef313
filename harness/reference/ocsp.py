"""The reference OCSP responder and CRL server of the test PKI.

Served by ``conformance serve ocsp --pki-dir DIR`` (or with ``CONFORMANCE_PKI_DIR`` set); the
answers come from :class:`harness.pki.OcspResponder`, which reads the PKI directory afresh when
its manifest changes, so revoking a certificate while the endpoint runs is seen at once.

Routes (what certificates of a PKI made with a revocation base URL point at):

* ``POST /`` with ``application/ocsp-request`` (RFC 6960 appendix A.1.1);
* ``GET /{base64 DER request}`` (RFC 6960 appendix A.1.1, URL-encoded base64);
* ``GET /crl/{ca}.crl``: the CA's DER CRL (``application/pkix-crl``, RFC 5280 section 4.2.1.13);
* ``GET /ca/{ca}.cer``: the CA's DER certificate (``application/pkix-cert``, AIA caIssuers);
* ``GET /conformance/v1/health``.

A bearer token, if the runtime sets one, is not required on these routes: OCSP and CRL clients
(``openssl ocsp``, Java's PKIX revocation checker) cannot send one, and revocation data is
public by design. Private keys are read to sign answers and never leave the process; the log
says which serial was asked about and what was answered, nothing more.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from typing import Any

from harness import __version__
from harness.errors import ConfigError

log = logging.getLogger("harness.reference.ocsp")

#: An OCSP request for one certificate is a few hundred bytes; refuse anything far larger.
MAX_REQUEST_BYTES = 64 * 1024
CRL_MEDIA_TYPE = "application/pkix-crl"
CERT_MEDIA_TYPE = "application/pkix-cert"
_CA_FILE = re.compile(r"^([a-z0-9][a-z0-9._-]{0,63})\.(crl|cer)$")


def _log_to_stderr() -> None:
    """Answers are logged (serial, CA, status) next to uvicorn's access log, which is what the
    runtime keeps as the endpoint's log; uvicorn configures only its own loggers."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def create_app(
    *, variant: str | None = None, token: str | None = None, pki_dir: str | None = None
) -> Any:
    """The OCSP/CRL endpoint over the test PKI in ``pki_dir`` (default: ``CONFORMANCE_PKI_DIR``).

    ``variant``: only ``None``/``"good"`` (the responder has no known-bad variants yet).
    ``token``: accepted and not enforced (see the module docstring).
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from harness.pki import PKI_DIR_ENV, OcspResponder, load_pki
    from harness.pki.ocsp import OCSP_REQUEST_MEDIA_TYPE, OCSP_RESPONSE_MEDIA_TYPE

    if variant not in (None, "good"):
        raise ConfigError(
            f"the ocsp endpoint has no variant {variant!r}; it only has the good behaviour"
        )
    directory = pki_dir or os.environ.get(PKI_DIR_ENV)
    if not directory:
        raise ConfigError(
            "conformance serve ocsp needs the test PKI: pass --pki-dir DIR or set"
            f" {PKI_DIR_ENV} (create one with `conformance pki init DIR`)"
        )
    load_pki(directory)  # fail at start, with the PKI's own message, not at the first request
    _log_to_stderr()
    responder = OcspResponder(directory)

    async def health(request: Request) -> Response:
        pki = responder.pki
        return JSONResponse(
            {
                "status": "ok",
                "name": "harness reference ocsp",
                "version": __version__,
                "authorities": sorted(pki.authorities),
            }
        )

    async def answer(der: bytes) -> Response:
        result = await run_in_threadpool(responder.respond, der)
        if result.cert_status is None:
            log.info("ocsp: %s", result.response_status)
        else:
            log.info(
                "ocsp: serial %x of %s: %s",
                result.serial_number or 0,
                result.issuer,
                result.cert_status.value,
            )
        return Response(result.der, media_type=OCSP_RESPONSE_MEDIA_TYPE)

    async def ocsp_post(request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != OCSP_REQUEST_MEDIA_TYPE:
            return Response(
                f"send Content-Type: {OCSP_REQUEST_MEDIA_TYPE} (RFC 6960 A.1)\n",
                status_code=415,
                media_type="text/plain",
            )
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > MAX_REQUEST_BYTES:
            return Response("OCSP request too large\n", status_code=413, media_type="text/plain")
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            return Response("OCSP request too large\n", status_code=413, media_type="text/plain")
        return await answer(body)

    async def ocsp_get(request: Request) -> Response:
        encoded = request.path_params["encoded"]  # already percent-decoded by the server
        if len(encoded) > MAX_REQUEST_BYTES * 2:
            return Response("OCSP request too large\n", status_code=414, media_type="text/plain")
        # RFC 6960 A.1 says base64 then URL-encoding; some clients send base64url instead
        altchars = b"-_" if ("-" in encoded or "_" in encoded) else None
        try:
            der = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=altchars)
        except (binascii.Error, ValueError):
            der = b""  # the responder answers malformedRequest
        return await answer(der)

    def ca_files(suffix: str) -> Any:
        async def serve_file(request: Request) -> Response:
            from cryptography.hazmat.primitives.serialization import Encoding

            match = _CA_FILE.match(request.path_params["file"])
            pki = responder.pki
            if not match or match.group(2) != suffix or match.group(1) not in pki.authorities:
                return Response(
                    f"no such file; known CAs: {', '.join(sorted(pki.authorities))}"
                    f" as {{ca}}.{suffix}\n",
                    status_code=404,
                    media_type="text/plain",
                )
            ca = match.group(1)
            if suffix == "crl":
                return Response(pki.crl_path(ca, der=True).read_bytes(), media_type=CRL_MEDIA_TYPE)
            return Response(
                pki.authority(ca).certificate.public_bytes(Encoding.DER), media_type=CERT_MEDIA_TYPE
            )

        return serve_file

    return Starlette(
        routes=[
            Route("/conformance/v1/health", health, methods=["GET"]),
            Route("/crl/{file}", ca_files("crl"), methods=["GET"]),
            Route("/ca/{file}", ca_files("cer"), methods=["GET"]),
            Route("/", ocsp_post, methods=["POST"]),
            Route("/{encoded:path}", ocsp_get, methods=["GET"]),
        ],
    )
