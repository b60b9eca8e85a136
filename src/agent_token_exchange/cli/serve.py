"""`token-exchange serve`: the HTTP API, live events and the web dashboard."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..errors import InvalidInput
from ..home import ENV_DATABASE
from .options import Home, Json, local_home, selected_database
from .output import emit_json, stderr


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=0, max=65535)] = 8787,
    home: Home = None,
    json: Json = False,
) -> None:
    """Serve the exchange over HTTP: the API under /v1, /docs, and the dashboard at /.

    Requests need a key from `token-exchange keys create`. The dashboard asks for one.

    Example: token-exchange serve --port 8787
    """
    import uvicorn

    from ..server.app import create_app

    home_dir = local_home(home)
    if selected_database():  # this process serves one exchange: its URL for every thread
        os.environ[ENV_DATABASE] = selected_database()  # type: ignore[assignment]
    app = create_app(home_dir)
    if json:
        emit_json({"url": f"http://{host}:{port}/", "home": str(home_dir)})
    stderr.print(f"Serving the exchange at {home_dir} on http://{host}:{port}/ "
                 "(API docs at /docs; Ctrl-C stops)", markup=False)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=2)
    except OSError as exc:
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc}") from None
