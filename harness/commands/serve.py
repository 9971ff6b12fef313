"""``conformance serve NAME``: run one reference endpoint in the foreground (uvicorn).

The one launch path of every reference endpoint: the local runtime runs exactly this command as a
subprocess, a container runs it as its entry point. Binds 127.0.0.1 unless told otherwise.

``--port 0`` picks a free port; ``--ready-file F`` writes ``{"name", "host", "port", "base_url",
"pid", "variant", "extras"}`` to F (atomically) once the server accepts connections, which is how
the runtime learns the port. An endpoint with listeners besides HTTP (the reference SML's DNS
server) declares them in ``ReferenceEndpoint.extra_ports``; serve binds each (``--extra-port
dns=5353``, default 0 = a free port; ``udp+tcp`` gets both sockets on one port) before the app
starts and reports them as ``extras`` (``{"dns": "127.0.0.1:41234"}``). A bearer token the endpoint must require is read from the environment variable
``CONFORMANCE_SERVE_TOKEN`` (not from argv, which other users can read), or from the file named by
``CONFORMANCE_SERVE_TOKEN_FILE`` (how the Docker runtime hands it over: a container's environment
is shown by ``docker inspect``). ``--watch-pid PID`` makes
the server exit when process PID (the harness that started it) is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.reference import ExtraListener

TOKEN_ENV = "CONFORMANCE_SERVE_TOKEN"
TOKEN_FILE_ENV = "CONFORMANCE_SERVE_TOKEN_FILE"
#: Where ``--pki-dir`` reaches the endpoint (same name as ``harness.pki.PKI_DIR_ENV``).
PKI_DIR_ENV = "CONFORMANCE_PKI_DIR"


def _token() -> str | None:
    """The bearer token to require: ``$CONFORMANCE_SERVE_TOKEN_FILE``'s content, else
    ``$CONFORMANCE_SERVE_TOKEN``, else none."""
    path = os.environ.get(TOKEN_FILE_ENV)
    if path:
        try:
            token = Path(path).read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"{TOKEN_FILE_ENV}={path}: cannot read the bearer token ({exc.strerror or exc});"
                " give a readable file holding the token, or unset the variable"
            ) from None
        if not token:
            raise ConfigError(f"{TOKEN_FILE_ENV}={path}: the file is empty; write the token into it")
        return token
    return os.environ.get(TOKEN_ENV) or None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", metavar="NAME", help="reference endpoint, e.g. peppol-participant")
    parser.add_argument("--list", action="store_true", help="list the reference endpoints and their variants")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default: 8000)")
    parser.add_argument("--variant", metavar="V", help='"good" (default) or the name of a known-bad variant')
    parser.add_argument("--ready-file", metavar="F", help="write host/port JSON here once accepting connections")
    parser.add_argument("--watch-pid", type=int, metavar="PID", help="exit when process PID is gone")
    parser.add_argument(
        "--pki-dir", metavar="DIR",
        help="test PKI (conformance pki init DIR) for endpoints that sign or check certificates;"
        " sets CONFORMANCE_PKI_DIR for the endpoint",
    )
    parser.add_argument(
        "--tls-cert", metavar="PEM",
        help="serve HTTPS with this certificate chain (PEM; needs --tls-key), e.g. from"
        " harness.pki.tls.issue_tls_server",
    )
    parser.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert (PEM)")
    parser.add_argument(
        "--extra-port", action="append", default=[], metavar="NAME=PORT",
        help="port of a non-HTTP listener the endpoint declares (e.g. dns=5353; default 0: a free one)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default: info, with an access log)",
    )


def run(args: argparse.Namespace) -> int:
    from harness.reference import REGISTRY, get_endpoint

    if args.list:
        for name, endpoint in sorted(REGISTRY.items()):
            print(f"{name}: {endpoint.summary}")
            variants = endpoint.variant_names()
            if variants:
                print(f"  variants: good, {', '.join(variants)}")
        return 0
    if not args.name:
        raise ConfigError("conformance serve needs the NAME of a reference endpoint (see --list)")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {args.port}")
    endpoint = get_endpoint(args.name)
    tls = _tls_files(args.tls_cert, args.tls_key)
    if args.pki_dir:
        os.environ[PKI_DIR_ENV] = str(Path(args.pki_dir).resolve())
    listeners = _bind_extras(endpoint.name, endpoint.extra_ports, args.host, args.extra_port)
    app = endpoint.create_app(variant=args.variant, token=_token(), listeners=listeners)
    sock = _bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print(f"conformance serve: warning: listening on {args.host}, not only on this machine", file=sys.stderr)
    info = {
        "name": endpoint.name,
        "host": host,
        "port": port,
        "scheme": "https" if tls else "http",
        "base_url": f"{'https' if tls else 'http'}://{f'[{host}]' if ':' in host else host}:{port}",
        "pid": os.getpid(),
        "variant": args.variant or "good",
        "extras": {name: listener.address for name, listener in listeners.items()},
    }
    server = _make_server(
        app, args.log_level, Path(args.ready_file) if args.ready_file else None, info, tls=tls
    )
    if args.watch_pid:
        _watch_parent(args.watch_pid, server)
    print(f"conformance serve: {endpoint.name} ({info['variant']}) on {info['base_url']}", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    return 0


def _parse_extra_ports(name: str, declared: Mapping[str, str], given: list[str]) -> dict[str, int]:
    ports = dict.fromkeys(declared, 0)
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ConfigError(
                f"--extra-port {item!r}: expected NAME=PORT with NAME one of the extra listeners of"
                f" {name} ({known})"
            )
        try:
            port = int(value)
        except ValueError:
            raise ConfigError(f"--extra-port {item!r}: PORT must be a number") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"--extra-port {item!r}: PORT must be between 0 and 65535")
        ports[key] = port
    return ports


def _bind_extras(
    name: str, declared: Mapping[str, str], host: str, given: list[str]
) -> dict[str, ExtraListener]:
    """Bind every extra listener ``declared`` by endpoint ``name`` (protocols ``udp``, ``tcp``,
    ``udp+tcp``); an ephemeral ``udp+tcp`` port is retried until both protocols get the same one."""
    from harness.reference import ExtraListener

    out: dict[str, ExtraListener] = {}
    try:
        for key, port in _parse_extra_ports(name, declared, given).items():
            protocols = declared[key].split("+")
            if set(protocols) - {"udp", "tcp"}:
                raise ConfigError(f"endpoint {name}: extra port {key} has unknown protocols {declared[key]!r}")
            for _attempt in range(20):
                try:
                    sockets = _bind_same_port(host, port, protocols)
                    break
                except OSError as exc:
                    if port != 0:
                        raise ConfigError(
                            f"cannot listen on {host}:{port} for {key} ({declared[key]}): {exc.strerror or exc};"
                            f" choose another --extra-port {key}=PORT (0 picks a free one)"
                        ) from None
            else:
                raise ConfigError(f"found no free port for {key} on {host} that {declared[key]} can share")
            out[key] = ExtraListener(key, host, sockets[0].getsockname()[1], sockets)
    except BaseException:
        for listener in out.values():
            for sock in listener.sockets:
                sock.close()
        raise
    return out


def _bind_same_port(host: str, port: int, protocols: list[str]) -> tuple[socket.socket, ...]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound: list[socket.socket] = []
    try:
        for proto in protocols:
            sock = socket.socket(family, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
            bound.append(sock)
            if proto == "tcp":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            if proto == "tcp":
                sock.listen(64)
            port = sock.getsockname()[1]  # the others take the port the first one got
            sock.set_inheritable(False)
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return tuple(bound)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets of such a
    # listener, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port (0 picks a free one)"
        ) from None
    sock.set_inheritable(False)
    return sock


def _tls_files(cert: str | None, key: str | None) -> tuple[str, str] | None:
    """(certificate, key) paths for HTTPS, or None for plain HTTP."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ConfigError("--tls-cert and --tls-key go together (a certificate and its key)")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not Path(path).is_file():
            raise ConfigError(f"{option} {path}: no such file")
    return str(Path(cert).resolve()), str(Path(key).resolve())


def _make_server(
    app: Any,
    log_level: str,
    ready_file: Path | None,
    info: dict[str, Any],
    *,
    tls: tuple[str, str] | None = None,
) -> Any:
    import ssl

    import uvicorn

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and ready_file is not None:
                tmp = ready_file.with_name(ready_file.name + ".tmp")
                tmp.write_text(json.dumps(info), encoding="utf-8")
                os.replace(tmp, ready_file)

    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=True,
        lifespan="on",
        timeout_graceful_shutdown=3,
        server_header=False,
        # Reference endpoints answer without a Date header: their recorded answers are then
        # byte-identical across runs (reproducible evidence digests).
        date_header=False,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    if tls:
        config.load()
        config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2  # type: ignore[union-attr]
    return ReadyServer(config)


def _watch_parent(pid: int, server: Any) -> None:
    """Ask ``server`` to exit when ``pid`` (the harness) is gone, even if it was SIGKILLed."""
    parent_at_start = os.getppid()

    def alive() -> bool:
        if parent_at_start == pid and os.getppid() != pid:
            return False  # re-parented: the harness died
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def watch() -> None:
        while alive():
            time.sleep(0.5)
        print(f"conformance serve: process {pid} that started this endpoint is gone; exiting", file=sys.stderr, flush=True)
        server.should_exit = True
        time.sleep(5)
        with contextlib.suppress(Exception):
            os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
