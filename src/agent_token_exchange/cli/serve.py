"""`token-exchange serve`: the HTTP API, live events and the web dashboard."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from ..errors import InvalidInput
from .options import ExchangeOptions, exchange_options, local_home, open_local
from .output import stderr


def register(app: typer.Typer) -> None:
    app.command()(serve)


# No --json (serve prints no result, it runs), no --server (it serves this machine's).
@exchange_options(names=("home", "database"))
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8787,
    max_body: Annotated[int, typer.Option(
        "--max-body", metavar="BYTES", min=1,
        help="Refuse request bodies larger than this (413).")] = 1024 * 1024,
    settle_every: Annotated[float, typer.Option(
        "--settle-every", metavar="SECONDS", min=1, max=60,
        help="Run `settle` (stale gateway reservations, and whatever else fell due) this "
        "often.")] = 60.0,
    *, opts: ExchangeOptions,
) -> None:
    """Serve the exchange over HTTP: the API under /v1, /docs, and the dashboard at /.

    Requests need a key from `token-exchange keys create`. The dashboard asks for one,
    or takes it from the address: http://127.0.0.1:8787/#key=KEY logs in at once (the
    part after # never leaves the browser).

    Example: token-exchange serve --port 8787
    """
    import uvicorn

    from ..server.app import KEEP_ALIVE_SECONDS, create_app

    home_dir = local_home(opts)
    app = create_app(home_dir, database=opts.database, max_body_bytes=max_body,
                     settle_every=settle_every)
    # Bind here, not in uvicorn: on a busy port or a bad host uvicorn logs and calls
    # sys.exit(3), which is our "integrity problem" code, after we said "Serving".
    listener = _listen(host, port)
    port = listener.getsockname()[1]  # the real one when --port 0
    url = f"http://{_browsable(host)}:{port}/"
    stderr.print(f"Serving the exchange at {home_dir} on {url} (API docs at {url}docs; "
                 "Ctrl-C stops)", markup=False)
    stderr.print(f"Dashboard: {url}#key=<key> (a key from `token-exchange keys create`)",
                 markup=False, style="bold")
    with open_local(opts) as ex:
        active = [k for k in ex.keys.list() if k.active]
    if not active:
        stderr.print("⚠️  No API keys yet: every request will get 401. Create one (in another "
                     "terminal): token-exchange keys create --admin", markup=False,
                     style="yellow")
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_keep_alive=KEEP_ALIVE_SECONDS,
                                           timeout_graceful_shutdown=2))
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on
        pass
    finally:
        listener.close()


def _browsable(host: str) -> str:
    """The host part of a URL a browser on this machine can open: a wildcard address
    means this machine; an IPv6 address goes in brackets."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


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
