"""The options every command shares, declared once as a bundle (as sqlite-utils's
``@output_options`` is): --home, --database, --server, --api-key and --json.

A command takes them with ``@exchange_options`` and receives them as one
``opts: ExchangeOptions`` argument. They may stand before the command too
(``token-exchange --home DIR --json status``): the root callback keeps those in the
context, and the command's own options override them.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ..errors import InvalidInput
from .output import emit_json

if TYPE_CHECKING:  # imported where used: a command loads the exchange only when it runs
    from ..api import ExchangeAPI
    from ..service.exchange import Exchange

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


def _a_value(ctx: Any, param: Any, value: str | None) -> str | None:
    """Refuse ``--server --json`` (an option where the value should be) and ``--server ''``."""
    if value is not None and (not value or value.startswith("--")):
        raise typer.BadParameter(f"--{param.name.replace('_', '-')} needs a value")
    return value


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
Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Keep the ledger in PostgreSQL at this postgresql:// URL (default: "
        "$TOKEN_EXCHANGE_DATABASE_URL, else the URL `init --database` recorded in the home, "
        "else SQLite in .exchange/).",
        show_default=False,
    ),
]
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        metavar="URL",
        callback=_a_value,
        help="Work against the exchange served at URL by `token-exchange serve` (default: "
        "$TOKEN_EXCHANGE_URL, unless --home is given).",
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        metavar="KEY",
        callback=_a_value,
        help="The key to send to --server (default: $TOKEN_EXCHANGE_KEY).",
        show_default=False,
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON object on stdout instead of tables."),
]


@dataclass(frozen=True)
class ExchangeOptions:
    """Which exchange a command works on, and how it prints."""

    home: Path | None = None
    database: str | None = None
    server: str | None = None
    api_key: str | None = None
    json: bool = False

    def over(self, before: ExchangeOptions) -> ExchangeOptions:
        """These options (given after the command) over those given before it."""
        return ExchangeOptions(
            home=self.home if self.home is not None else before.home,
            database=self.database if self.database is not None else before.database,
            server=self.server if self.server is not None else before.server,
            api_key=self.api_key if self.api_key is not None else before.api_key,
            json=self.json or before.json,
        )


def remember_options(ctx: typer.Context, home: Home = None, database: Database = None,
                     server: Server = None, api_key: ApiKey = None,
                     json: Json = False) -> None:
    """The root callback: keep the options given before the command for the command."""
    ctx.obj = ExchangeOptions(home, database, server, api_key, json)


_SHARED = ("home", "database", "server", "api_key", "json")


def exchange_options(command: F | None = None, *, home: Any = Home,
                     remote: bool = True, names: tuple[str, ...] | None = None) -> Any:
    """Give ``command`` --home, --database, --server, --api-key and --json (only --home and
    --json when not ``remote``; only the options ``names`` lists when given; ``home``
    replaces the --home option, for its own help).
    The command declares ``opts: ExchangeOptions`` instead, and receives them merged
    over the ones given before the command."""
    if command is None:
        return functools.partial(exchange_options, home=home, remote=remote, names=names)
    options: dict[str, Any] = {"home": home, "database": Database, "server": Server,
                               "api_key": ApiKey, "json": Json}
    if not remote:
        options = {"home": home, "json": Json}
    if names is not None:
        options = {name: options[name] for name in names}
    defaults = {name: False if name == "json" else None for name in options}
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "opts"]
    if len(own) == len(signature.parameters) or {p.name for p in own} & set(_SHARED):
        raise TypeError(f"{command.__name__} must take opts: ExchangeOptions and no "
                        "option of the bundle itself")
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name],
                                annotation=annotation) for name, annotation in options.items()]
    context = inspect.Parameter("typer_context", inspect.Parameter.KEYWORD_ONLY,
                                annotation=typer.Context)

    @functools.wraps(command)
    def run(*args: Any, typer_context: typer.Context, **kwargs: Any) -> Any:
        given = ExchangeOptions(**{name: kwargs.pop(name) for name in options})
        before = typer_context.find_root().obj
        opts = given.over(before) if isinstance(before, ExchangeOptions) else given
        return command(*args, opts=opts, **kwargs)

    run.__dict__["__signature__"] = signature.replace(parameters=[*own, *shared, context])
    run.__annotations__ = {p.name: p.annotation for p in (*own, *shared, context)}
    return run


def open_from(opts: ExchangeOptions) -> ExchangeAPI:
    """Open the exchange the user pointed at: --server, else --home, else
    $TOKEN_EXCHANGE_URL, else the local one found from here. A remote exchange is an
    ``ExchangeClient``, which has the same methods and returns the same records."""
    home = opts.home
    url = opts.server or (None if home is not None else os.environ.get("TOKEN_EXCHANGE_URL"))
    if url:
        from ..client.http import ExchangeClient

        key = opts.api_key or os.environ.get("TOKEN_EXCHANGE_KEY")
        return ExchangeClient(url, key)
    return open_local(opts)


def respond(opts: ExchangeOptions, call: Callable[[Any], R], show: Callable[[R], None], *,
            json_as: Callable[[R], dict[str, Any]] | None = None,
            opener: Callable[[ExchangeOptions], Any] = open_from) -> None:
    """What most commands do: run ``call`` on the exchange ``opts`` names and print its
    result, with --json as the record's JSON (``json_as`` shapes a list into an object),
    else through ``show``. ``opener`` is ``open_local`` for what only the owner may do."""
    from ..formats.json_codec import to_json

    with opener(opts) as ex:
        result = call(ex)
    if opts.json:
        emit_json(json_as(result) if json_as is not None else to_json(result))
    else:
        show(result)


def command_group(name: str, help: str) -> typer.Typer:
    """A group of subcommands (``token-exchange pool …``); alone, it prints its help."""
    return typer.Typer(name=name, help=help, no_args_is_help=True)


def open_local(opts: ExchangeOptions) -> Exchange:
    """The exchange on this machine (for what only its owner may do: keys, serve)."""
    from ..clock import SystemClock
    from ..service.lifecycle import open_exchange

    ex = open_exchange(local_home(opts), clock=SystemClock(), database=opts.database)
    try:
        ex.open_accounts()  # agents the config added since: their start balances
    except BaseException:
        ex.close()
        raise
    return ex


def local_home(opts: ExchangeOptions) -> Path:
    """The local exchange's home directory, checked to exist."""
    from ..service.home import find_home

    if opts.server:
        raise InvalidInput("this command works on a local exchange only; drop --server")
    paths = find_home(opts.home)
    if not paths.config.exists() or not (opts.database or paths.exists()
                                         or paths.database_url() is not None):
        raise InvalidInput(
            f"no exchange at {paths.state}; run `token-exchange init --home {paths.home}`"
        )
    return paths.home

