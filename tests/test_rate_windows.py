"""Rolling windows on the simulated clock: exact edges, and cost independent of history."""

from decimal import Decimal

import pytest

from agent_token_exchange import RateLimited

from .ledger_checks import assert_invariants, sqlite_connection

T = Decimal(1)  # one token
OPUS_450 = 30000  # claude-opus tokens that cost 450


def test_spend_59_59_later_still_counts_60_01_does_not(exchange, clock):
    """A spend still counts toward the hourly limit 59:59 later and no longer counts at 60:01."""
    exchange.llm("claude", "coding", OPUS_450)
    exchange.llm("claude", "coding", OPUS_450)  # 900 used this hour
    clock.advance(59 * 60 + 59)
    with pytest.raises(RateLimited, match="Hourly limit reached"):
        exchange.llm("claude", "coding", OPUS_450)
    clock.advance(2)  # now 60:01 after the first two
    assert exchange.llm("claude", "coding", OPUS_450).amount == 450 * T
    assert_invariants(exchange)


def test_window_slides_spend_by_spend(exchange, clock):
    """The hourly window slides spend by spend, dropping each spend an hour after it."""
    exchange.llm("claude", "coding", OPUS_450)  # t=0
    clock.advance(30 * 60)
    exchange.llm("claude", "coding", OPUS_450)  # t=30m, 900 in window
    clock.advance(30 * 60 + 1)  # the first has left the window; 450 remain
    exchange.llm("claude", "coding", OPUS_450)
    with pytest.raises(RateLimited):
        exchange.llm("claude", "coding", OPUS_450)
    assert exchange.limits("claude").hourly_used == 900 * T


def test_daily_limit_over_many_hours(exchange, clock):
    """The daily limit counts spends across the last 24 hours and frees room as the oldest leave."""
    exchange.award("claude", 20_000, "test", "enough to reach the daily limit")
    for _ in range(22):
        exchange.llm("claude", "coding", OPUS_450)
        clock.advance(3600)
    # 22 × 450 = 9,900 inside the last 24 hours
    with pytest.raises(RateLimited, match=r"Daily limit reached \(9,900.00/10,000 used"):
        exchange.llm("claude", "coding", OPUS_450)
    clock.advance(3 * 3600)  # the oldest three spends leave the day
    exchange.llm("claude", "coding", OPUS_450)
    assert_invariants(exchange)


def test_limits_view_reports_use_and_headroom(exchange):
    """limits reports hourly and daily use and the headroom left."""
    exchange.llm("claude", "coding", OPUS_450)
    view = exchange.limits("claude")
    assert (view.hourly_used, view.daily_used, view.headroom) == (450 * T, 450 * T, 500 * T)
    exchange.llm("claude", "coding", OPUS_450)
    assert exchange.limits("claude").headroom == 100 * T


@pytest.mark.sqlite_only  # counts SQLite VM steps
def test_window_check_is_a_bounded_number_of_indexed_lookups(exchange, clock):
    """The rate-limit check reads O(1) rows whatever the history: count rows SQLite visits."""
    conn = sqlite_connection(exchange)

    def steps_for_one_spend() -> int:
        count = 0

        def tick() -> int:
            nonlocal count
            count += 1
            return 0

        conn.set_progress_handler(tick, 1)
        exchange.llm("zero", "coding", 10)
        conn.set_progress_handler(None, 1)
        return count

    clock.advance(1)
    small = steps_for_one_spend()
    for _ in range(2000):
        clock.advance(60)
        exchange.llm("zero", "coding", 10)
    large = steps_for_one_spend()
    assert large < small * 1.5, (small, large)


def test_hourly_limit_is_exact_to_the_micro_token(exchange):
    """Reaching exactly 1,000 in the hour passes; one micro-token more is refused."""
    exchange.award("claude", 5000, "test", "headroom")
    for _ in range(2):
        exchange.llm("claude", "coding", OPUS_450)
    exchange.llm("claude", "coding", 100, model="llama3.2")  # 0.01
    exchange.llm("claude", "coding", 99_900, model="llama3.2")  # 9.99 -> 910.00
    exchange.llm("claude", "coding", 6000)  # 90 -> exactly 1,000.00
    assert exchange.limits("claude").hourly_used == 1000 * T
    with pytest.raises(RateLimited, match="Hourly limit reached"):
        exchange.llm("claude", "coding", 1, model="llama3.2")  # 0.0001 more
