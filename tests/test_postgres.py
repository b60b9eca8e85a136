"""Choosing the store, migrating it, and what each store guarantees by itself: schema
versions, gap-free transfer numbers, append-only transfers, concurrent first opens."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent_token_exchange import (
    Exchange,
    IntegrityError,
    RateLimited,
    SimulatedClock,
    init_exchange,
)
from agent_token_exchange import open_exchange as open_ex
from agent_token_exchange.cli import main
from agent_token_exchange.economy.accounts import MINT, wallet
from agent_token_exchange.ledger import SCHEMA_VERSION, Kind
from agent_token_exchange.ledger.postgres import to_pyformat
from agent_token_exchange.money import to_micro


def test_placeholders_translate_for_psycopg() -> None:
    """`?` becomes %s and a literal % is escaped; a ? inside a string literal stays."""
    assert to_pyformat("SELECT a FROM t WHERE b = ? AND c LIKE '5%?'") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE '5%%?'")


def test_the_schema_version_is_recorded(exchange: Exchange) -> None:
    """Both stores report the version of the last migration applied."""
    assert exchange.store.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_a_clear_error(
        exchange: Exchange, home: Path, store_kind: str) -> None:
    """A database migrated by a newer release is not opened by an older program."""
    if store_kind == "sqlite":
        exchange.store.execute("PRAGMA user_version = 99")
    else:
        exchange.store.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(IntegrityError, match="v99 is newer than this program"):
        open_ex(home)


def test_transfer_numbers_stay_gap_free_after_a_rollback(exchange: Exchange) -> None:
    """A transaction that appended a transfer and rolled back leaves no hole in the log
    (PostgreSQL's identity sequences would; the insert trigger numbers rows instead)."""
    last = exchange.store.transfers.last_seq()
    with pytest.raises(RuntimeError), exchange.store.transaction():
        exchange.store.transfers.post(at=1, kind=Kind.AWARD, source=MINT,
                                     destination=wallet("claude"), amount=5)
        raise RuntimeError("abandon")
    payment = exchange.award("claude", 5, "test", "after a rollback")
    assert payment.seq == last + 1
    assert exchange.doctor().healthy


def test_transfers_cannot_be_changed_or_deleted(exchange: Exchange) -> None:
    """The database itself refuses to edit or delete a transfer."""
    with pytest.raises(Exception, match="immutable"), exchange.store.transaction():
        exchange.store.execute("UPDATE transfers SET amount = 1 WHERE seq = 1")
    with pytest.raises(Exception, match="immutable"), exchange.store.transaction():
        exchange.store.execute("UPDATE transfers SET hash = 'x' WHERE seq = 1")
    with pytest.raises(Exception, match="permanent"), exchange.store.transaction():
        exchange.store.execute("DELETE FROM transfers WHERE seq = 1")


def _init(index: int, barrier: Any, results: Any, home: str, url: str | None) -> None:
    try:
        barrier.wait(timeout=60)
        init_exchange(home, clock=SimulatedClock(), database=url)
        results.put((index, "ok"))
    except BaseException as exc:
        results.put((index, f"{type(exc).__name__}: {exc}"))


def test_eight_processes_opening_a_new_exchange_at_once_grant_each_agent_once(
        tmp_path: Path, database_url: str | None) -> None:
    """Migrations run under a lock, and only the process that created a wallet grants its
    start balance: eight simultaneous first opens leave one ledger, not eight."""
    fork = multiprocessing.get_context("fork")
    barrier, results = fork.Barrier(8), fork.Queue()
    procs = [fork.Process(target=_init, args=(i, barrier, results, str(tmp_path), database_url))
             for i in range(8)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60)[1] for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    assert outcomes == ["ok"] * 8
    with open_ex(tmp_path) as ex:
        grants = [t for t in ex.store.transfers.after() if t.kind == Kind.GRANT.value]
        assert sorted(t.destination for t in grants) == sorted(wallet(a) for a in ex.agents())
        assert ex.balance("claude").tokens == Decimal(10_000)
        assert ex.store.schema_version() == SCHEMA_VERSION
        assert ex.doctor().healthy


def test_init_with_a_database_url_records_it_for_later_commands(
        tmp_path: Path, database_url: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    """`init --database URL` keeps the ledger in PostgreSQL and the home remembers the URL,
    so later commands need only --home; without a URL the ledger is SQLite in the home."""
    extra = ["--database", database_url] if database_url else []
    assert main(["init", "--home", str(tmp_path), "--json", *extra]) == 0
    capsys.readouterr()
    assert main(["llm", "claude", "coding", "10000", "--home", str(tmp_path), "--json"]) == 0
    capsys.readouterr()
    state = tmp_path / ".exchange"
    if database_url:
        assert (state / "database.url").read_text().strip() == database_url
        assert (state / "database.url").stat().st_mode & 0o077 == 0  # may hold a password
        assert not (state / "exchange.db").exists()
    else:
        assert (state / "exchange.db").exists()
        assert not (state / "database.url").exists()
    with open_ex(tmp_path) as ex:
        assert ex.balance("claude").tokens == Decimal(9_850)


def test_the_environment_variable_selects_postgresql(
        tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """TOKEN_EXCHANGE_DATABASE_URL does what --database does."""
    monkeypatch.setenv("TOKEN_EXCHANGE_DATABASE_URL", pg_database)
    assert main(["init", "--home", str(tmp_path), "--json"]) == 0
    assert capsys.readouterr().out.count('"created": true') == 1
    assert not (tmp_path / ".exchange" / "exchange.db").exists()
    monkeypatch.delenv("TOKEN_EXCHANGE_DATABASE_URL")
    with open_ex(tmp_path) as ex:  # the URL recorded at init
        assert ex.store.__class__.__name__ == "PostgresStore"
        assert ex.balance("spark").tokens == Decimal(10_000)


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/nowhere", 3, "cannot connect to PostgreSQL"),
        ("postgresql://postgres:hunter2@127.0.0.1/no_such_db_x", 3, "cannot connect"),
        ("postgresql://postgres@127.0.0.1:1/nowhere?password=hunter2", 3, "cannot connect"),
        ("postgresql://postgres@127.0.0.1:1/x?sslmode=disable&Password=hunter2", 3,
         "cannot connect"),
        ("mysql://root@localhost/x", 2, "must be a postgresql:// URL"),
    ],
)
def test_a_bad_database_url_is_one_clear_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, code: int,
        message: str) -> None:
    """An unreachable server or a wrong scheme: one line, the right exit code, the password
    hidden, and nothing written."""
    init_exchange(tmp_path)
    assert main(["balance", "claude", "--home", str(tmp_path), "--database", url]) == code
    err = capsys.readouterr().err
    assert message in err
    assert "hunter2" not in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_database_without_an_exchange_says_to_run_init(
        tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Opening an empty PostgreSQL database does not create an exchange behind your back."""
    import psycopg

    init_exchange(tmp_path)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS untouched")
    url = f"{pg_database}?options=-csearch_path%3Duntouched"
    assert main(["status", "--home", str(tmp_path), "--database", url]) == 3
    assert "no exchange in this database" in capsys.readouterr().err


def test_init_does_not_silently_move_a_sqlite_exchange(
        tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A home whose ledger is SQLite refuses `init --database`: its history would be
    left behind."""
    init_exchange(tmp_path)
    assert main(["init", "--home", str(tmp_path), "--database", pg_database]) == 2
    assert "keeps its ledger in" in capsys.readouterr().err
    assert not (tmp_path / ".exchange" / "database.url").exists()


def test_a_lost_connection_is_one_clear_error(tmp_path: Path, pg_url: str) -> None:
    """The server ending the session mid-use is an IntegrityError naming the cause (not a
    driver traceback), and nothing half-written stays behind."""
    import psycopg

    init_exchange(tmp_path, database=pg_url)
    with open_ex(tmp_path) as ex:
        before = ex.store.transfers.last_seq()
        with psycopg.connect(pg_url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (ex.store.conn.info.backend_pid,))
        with pytest.raises(IntegrityError, match="lost the connection to PostgreSQL"):
            ex.llm("claude", "coding", 10_000)
    with open_ex(tmp_path) as ex:
        assert ex.store.transfers.last_seq() == before
        assert ex.balance("claude").tokens == Decimal(10_000)


def test_an_exchange_moves_between_stores_by_export_and_import(
        exchange: Exchange, home: Path, tmp_path: Path, pg_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """export (from either store) -> import --database into PostgreSQL -> export gives the
    same bytes: the way a team moves its exchange onto a server."""
    exchange.llm("claude", "coding", 10_000)
    exchange.award("builder", 150, "beads", "closed an issue")
    with pytest.raises(RateLimited):  # a refusal travels too
        exchange.llm("claude", "coding", 40_000)
    first, second, moved = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "moved"
    assert main(["export", "--out", str(first), "--home", str(home)]) == 0
    assert main(["import", str(first), "--home", str(moved), "--database", pg_url]) == 0
    assert (moved / ".exchange" / "database.url").read_text().strip() == pg_url
    assert main(["export", "--out", str(second), "--home", str(moved)]) == 0
    capsys.readouterr()
    assert second.read_bytes() == first.read_bytes()
    with open_ex(moved) as ex:
        assert type(ex.store).__name__ == "PostgresStore"
        assert ex.doctor().healthy
        assert ex.llm("claude", "coding", 1000).seq == ex.store.transfers.last_seq()


def test_the_http_service_serves_a_postgresql_exchange(tmp_path: Path, pg_url: str) -> None:
    """`serve` over a home whose ledger is PostgreSQL: every worker thread's store is the
    server's database, and a spend through the API lands there."""
    from agent_token_exchange.client.http import ExchangeClient

    from .server.conftest import start_service

    init_exchange(tmp_path, database=pg_url)
    service, server = start_service(tmp_path)
    try:
        with ExchangeClient(service.url, service.keys["claude"]) as client:
            charges = [client.llm("claude", "coding", 10_000) for _ in range(3)]
    finally:
        server.stop()
    with open_ex(tmp_path) as ex:
        assert type(ex.store).__name__ == "PostgresStore"
        assert [ex.store.transfers.get(c.seq).amount for c in charges] == [to_micro(150)] * 3
        assert ex.balance("claude").tokens == Decimal(10_000 - 450)
        assert ex.doctor().healthy
