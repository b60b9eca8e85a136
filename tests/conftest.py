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
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from agent_token_exchange import Exchange, SimulatedClock, init_exchange, open_exchange
from agent_token_exchange.cli import main

# The soak (`make soak`) is a long run of its own, not part of the suite: collected only
# when it is asked for.
collect_ignore = [] if os.environ.get("TOKEN_EXCHANGE_SOAK_STEPS") else ["test_soak.py"]
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
    # (pg_url and pg_schemas depend on pg_database, so their tests are among these.)
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


# The PostgreSQL DDL of a fresh exchange costs ~100 ms, more than most tests: so schemas
# are recycled. A schema a test has finished with is reused once its data is deleted,
# provided its structure (tables, columns, constraints, triggers and whether they are
# enabled, functions, schema version) still matches a freshly migrated reference; one a
# test altered is set aside and a new one made.
_FINGERPRINT = """
SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
  SELECT 'c:' || relname || ':' || relkind::text FROM pg_class
   WHERE relnamespace = %(s)s::regnamespace
  UNION ALL
  SELECT 'a:' || c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
         || ':' || a.attnotnull::text
    FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid
   WHERE c.relnamespace = %(s)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 't:' || c.relname || ':' || CASE WHEN t.tgisinternal THEN 'internal' ELSE t.tgname END
         || ':' || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON t.tgrelid = c.oid
   WHERE c.relnamespace = %(s)s::regnamespace
  UNION ALL
  SELECT 'n:' || conname || ':' || replace(pg_get_constraintdef(oid), %(s)s || '.', '')
    FROM pg_constraint WHERE connamespace = %(s)s::regnamespace
  UNION ALL
  SELECT 'p:' || proname || ':' || md5(prosrc) FROM pg_proc
   WHERE pronamespace = %(s)s::regnamespace
) AS parts(x)
"""


class SchemaPool:
    """Fresh-looking exchange schemas in the run's database, made or recycled."""

    def __init__(self, database: str) -> None:
        import psycopg

        from agent_token_exchange.ledger.postgres import PostgresStore

        self.database = database
        self.conn = psycopg.connect(database, autocommit=True)
        self.names = itertools.count(1)
        self.free: list[str] = []
        self.reference_schema = reference = self._create()
        PostgresStore(self.url(reference), create=True).close()
        self.reference = self._fingerprint(reference)
        # What the migrations themselves put in tables (the schema version, the chain's
        # head): a recycled schema gets these rows back after it is emptied.
        tables = [t for (t,) in self.conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (reference,))]
        self.seeded = [t for t in tables if self.conn.execute(
            f'SELECT EXISTS (SELECT 1 FROM {reference}."{t}")').fetchone()[0]]

    def url(self, schema: str) -> str:
        return with_database(self.database, urlsplit(self.database).path.lstrip("/"), schema)

    def checkout(self) -> str:
        """A schema for one test: a recycled one, emptied, or a new one."""
        while self.free:
            schema = self.free.pop()
            if self._reset(schema):
                return schema
        return self._create()

    def checkin(self, schema: str) -> None:
        self.free.append(schema)

    def _create(self) -> str:
        schema = f"t{next(self.names)}"
        self.conn.execute(f"CREATE SCHEMA {schema}")
        return schema

    def _fingerprint(self, schema: str) -> tuple[str, Any]:
        digest = self.conn.execute(_FINGERPRINT, {"s": schema}).fetchone()[0]
        version = self.conn.execute(f"SELECT version FROM {schema}.schema_version").fetchone()
        return digest, version

    def _reset(self, schema: str) -> bool:
        import psycopg

        try:
            with self.conn.transaction():
                self.conn.execute("SET LOCAL lock_timeout = '2s'")
                if self._fingerprint(schema) != self.reference:
                    return False
                # Triggers off while emptying: transfers refuse DELETE, by design.
                self.conn.execute("SET LOCAL session_replication_role = replica")
                tables = self.conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                ).fetchall()
                for (table,) in tables:
                    self.conn.execute(f'DELETE FROM {schema}."{table}"')
                for table in self.seeded:
                    self.conn.execute(
                        f'INSERT INTO {schema}."{table}" OVERRIDING SYSTEM VALUE '
                        f'SELECT * FROM {self.reference_schema}."{table}"')
                self.conn.execute(
                    "SELECT setval(oid, 1, false) FROM pg_class "
                    "WHERE relkind = 'S' AND relnamespace = %s::regnamespace", (schema,))
            return True
        except psycopg.Error:
            return False  # left as it is; a new schema takes its place

    def close(self) -> None:
        self.conn.close()


@pytest.fixture(scope="session")
def pg_schemas(pg_database: str) -> Iterator[SchemaPool]:
    pool = SchemaPool(pg_database)
    yield pool
    pool.close()


@pytest.fixture
def make_database_url(
    store_kind: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str | None]]:
    """Make a fresh, empty ledger location for this test's store: a PostgreSQL schema of
    its own (its URL), or None for SQLite (the ledger goes in the home)."""
    if store_kind == "sqlite":
        yield lambda: None
        return
    pool: SchemaPool = request.getfixturevalue("pg_schemas")
    taken: list[str] = []

    def make() -> str:
        taken.append(pool.checkout())
        return pool.url(taken[-1])

    yield make
    for schema in taken:
        pool.checkin(schema)


@pytest.fixture
def pg_url(pg_schemas: SchemaPool) -> Iterator[str]:
    """A fresh PostgreSQL schema's URL, for tests of PostgreSQL alone."""
    schema = pg_schemas.checkout()
    yield pg_schemas.url(schema)
    pg_schemas.checkin(schema)


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
