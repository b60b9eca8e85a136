"""Invariant checks shared by tests: every DESIGN.md invariant, read from the store."""

from __future__ import annotations

from agent_token_exchange import Exchange
from agent_token_exchange.clock import DAY_US, HOUR_US
from agent_token_exchange.economy.accounts import MINT


def snapshot(ex: Exchange) -> dict[str, tuple[int, int, int]]:
    """Every account's cached (balance, earned, spent)."""
    return {a.name: (a.balance, a.earned, a.spent) for a in ex.store.accounts.all()}


def assert_invariants(ex: Exchange) -> None:
    """Conservation, caches = transfers, floors, windows within limits, doctor clean."""
    accounts = ex.store.accounts.all()
    assert sum(a.balance for a in accounts) == 0, "conservation"
    derived = ex.store.repair.account_figures()
    for account in accounts:
        assert (account.balance, account.earned, account.spent) == derived.get(
            account.name, (0, 0, 0)), f"cache of {account.name}"
        if account.name != MINT:
            assert account.balance >= 0, f"{account.name} below zero"
    for agent in ex.config.agents:
        limits = ex.config.limits_for(agent)
        assert ex.balance(agent).tokens >= 0
        rows = ex.store.windows.rows(agent)
        for at, amount, _ in rows:
            assert amount <= limits.burst
            hourly = sum(a for t, a, _ in rows if at - HOUR_US < t <= at)
            daily = sum(a for t, a, _ in rows if at - DAY_US < t <= at)
            assert hourly <= limits.hourly, f"{agent} hourly window over its limit"
            assert daily <= limits.daily, f"{agent} daily window over its limit"
    report = ex.doctor()
    assert report.healthy, [f.message for f in report.errors]
