"""The same exchange on SQLite and on PostgreSQL: one scenario through the library and the
CLI, run on both stores by the parametrised fixtures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_token_exchange import Conflict, Exchange, InsufficientFunds, RateLimited

SHA_abc123 = "abc123".ljust(40, "0")  # a full object id


def test_a_day_of_work_balances_on_either_store(exchange: Exchange) -> None:
    """Earn, spend, pool, refuse and replay: the ledger ends consistent on both stores."""
    paid = exchange.commit("claude@x.ai", "nexushive-setup", "fix: a bug", sha=SHA_abc123)
    again = exchange.commit("claude@x.ai", "nexushive-setup", "fix: a bug", sha=SHA_abc123)
    assert again == replace(paid, replayed=True)
    charge = exchange.llm("claude", "coding", 10_000, idempotency_key="k1")
    assert charge.amount == 150
    assert exchange.llm("claude", "coding", 10_000, idempotency_key="k1") == replace(
        charge, replayed=True)
    with pytest.raises(Conflict):
        exchange.llm("claude", "coding", 20_000, idempotency_key="k1")
    with pytest.raises(RateLimited):
        exchange.llm("claude", "coding", 40_000)  # 600 > burst 500
    pool = exchange.pool_create("opus-team", "claude", 100, open=True)
    exchange.pool_join(pool.id, "builder")
    exchange.pool_contribute(pool.id, "claude", 600)
    exchange.pool_contribute(pool.id, "builder", 400)
    spend = exchange.pool_spend(pool.id, "claude-opus", 10_000, "analysis")
    assert [c.credited for c in spend.credits] == [60, 90]
    with pytest.raises(InsufficientFunds):
        exchange.pool_contribute(pool.id, "builder", 9_500)
    dissolved = exchange.pool_dissolve(pool.id)
    assert dissolved.amount == 850
    report = exchange.doctor()
    assert report.healthy, report.errors
    assert [t.seq for t in exchange.store.transfers.after()] == list(
        range(1, exchange.store.transfers.last_seq() + 1))


def test_cli_reads_what_the_library_wrote(cli) -> None:
    """The CLI opens the same ledger (the home remembers a PostgreSQL URL)."""
    assert cli("llm", "claude", "coding", "10000", "--json").code == 0
    shown = cli("balance", "claude", "--json")
    assert shown.code == 0
    assert shown.json["tokens"] == "9850"
    assert cli("doctor", "--json").json["healthy"] is True
