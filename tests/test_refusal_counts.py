"""An agent at its cap does not grow the refusal log without bound (issue 10, finding 11):
repeats of one refusal (same agent, operation, code and pool) within a minute of the first
are one row with a count. Limits, export/import and doctor keep working. Both stores."""

from __future__ import annotations

import pytest

from agent_token_exchange import NotAllowed, RateLimited, open_exchange
from agent_token_exchange.ledger.refusals import COALESCE_US
from agent_token_exchange.service.lifecycle import import_exchange

from .ledger_checks import assert_invariants, refusal_rows


def _hammer(ex, times: int, count: int = 10**6) -> None:
    for _ in range(times):
        with pytest.raises(RateLimited):
            ex.llm("claude", "coding", count)


def test_an_agent_hammering_at_its_cap_grows_the_log_by_one_row(exchange, clock):
    """200 burst refusals in 20 seconds are one row counting 200, at the latest time, from
    the first; the limits page counts all 200."""
    first = clock.now_us()
    for _ in range(20):
        _hammer(exchange, 10)
        clock.advance(1)
    assert refusal_rows(exchange) == 1
    (row,) = exchange.refusals("claude")
    assert (row.count, row.code, row.first_at) == (200, "burst_limit", first)
    assert row.at == first + 19 * 1_000_000
    limits = exchange.limits("claude")
    assert (limits.refusals_last_hour, limits.refusals_last_day) == (200, 200)
    assert [r.count for r in limits.recent_refusals] == [200]
    assert_invariants(exchange)


def test_a_new_minute_another_rule_or_another_pool_starts_a_new_row(exchange, clock):
    """A repeat a minute after the row's first refusal starts a row; another code, another
    agent or another pool is never folded in."""
    _hammer(exchange, 3)
    clock.advance(seconds=COALESCE_US // 1_000_000)
    _hammer(exchange, 2)
    exchange.llm("claude", "coding", 30_000)  # 450 of the hourly 1,000 …
    exchange.llm("claude", "coding", 30_000)
    with pytest.raises(RateLimited, match="Hourly"):
        exchange.llm("claude", "coding", 30_000)  # … a third is over the hour
    with pytest.raises(RateLimited):
        exchange.llm("builder", "coding", 10**7)
    for name in ("a", "b"):
        pool = exchange.pool_create(name, "zero", "1").id
        for _ in range(2):
            with pytest.raises(NotAllowed):
                exchange.pool_join(pool, "claude")
    rows = [(r.agent, r.operation, r.code, r.pool_id, r.count)
            for r in exchange.refusals(limit=100)]
    assert rows == [
        ("claude", "pool_join", "not_allowed", "pool-2", 2),
        ("claude", "pool_join", "not_allowed", "pool-1", 2),
        ("builder", "llm", "burst_limit", None, 1),
        ("claude", "llm", "hourly_limit", None, 1),
        ("claude", "llm", "burst_limit", None, 2),
        ("claude", "llm", "burst_limit", None, 3),
    ]
    assert exchange.limits("claude").refusals_last_hour == 10
    assert_invariants(exchange)


def test_counts_survive_export_and_import(home, clock, tmp_path, make_database_url):
    """A counted refusal exports with its count and first time, and imports as it was."""
    with open_exchange(home, clock=clock) as ex:
        _hammer(ex, 4)
        clock.advance(5)
        _hammer(ex, 1)
        image = ex.export_image()
        (before,) = ex.refusals("claude")
    assert before.count == 5
    import_exchange(tmp_path / "copy", image, clock=clock, database=make_database_url())
    with open_exchange(tmp_path / "copy", clock=clock) as copy:
        assert copy.refusals("claude") == [before]
        assert copy.doctor().healthy
        _hammer(copy, 1)  # still within the minute of the first: folded into the same row
        assert [r.count for r in copy.refusals("claude")] == [6]
