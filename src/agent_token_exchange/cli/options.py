"""The option bundle every command shares: --home and --json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..clock import SystemClock
from ..errors import InvalidInput
from ..exchange import Exchange, open_exchange
from ..home import find_home

Home = Annotated[
    Path | None,
    typer.Option(
        "--home",
        metavar="DIR",
        help="Directory holding .exchange/ (default: $TOKEN_EXCHANGE_HOME, else the nearest "
        ".exchange/ at or above the current directory).",
        show_default=False,
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON object on stdout instead of tables."),
]


def open_from(home: Path | None) -> Exchange:
    """Open the exchange the user pointed at (or the one found from here)."""
    paths = find_home(home)
    if not paths.exists():
        raise InvalidInput(
            f"no exchange at {paths.state}; run `token-exchange init --home {paths.home}`"
        )
    return open_exchange(paths.home, clock=SystemClock())
