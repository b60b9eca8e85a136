"""Issue 10, findings 1-3, on both stores: a pool takes members by consent, each member
spends only through its stake, draws count against each member's own limits, and leaving or
dissolving returns exactly what is each member's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent_token_exchange import NotAllowed, RateLimited, open_exchange

from .conftest import set_config
from .ledger_checks import assert_invariants, snapshot, tamper_with_stake


def test_finding_1_nobody_joins_or_spends_a_pool_uninvited(exchange):
    """spark can neither join claude's invite-only pool nor spend its 600: refused, nothing
    moves; invited and joined without a stake it still may not spend."""
    pool = exchange.pool_create("opus", "claude", "10").id
    exchange.pool_invite(pool, "builder")
    exchange.pool_join(pool, "builder")
    exchange.pool_contribute(pool, "claude", "600")
    exchange.pool_contribute(pool, "builder", "100")
    before = snapshot(exchange)
    with pytest.raises(NotAllowed, match="invite-only"):
        exchange.pool_join(pool, "spark")
    with pytest.raises(NotAllowed, match="spark is not a member"):
        exchange.pool_spend(pool, "claude-opus", 40_000, "drain", agent="spark")
    assert snapshot(exchange) == before
    assert exchange.pool_show(pool).balance == Decimal(700)
    exchange.pool_invite(pool, "spark")  # consent: now it may join, but owns nothing
    exchange.pool_join(pool, "spark")
    with pytest.raises(NotAllowed, match="spark has no stake"):
        exchange.pool_spend(pool, "claude-opus", 10_000, "drain", agent="spark")
    assert snapshot(exchange) == before
    # Recorded: the join, and the two spends (alike within a minute: one row, counted 2).
    assert [(r.operation, r.count) for r in exchange.refusals("spark")] == [
        ("pool_spend", 2), ("pool_join", 1)]
    assert_invariants(exchange)


def test_only_the_creator_invites_and_an_open_pool_takes_anyone(exchange):
    """A member may not invite (the creator does); an open pool takes anyone; joining uses
    the invitation, and leaving ends the membership (coming back takes a new one)."""
    pool = exchange.pool_create("closed", "claude", "1").id
    exchange.pool_invite(pool, "builder")
    exchange.pool_join(pool, "builder")
    with pytest.raises(NotAllowed, match="only pool-1's creator"):
        exchange.pool_invite(pool, "zero", by="builder")
    assert exchange.pool_show(pool).invited == ()
    exchange.pool_leave(pool, "builder")
    with pytest.raises(NotAllowed, match="invite-only"):
        exchange.pool_join(pool, "builder")
    open_pool = exchange.pool_create("all", "zero", "1", open=True)
    assert open_pool.open is True
    assert [m.agent for m in exchange.pool_join(open_pool.id, "spark").members] == [
        "spark", "zero"]
    assert_invariants(exchange)


def test_finding_2_dissolve_returns_stakes_not_lifetime_shares(home, clock):
    """claude puts in 1,900, builder 100; the pool spends 1,999.995; builder adds 1,000;
    claude dissolves: builder gets its 1,000.00025 back and claude 0.00475 (the first rules
    moved about 633 of builder's tokens to claude)."""
    set_config(home, lambda text: text.replace("burst = 500", "burst = 5000").replace(
        "hourly = 1000", "hourly = 5000"))
    with open_exchange(home, clock=clock) as ex:
        pool = ex.pool_create("p", "claude", "1").id
        ex.pool_invite(pool, "builder")
        ex.pool_join(pool, "builder")
        ex.pool_contribute(pool, "claude", 1_900)
        ex.pool_contribute(pool, "builder", 100)
        spend = ex.pool_spend(pool, "claude-opus", 133_333, "big job")  # 1,999.995
        assert {c.agent: c.credited for c in spend.credits} == {
            "claude": Decimal("1899.99525"), "builder": Decimal("99.99975")}
        ex.pool_contribute(pool, "builder", 1_000)
        assert {m.agent: m.stake for m in ex.pool_show(pool).members} == {
            "claude": Decimal("0.00475"), "builder": Decimal("1000.00025")}
        done = ex.pool_dissolve(pool)
        assert {r.agent: r.amount for r in done.refunds} == {
            "claude": Decimal("0.00475"), "builder": Decimal("1000.00025")}
        assert ex.balance("builder").tokens == Decimal("9900.00025")
        assert ex.balance("claude").tokens == Decimal("8100.00475")
        assert_invariants(ex)


def test_finding_3_a_pool_spend_fits_each_members_own_limits(exchange):
    """claude at 900 of its hourly 1,000 cannot spend 7,999.995 through a pool (16× the burst,
    8× the hourly): refused naming claude, nothing moves; a draw over claude's hour left is
    refused too, even when builder spends; a draw that fits counts in claude's window."""
    exchange.llm("claude", "coding", 30_000)  # 450 each on claude-opus
    exchange.llm("claude", "coding", 30_000)
    assert exchange.limits("claude").hourly_used == Decimal(900)
    pool = exchange.pool_create("dodge", "claude", "0.000001").id
    exchange.pool_invite(pool, "builder")
    exchange.pool_join(pool, "builder")
    exchange.pool_contribute(pool, "builder", "0.000001")
    exchange.pool_contribute(pool, "claude", 8_000)
    before = snapshot(exchange)
    with pytest.raises(RateLimited, match="burst limit: claude's share") as burst:
        exchange.pool_spend(pool, "claude-opus", 533_333, "dodge")  # 7,999.995
    assert burst.value.kind == "burst"
    with pytest.raises(RateLimited, match="Hourly limit reached for claude") as hourly:
        exchange.pool_spend(pool, "claude-opus", 10_000, "over the hour", agent="builder")
    assert (hourly.value.kind, hourly.value.used, hourly.value.limit) == (
        "hourly", Decimal(900), Decimal(1000))
    assert snapshot(exchange) == before
    assert exchange.limits("claude").hourly_used == Decimal(900)
    done = exchange.pool_spend(pool, "claude-opus", 6_000, "fits", agent="builder")  # 90
    drawn = {c.agent: c.credited for c in done.credits}
    assert sum(drawn.values()) == Decimal(90) and drawn["builder"] <= Decimal("0.000001")
    assert exchange.limits("claude").hourly_used == Decimal(900) + drawn["claude"]
    assert_invariants(exchange)


def test_a_spend_needs_min_members_staking_the_minimum(exchange):
    """Two members must each stake at least the pool's minimum: a member whose stake fell
    below it by a spend no longer counts, though any member with a stake may spend."""
    pool = exchange.pool_create("p", "claude", "100", open=True).id
    exchange.pool_join(pool, "builder")
    exchange.pool_contribute(pool, "claude", 100)
    with pytest.raises(NotAllowed, match="needs 2 members with a stake of at least 100"):
        exchange.pool_spend(pool, "llama3.2", 1_000, "x")
    exchange.pool_contribute(pool, "builder", 100)
    exchange.pool_spend(pool, "claude-sonnet", 10_000, "x", agent="builder")  # 30: 15 each
    assert {m.agent: m.stake for m in exchange.pool_show(pool).members} == {
        "claude": Decimal(85), "builder": Decimal(85)}
    with pytest.raises(NotAllowed, match="has 0"):
        exchange.pool_spend(pool, "llama3.2", 1_000, "x")
    assert_invariants(exchange)


def test_leaving_returns_the_stake_and_the_creator_dissolves_instead(exchange):
    """A member leaves with exactly its stake; the creator may not leave; what is left is
    the others' stakes, which dissolving returns."""
    pool = exchange.pool_create("p", "claude", "1", open=True).id
    for agent in ("builder", "zero"):
        exchange.pool_join(pool, agent)
    for agent, amount in (("claude", 300), ("builder", 200), ("zero", 100)):
        exchange.pool_contribute(pool, agent, amount)
    exchange.pool_spend(pool, "claude-sonnet", 20_000, "x")  # 60: 30 / 20 / 10
    left = exchange.pool_leave(pool, "zero")
    assert (left.amount, left.pool_balance) == (Decimal(90), Decimal(450))
    assert exchange.balance("zero").tokens == Decimal(9_990)
    with pytest.raises(NotAllowed, match="dissolves the pool"):
        exchange.pool_leave(pool, "claude")
    with pytest.raises(NotAllowed, match="zero is not a member"):
        exchange.pool_leave(pool, "zero")
    view = exchange.pool_show(pool)
    assert [m.agent for m in view.members] == ["builder", "claude"]
    assert view.total_contributed == Decimal(600)  # a leaver's contributions still count
    done = exchange.pool_dissolve(pool)
    assert {r.agent: r.amount for r in done.refunds} == {"claude": Decimal(270),
                                                          "builder": Decimal(180)}
    assert_invariants(exchange)


def test_doctor_finds_stakes_that_do_not_sum_to_the_balance(exchange):
    """A pool whose stakes do not add up to its balance is an integrity error doctor names
    (and --fix cannot invent the stakes)."""
    pool = exchange.pool_create("p", "claude", "1").id
    exchange.pool_contribute(pool, "claude", 50)
    assert exchange.doctor().healthy
    tamper_with_stake(exchange, pool, "claude", 49_000_000)
    report = exchange.doctor()
    assert not report.healthy
    assert any("stakes sum to 49.00" in f.message for f in report.errors), report.errors
    assert not exchange.doctor(fix=True).healthy
