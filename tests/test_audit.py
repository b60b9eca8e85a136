"""The audit chain: every transfer hashed to the one before, verified from the genesis."""

from __future__ import annotations

import sqlite3

import pytest

from agent_token_exchange import open_exchange
from agent_token_exchange.ledger import Kind, SQLiteStore
from agent_token_exchange.ledger.chain import GENESIS, HASHED_FIELDS, transfer_hash
from agent_token_exchange.ledger.migration import statements_for
from agent_token_exchange.ledger.schema import MIGRATIONS
from agent_token_exchange.service.audit import verify_chain

from .ledger_checks import assert_invariants

SHA_abc123 = "abc123".ljust(40, "0")  # a full object id


def _busy(ex, clock) -> None:
    ex.commit("claude@aygp-dr.ai", "agent-token-exchange", "fix: the bug", sha=SHA_abc123)
    ex.llm("zero", "coding", 5000)
    pool = ex.pool_create("opus-team", "claude", 100, open=True)
    ex.pool_join(pool.id, "builder")
    ex.pool_contribute(pool.id, "claude", 600)
    ex.pool_contribute(pool.id, "builder", 400)
    clock.advance(60)
    ex.pool_spend(pool.id, "claude-opus", 1000, "analysis")
    ex.pool_dissolve(pool.id)


def _tamper(home, sql: str, params: tuple = ()) -> None:
    """Edit the database behind the exchange's back, as someone with the file (or the
    PostgreSQL superuser's password) could: with its guarding triggers switched off."""
    url = home / ".exchange" / "database.url"
    if url.exists():
        import psycopg

        from agent_token_exchange.ledger.postgres import to_pyformat

        with psycopg.connect(url.read_text().strip(), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # no triggers fire
            conn.execute(to_pyformat(sql), params)
        return
    conn = sqlite3.connect(home / ".exchange" / "exchange.db", isolation_level=None)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'transfers'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(sql, params)
    for _, trigger in triggers:
        conn.execute(trigger)
    conn.close()


def test_every_transfer_chains_to_the_one_before(exchange, clock):
    """Each stored hash is sha256 over the previous hash and the transfer's fields."""
    _busy(exchange, clock)
    previous = GENESIS
    transfers = exchange.store.transfers.after()
    assert len(transfers) > 15
    for transfer in transfers:
        fields = {name: getattr(transfer, name) for name in HASHED_FIELDS}
        assert transfer.hash == transfer_hash(previous, fields)
        previous = transfer.hash
    report = exchange.audit()
    assert report.intact and report.head_seq == transfers[-1].seq
    assert report.head_hash == previous
    assert_invariants(exchange)


def test_an_edited_amount_is_caught_and_named(home, clock, cli):
    """An amount edited behind the exchange's back makes audit verify and doctor exit 3 naming that
    transfer."""
    with open_exchange(home, clock=clock) as ex:
        _busy(ex, clock)
    assert cli("audit", "verify").code == 0
    _tamper(home, "UPDATE transfers SET amount = amount + 1000000 WHERE seq = 14")
    result = cli("audit", "verify")
    assert result.code == 3
    assert result.err.strip() == ("integrity problem: transfer #14 was altered: its contents "
                                  "or hash no longer match the chain")
    machine = cli("audit", "verify", "--json")
    assert machine.code == 3 and machine.json["first_bad_seq"] == 14
    doctor = cli("doctor", "--json")
    assert doctor.code == 3
    assert any(f["check"] == "audit" and "#14" in f["message"] and not f["ok"]
               for f in doctor.json["findings"])


def test_an_edit_that_rehashes_its_row_is_caught_at_the_next(home, clock, cli):
    """Recomputing the edited row's own hash does not help: the next row names it."""
    with open_exchange(home, clock=clock) as ex:
        _busy(ex, clock)
        t = ex.store.transfers.get(12)
        before = ex.store.transfers.get(11)
    fields = {name: getattr(t, name) for name in HASHED_FIELDS}
    fields["description"] = "nothing to see"
    forged = transfer_hash(before.hash, fields)
    _tamper(home, "UPDATE transfers SET description = ?, hash = ? WHERE seq = 12",
            ("nothing to see", forged))
    result = cli("audit", "verify", "--json")
    assert result.code == 3 and result.json["first_bad_seq"] == 13


def test_a_removed_newest_transfer_is_caught(home, clock, cli):
    """Deleting the newest transfer is caught as removed, naming its seq."""
    with open_exchange(home, clock=clock) as ex:
        _busy(ex, clock)
        last = ex.store.transfers.head()[0]
    _tamper(home, "DELETE FROM pool_credits")
    _tamper(home, "DELETE FROM transfers WHERE seq = ?", (last,))
    result = cli("audit", "verify", "--json")
    assert result.code == 3 and result.json["first_bad_seq"] == last
    assert "removed" in result.json["error"]["message"]


def test_expect_head_catches_a_rewritten_tail(home, clock, cli):
    """audit verify --expect-head passes for an earlier noted head still in the chain and fails for
    an unknown one."""
    with open_exchange(home, clock=clock) as ex:
        _busy(ex, clock)
    noted = cli("audit", "verify", "--json").json["head_hash"]
    with open_exchange(home, clock=clock) as ex:
        ex.llm("zero", "coding", 100)
    assert cli("audit", "verify", "--expect-head", noted).code == 0
    assert cli("audit", "verify", "--expect-head", "f" * 64).code == 3


@pytest.mark.sqlite_only  # PostgreSQL's: test_postgres.py
def test_transfers_stay_immutable_after_the_migration(home):
    """After the chain migration SQLite still refuses to update or delete transfers."""
    conn = sqlite3.connect(home / ".exchange" / "exchange.db", isolation_level=None)
    for sql in ("UPDATE transfers SET amount = 1 WHERE seq = 1",
                "UPDATE transfers SET hash = 'x' WHERE seq = 1",
                "DELETE FROM transfers WHERE seq = 1"):
        try:
            conn.execute(sql)
        except sqlite3.DatabaseError as exc:
            assert "transfers are" in str(exc)
        else:
            raise AssertionError(f"{sql} was allowed")
    conn.close()


def test_an_old_database_is_backfilled_by_the_migration(tmp_path, home, clock):
    """A v1 ledger (no hashes) gets its chain when migration 3 runs, then verifies."""
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    for statement in statements_for(MIGRATIONS[0], "sqlite"):
        conn.execute(statement)
    for name in ("system:mint", "agent:zero", "system:inference"):
        conn.execute("INSERT INTO accounts (name, kind, balance, created_at) "
                     "VALUES (?, 'x', 0, 1)", (name,))
    conn.execute("INSERT INTO transfers (at, kind, source, destination, amount) "
                 "VALUES (1, 'grant', 'system:mint', 'agent:zero', 5000000)")
    conn.execute("INSERT INTO transfers (at, kind, source, destination, amount, model) "
                 "VALUES (2, 'inference', 'agent:zero', 'system:inference', 700, 'llama3.2')")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    store = SQLiteStore(old)
    try:
        assert store.schema_version() == MIGRATIONS[-1].number
        transfers = store.transfers.after()
        assert all(t.hash for t in transfers)
        assert store.transfers.head() == (2, transfers[-1].hash)
        assert verify_chain(store).intact
        seq = store.transfers.post(at=3, kind=Kind.AWARD, source="system:mint",
                                  destination="agent:zero", amount=1)
        assert seq == 3 and verify_chain(store).intact
    finally:
        store.close()
