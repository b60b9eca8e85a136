"""Shared fixtures: a fresh exchange on a simulated clock, and the CLI's real entry point.

Every test that uses ``home``, ``exchange`` or ``cli`` (or ``database_url``) runs twice:
on SQLite and on PostgreSQL. The PostgreSQL server is ``$TOKEN_EXCHANGE_TEST_PG``
(default ``postgresql://postgres@127.0.0.1:5432/test``); the run creates a database of its
own there, gives each test a fresh schema in it, and drops the database at the end. An
unreachable server fails those tests; ``TOKEN_EXCHANGE_TEST_PG=off`` runs SQLite only.
A test that only makes sense on SQLite says so with ``@pytest.mark.sqlite_only``.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from agent_token_exchange import Exchange, SimulatedClock, init_exchange, open_exchange
from agent_token_exchange.cli import main

PG_ENV = "TOKEN_EXCHANGE_TEST_PG"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
STORES = ("sqlite", "postgresql")


def pg_server_url() -> str | None:
    """The server the PostgreSQL half of the suite uses, or None when switched off."""
    url = os.environ.get(PG_ENV, "").strip() or DEFAULT_PG
    return None if url.lower() == "off" else url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: run this test on SQLite only (it tests SQLite itself)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    url = pg_server_url()
    return f"stores: sqlite, postgresql at {url}" if url else (
        f"stores: sqlite only ({PG_ENV}=off)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        kinds = ["sqlite"] if only_sqlite or pg_server_url() is None else list(STORES)
        metafunc.parametrize("store_kind", kinds)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With PostgreSQL switched off, leave out the tests written for it alone."""
    if pg_server_url() is not None:
        return
    postgres_only = [item for item in items if "pg_database" in getattr(item, "fixturenames", ())]
    if postgres_only:
        config.hook.pytest_deselected(items=postgres_only)
        items[:] = [item for item in items if item not in postgres_only]


def with_database(url: str, dbname: str, schema: str | None = None) -> str:
    """``url`` pointing at another database (and, given one, a schema as search_path)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    if schema is not None:
        query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(path=f"/{dbname}", query=urlencode(query)))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this test run's own on the test server, dropped at the end."""
    import psycopg

    server = pg_server_url()
    if server is None:
        pytest.fail(f"{PG_ENV}=off but a test asked for PostgreSQL", pytrace=False)
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL test server {server} is unreachable ({str(exc).strip()}). Start it, "
            f"point {PG_ENV} at another server, or set {PG_ENV}=off to run SQLite only.",
            pytrace=False,
        )
    name = f"atx_test_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


_schemas = itertools.count(1)


@pytest.fixture
def make_database_url(store_kind: str, request: pytest.FixtureRequest) -> Callable[[], str | None]:
    """Make a fresh, empty ledger location for this test's store: a new PostgreSQL schema
    (its URL), or None for SQLite (the ledger goes in the home)."""
    if store_kind == "sqlite":
        return lambda: None
    import psycopg

    database = request.getfixturevalue("pg_database")

    def make() -> str:
        schema = f"t{next(_schemas)}"
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return with_database(database, urlsplit(database).path.lstrip("/"), schema)

    return make


@pytest.fixture
def database_url(make_database_url: Callable[[], str | None]) -> str | None:
    """Where this test's ledger lives: None (SQLite in the home) or a PostgreSQL URL."""
    return make_database_url()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def home(tmp_path: Path, clock: SimulatedClock, database_url: str | None) -> Path:
    """An initialised exchange home with the default (seed) config. On PostgreSQL the home
    records the database URL, so everything that opens the home uses it."""
    init_exchange(tmp_path, clock=clock, database=database_url)
    return tmp_path


@pytest.fixture
def exchange(home: Path, clock: SimulatedClock) -> Iterator[Exchange]:
    with open_exchange(home, clock=clock) as ex:
        yield ex


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]):
    """Run `token-exchange ARGS --home HOME` in-process through main()."""

    def run(*args: str, with_home: bool = True) -> CliResult:
        capsys.readouterr()
        argv = [*args, "--home", str(home)] if with_home else list(args)
        code = main(argv)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def set_config(home: Path, edit) -> None:
    """Rewrite the home's config.toml with ``edit(text) -> text``."""
    path = home / ".exchange" / "config.toml"
    path.write_text(edit(path.read_text()))


os.environ.pop("TOKEN_EXCHANGE_HOME", None)
os.environ.pop("TOKEN_EXCHANGE_DATABASE_URL", None)
