"""The option bundle every command shares: --home, --database and --json; and
--server/--api-key, which every command takes to work against a remote exchange instead."""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ..api import ExchangeAPI
from ..clock import SystemClock
from ..errors import InvalidInput
from ..service.exchange import Exchange
from ..service.home import find_home
from ..service.lifecycle import open_exchange

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


@dataclass
class Remote:
    """Where --server (or $TOKEN_EXCHANGE_URL) points, with --api-key (or $TOKEN_EXCHANGE_KEY)."""

    url: str | None = None
    key: str | None = None


remote = Remote()
SERVER_OPTIONS = ("--server", "--api-key")


def take_server_options(args: list[str]) -> list[str]:
    """Pull ``--server URL`` and ``--api-key KEY`` out of the arguments, wherever they stand,
    so that every command (including ones added later) accepts them unchanged."""
    remote.url = remote.key = None
    rest: list[str] = []
    words = iter(args)
    for word in words:
        name, equals, value = word.partition("=")
        if name in SERVER_OPTIONS:
            if not equals:
                value = next(words, "")
            if not value or value.startswith("--"):
                raise InvalidInput(f"{name} needs a value")
            if name == "--server":
                remote.url = value
            else:
                remote.key = value
        else:
            rest.append(word)
    return rest


def open_from(home: Path | None) -> ExchangeAPI:
    """Open the exchange the user pointed at: --server, else --home, else
    $TOKEN_EXCHANGE_URL, else the local one found from here. A remote exchange is an
    ``ExchangeClient``, which has the same methods and returns the same records."""
    url = remote.url or (None if home is not None else os.environ.get("TOKEN_EXCHANGE_URL"))
    if url:
        from ..client.http import ExchangeClient

        key = remote.key or os.environ.get("TOKEN_EXCHANGE_KEY")
        return ExchangeClient(url, key)
    return open_local(home)


def open_local(home: Path | None) -> Exchange:
    """The exchange on this machine (for what only its owner may do: keys, serve)."""
    ex = open_exchange(local_home(home), clock=SystemClock(), database=selected_database())
    try:
        ex.open_accounts()  # agents the config added since: their start balances
    except BaseException:
        ex.close()
        raise
    return ex


def local_home(home: Path | None) -> Path:
    """The local exchange's home directory, checked to exist."""
    if remote.url:
        raise InvalidInput("this command works on a local exchange only; drop --server")
    paths = find_home(home)
    database = selected_database()
    if not paths.config.exists() or not (database or paths.exists()
                                         or paths.database_url() is not None):
        raise InvalidInput(
            f"no exchange at {paths.state}; run `token-exchange init --home {paths.home}`"
        )
    return paths.home
