"""Pools made before stakes keep working: schema migration 5 gives their members stakes in
proportion to what each contributed, summing exactly to the balance (and migration 6
counts each old refusal once); a version 1 export imports the same way. Both stores."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from agent_token_exchange import Exchange, SimulatedClock, open_exchange
from agent_token_exchange.economy.accounts import INFERENCE, MINT, Kind, pool_account, wallet
from agent_token_exchange.economy.config import default_config_text, parse_config_text
from agent_token_exchange.formats.export import parse_export, to_json
from agent_token_exchange.ledger import open_store
from agent_token_exchange.ledger import store as store_module
from agent_token_exchange.ledger.schema import MIGRATIONS, SCHEMA_VERSION
from agent_token_exchange.service.lifecycle import import_exchange

from .conftest import with_database
from .ledger_checks import assert_invariants

T = 1_000_000
CONFIG = parse_config_text(default_config_text())


def _ledger_at_schema_3(location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger as the first pool rules left it: one pool, claude 1,900 and builder 1,100
    contributed, 1,999.995 spent and credited by contributions, plus a refusal."""
    with monkeypatch.context() as old:
        old.setattr(store_module, "MIGRATIONS", MIGRATIONS[:3])
        old.setattr(store_module, "SCHEMA_VERSION", 3)
        store = open_store(location, create=True)
    try:
        with store.transaction():
            for name, kind in ((MINT, "system"), (INFERENCE, "system"),
                               (wallet("claude"), "agent"), (wallet("builder"), "agent"),
                               (pool_account("pool-1"), "pool")):
                store.accounts.create(name, kind, 0)
            for agent in ("claude", "builder"):
                store.transfers.post(at=0, kind=Kind.GRANT, source=MINT,
                                     destination=wallet(agent), amount=10_000 * T)
            moves = [("claude", 1_900 * T), ("builder", 100 * T)]
            for agent, amount in moves:
                store.transfers.post(at=1, kind=Kind.POOL_CONTRIBUTION, source=wallet(agent),
                                     destination=pool_account("pool-1"), amount=amount,
                                     pool_id="pool-1")
            spend = store.transfers.post(at=2, kind=Kind.POOL_SPEND,
                                         source=pool_account("pool-1"), destination=INFERENCE,
                                         amount=1_999_995_000, pool_id="pool-1")
            store.transfers.post(at=3, kind=Kind.POOL_CONTRIBUTION, source=wallet("builder"),
                                 destination=pool_account("pool-1"), amount=1_000 * T + 1,
                                 pool_id="pool-1")
            store.execute("INSERT INTO pools (id, number, name, creator, min_contribution, "
                          "created_at) VALUES ('pool-1', 1, 'old', 'claude', 1000000, 0)")
            for agent, contributed, credited in (("claude", 1_900 * T, 1_899_995_250),
                                                 ("builder", 1_100 * T + 1, 99_999_750)):
                store.execute("INSERT INTO pool_members (pool_id, agent, joined_at, "
                              "contributed) VALUES ('pool-1', ?, 0, ?)", (agent, contributed))
                store.execute("INSERT INTO pool_credits (transfer_seq, agent, contributed, "
                              "credited) VALUES (?, ?, ?, ?)",
                              (spend, agent, 100 * T, credited))
            store.execute("INSERT INTO refusals (at, agent, pool_id, operation, code, message, "
                          "amount) VALUES (5, 'claude', NULL, 'llm', 'burst_limit', 'x', 1)")
        assert store.schema_version() == 3
    finally:
        store.close()


@pytest.fixture
def empty_ledger(tmp_path, database_url) -> Iterator[str]:
    """Where a ledger no migration has touched can be made: a SQLite path, or a new
    PostgreSQL schema in the test database (the shared ones are already migrated)."""
    if database_url is None:
        yield str(tmp_path / "old.db")
        return
    import psycopg

    database = urlsplit(database_url).path.lstrip("/")
    schema = f"old_{secrets.token_hex(4)}"
    with psycopg.connect(with_database(database_url, database), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield with_database(database_url, database, schema)
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_migration_5_gives_old_pools_stakes_summing_to_the_balance(empty_ledger, monkeypatch):
    """Opening a schema 3 ledger migrates it: the pool's 1,000.005001 is staked 19:11 as
    contributed (the odd micro-token to the largest remainder), old credits are not
    consumption, the refusal counts once, doctor is clean, and the pool works under the new
    rules (invite-only, draws within limits)."""
    location = empty_ledger
    _ledger_at_schema_3(location, monkeypatch)
    ex = Exchange(open_store(location), CONFIG, SimulatedClock())
    try:
        ex.open_accounts()  # the agents and contracts the old ledger did not have
        assert ex.store.schema_version() == SCHEMA_VERSION
        view = ex.pool_show("pool-1")
        stakes = {m.agent: m.stake for m in view.members}
        assert sum(stakes.values()) == view.balance == Decimal("1000.005001")
        # 1,000,005,001 × 1,900/3,000.000001 = 633,336,500.42…; × 1,100.000001/3,000.000001
        # = 366,668,500.57…: floors sum to 1,000,005,000, the last micro-token to builder.
        assert stakes == {"claude": Decimal("633.3365"), "builder": Decimal("366.668501")}
        assert view.open is False
        assert [(c.agent, c.stake, c.consumed) for c in ex.store.pools.credits("pool-1")] == [
            ("builder", 100 * T, False), ("claude", 100 * T, False)]
        (refusal,) = ex.refusals("claude")
        assert (refusal.count, refusal.first_at) == (1, refusal.at)
        assert ex.limits("claude").hourly_used == 0  # old pool spends were nobody's
        assert_invariants(ex)
        with pytest.raises(Exception, match="invite-only"):
            ex.pool_join("pool-1", "zero")
        ex.pool_spend("pool-1", "claude-sonnet", 10_000, "after", agent="builder")  # 30
        assert sum(m.stake for m in ex.pool_show("pool-1").members) == Decimal("970.005001")
        assert_invariants(ex)
    finally:
        ex.close()


def test_a_version_1_export_imports_with_stakes_as_migrated(home, clock, tmp_path,
                                                            make_database_url):
    """A version 1 file (no stakes, invites, draws or counts) imports: its pool gets stakes
    as migration 5 gives them, and it exports again in the current version (3)."""
    with open_exchange(home, clock=clock) as ex:
        pool = ex.pool_create("p", "claude", "0.000001", open=True).id
        ex.pool_join(pool, "builder")
        ex.pool_contribute(pool, "claude", 300)
        ex.pool_contribute(pool, "builder", 100)
        ex.pool_contribute(pool, "builder", "0.000001")
        image = ex.export_image()
    document = json.loads(to_json(image))
    document["version"] = 1
    del document["pool_invites"]
    for row in document["pools"]:
        del row["is_open"]
    for row in document["pool_members"]:
        del row["stake"], row["left_at"]
    for row in document["pool_credits"]:
        row["contributed"] = row.pop("stake")
        del row["consumed"]
    for row in document["refusals"]:
        del row["count"], row["first_at"]
    old = parse_export(json.dumps(document))
    assert {m.agent: m.stake for m in old.pool_members} == {"claude": 300 * T,
                                                             "builder": 100 * T + 1}
    imported = import_exchange(tmp_path / "copy", old, clock=clock,
                               database=make_database_url())
    assert imported.pools == 1
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert copy.pool_show(pool).balance == Decimal("400.000001")
        assert copy.pool_show(pool).open is False  # v1 pools take members by invitation
        assert json.loads(to_json(copy.export_image()))["version"] == 4
        assert_invariants(copy)
