"""`token-exchange serve`: the HTTP API, live events and the web dashboard."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from ..errors import InvalidInput
from .options import ExchangeOptions, exchange_options, local_home
from .output import emit_json, stderr


def register(app: typer.Typer) -> None:
    app.command()(serve)


@exchange_options
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8787,
    max_body: Annotated[int, typer.Option(
        "--max-body", metavar="BYTES", min=1,
        help="Refuse request bodies larger than this (413).")] = 1024 * 1024,
    *, opts: ExchangeOptions,
) -> None:
    """Serve the exchange over HTTP: the API under /v1, /docs, and the dashboard at /.

    Requests need a key from `token-exchange keys create`. The dashboard asks for one.

    Example: token-exchange serve --port 8787
    """
    import uvicorn

    from ..server.app import create_app

    home_dir = local_home(opts)
    app = create_app(home_dir, database=opts.database, max_body_bytes=max_body)
    # Bind here, not in uvicorn: on a busy port or a bad host uvicorn logs and calls
    # sys.exit(3), which is our "integrity problem" code, after we said "Serving".
    listener = _listen(host, port)
    port = listener.getsockname()[1]  # the real one when --port 0
    if opts.json:
        emit_json({"url": f"http://{host}:{port}/", "home": str(home_dir)})
    stderr.print(f"Serving the exchange at {home_dir} on http://{host}:{port}/ "
                 "(API docs at /docs; Ctrl-C stops)", markup=False)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on
        pass
    finally:
        listener.close()


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (as uvicorn binds: SO_REUSEADDR), or one clear
    line saying what to change."""
    where = f"cannot listen on {host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(f"{where}: unknown host ({exc}); check --host") from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidInput(f"{where}: the port is in use; pick another with --port"
                               ) from None
        if exc.errno == errno.EACCES:
            raise InvalidInput(f"{where}: permission denied (ports below 1024 need root); "
                               "pick another with --port") from None
        raise InvalidInput(f"{where}: {exc.strerror or exc}; check --host") from None
    return listener
