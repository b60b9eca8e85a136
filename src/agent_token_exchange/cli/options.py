"""The option bundle every command shares: --home, --database and --json."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

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


# --database goes on every command that takes --home (see with_database_option), without
# each command declaring it: its value is kept here for open_from and init to read.
_database: ContextVar[str | None] = ContextVar("database", default=None)


def _remember_database(ctx: Any, param: Any, value: Any) -> Any:
    _database.set(value or None)
    return value


Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        expose_value=False,
        callback=_remember_database,
        help="Keep the ledger in PostgreSQL at this postgresql:// URL (default: "
        "$TOKEN_EXCHANGE_DATABASE_URL, else the URL `init --database` recorded in the home, "
        "else SQLite in .exchange/).",
        show_default=False,
    ),
]


def _database_option() -> Any:
    """The --database option as Typer builds it, taken from a one-option probe command."""
    probe = typer.Typer()

    @probe.command()
    def _probe(database: Database = None) -> None:  # pragma: no cover - never runs
        pass

    return typer.main.get_command(probe).params[0]


def with_database_option(command: Any) -> Any:
    """Give every command with --home (in this Click command tree) a --database beside it."""
    for sub in getattr(command, "commands", {}).values():
        with_database_option(sub)
    names = [p.name for p in command.params]
    if "home" in names and "database" not in names:
        command.params.insert(names.index("home") + 1, _database_option())
    return command


def selected_database() -> str | None:
    """The --database URL given to the running command, if any."""
    return _database.get()


def open_from(home: Path | None) -> Exchange:
    """Open the exchange the user pointed at (or the one found from here)."""
    paths = find_home(home)
    database = selected_database()
    if not paths.config.exists() or not (database or paths.exists()
                                         or paths.database_url() is not None):
        raise InvalidInput(
            f"no exchange at {paths.state}; run `token-exchange init --home {paths.home}`"
        )
    return open_exchange(paths.home, clock=SystemClock(), database=database)
