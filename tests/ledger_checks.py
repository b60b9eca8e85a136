"""What tests see below the public API, in one place: every DESIGN.md invariant read from
the store, the stored rows a few tests look at, and the tampering a few tests need (a
doctor or a dashboard faced with a ledger that was changed behind the exchange's back).

Every other test goes through the public API (``Exchange``, ``ExchangeClient``, the CLI and
the HTTP API); this module, and the ledger's own tests, are the only readers of
``ex.store``.
"""

from __future__ import annotations

from typing import Any

from agent_token_exchange import Exchange
from agent_token_exchange.clock import DAY_US, HOUR_US
from agent_token_exchange.economy.accounts import MARKET_KINDS, MINT, hold_account, wallet
from agent_token_exchange.ledger.accounts import Account
from agent_token_exchange.ledger.pools import PoolCreditRow
from agent_token_exchange.ledger.reservations import ReservationRow
from agent_token_exchange.ledger.transfers import Transfer
from agent_token_exchange.money import to_micro


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
    market = market_nets(ex)
    for agent in ex.config.agents:
        limits = ex.config.limits_for(agent)
        shown = ex.balance(agent)
        assert shown.tokens >= 0
        assert to_micro(shown.market) == market.get(wallet(agent), 0), f"{agent}'s market"
        rows = ex.store.windows.rows(agent)
        for at, amount, _ in rows:
            assert amount <= limits.burst
            hourly = sum(a for t, a, _ in rows if at - HOUR_US < t <= at)
            daily = sum(a for t, a, _ in rows if at - DAY_US < t <= at)
            assert hourly <= limits.hourly, f"{agent} hourly window over its limit"
            assert daily <= limits.daily, f"{agent} daily window over its limit"
    report = ex.doctor()
    assert report.healthy, [f.message for f in report.errors]


def market_nets(ex: Exchange) -> dict[str, int]:
    """Each account's net of the credit market's transfers, summed from the history (the
    wallet's ``market`` figure is derived another way: from its cached figures)."""
    nets: dict[str, int] = {}
    for t in ex.store.transfers.after():
        if t.kind in MARKET_KINDS:
            nets[t.destination] = nets.get(t.destination, 0) + t.amount
            nets[t.source] = nets.get(t.source, 0) - t.amount
    return nets


# -- stored rows --------------------------------------------------------------------------


def stored_transfers(ex: Exchange) -> list[Transfer]:
    """Every transfer row as stored, with what no record shows (its idempotency key, hash)."""
    return ex.store.transfers.after()


def account(ex: Exchange, name: str) -> Account | None:
    """One account's cached figures (a contract, a pool, ``system:inference``, …)."""
    return ex.store.accounts.get(name)


def last_seqs(ex: Exchange) -> tuple[int, int]:
    """The newest transfer's and the newest refusal's seq, read at one moment."""
    with ex.store.snapshot():
        return ex.store.transfers.last_seq(), ex.store.refusals.last_seq()


def ledger_state(ex: Exchange) -> tuple[Any, ...]:
    """Everything a write could change: cached figures, the newest transfer's seq, the
    newest refusal's seq, pools."""
    with ex.store.snapshot():
        return (snapshot(ex), *last_seqs(ex), tuple(repr(p) for p in ex.pool_list()))


def consumption(ex: Exchange, agent: str) -> list[tuple[int, int]]:
    """(time, amount) of each consumption in an agent's windows: its own inference spends
    and its draws on pool spends, oldest first."""
    return [(at, amount) for at, amount, _ in ex.store.windows.rows(agent)]


def pool_draws(ex: Exchange) -> list[PoolCreditRow]:
    """Every member's part of every pool spend as stored (its stake before the spend, what
    was drawn, whether the draw counted as the member's consumption)."""
    return ex.store.pools.all_credits()


def reservation_rows(ex: Exchange) -> list[ReservationRow]:
    """Every gateway reservation as stored, open and closed, by id."""
    return sorted(ex.store.reservations.all(), key=lambda row: row.id)


def held_for(ex: Exchange, agent: str) -> int:
    """What an agent's open gateway reservations hold: its own hold account plus its
    draws on open pool-paid ones (what every window check counts as consumed)."""
    own = ex.store.accounts.get(hold_account(wallet(agent)))
    return (own.balance if own else 0) + ex.store.reservations.pool_draws_held(agent)


def refusal_rows(ex: Exchange) -> int:
    """How many rows the refusal log holds (a row may count several refusals)."""
    return ex.store.refusals.count()


def kept_outcomes(ex: Exchange) -> dict[str, str]:
    """Each idempotency key with the outcome kept under it (ok, a refusal code, …)."""
    return {key: outcome for key, outcome, _ in ex.store.idempotency.outcomes()}


def kept_result(ex: Exchange, key: str) -> dict[str, Any] | None:
    """The first result kept under an idempotency key, as stored."""
    row = ex.store.idempotency.get(key)
    return None if row is None else row.result


def api_key_rows(ex: Exchange) -> list[tuple[Any, ...]]:
    """Every column of every stored API key (a key must never be among them)."""
    return ex.store.all("SELECT * FROM api_keys")


def sqlite_connection(ex: Exchange) -> Any:
    """The SQLite connection under an exchange (to count the rows a statement visits)."""
    return ex.store.conn


def dialect(ex: Exchange) -> str:
    """Which database holds the ledger: sqlite or postgresql."""
    return ex.store.dialect


def shares_a_connection(a: Exchange, b: Exchange) -> bool:
    """Whether two exchanges write through the same database connection."""
    return a.store is b.store


# -- tampering ----------------------------------------------------------------------------


def tamper_with_balance(ex: Exchange, name: str, delta: int) -> None:
    """Change an account's cached balance behind the exchange's back (for doctor to find)."""
    with ex.store.transaction():
        ex.store.execute("UPDATE accounts SET balance = balance + ? WHERE name = ?",
                         (delta, name))


def tamper_with_stake(ex: Exchange, pool_id: str, agent: str, stake: int) -> None:
    """Set a member's stake behind the exchange's back (for doctor to find)."""
    with ex.store.transaction():
        ex.store.pools.set_stake(pool_id, agent, stake)


def plant_refusal(ex: Exchange, **fields: Any) -> None:
    """Store a refusal event as given, past the service's validation (hostile text the
    dashboard must still show inertly)."""
    with ex.store.transaction():
        ex.store.refusals.record(at=ex.clock.now_us(), **fields)


def tamper_with_offer_status(ex: Exchange, offer_id: str, status: str) -> None:
    """Set a loan offer's status behind the exchange's back, its escrow untouched (for
    doctor to find)."""
    with ex.store.transaction():
        ex.store.execute("UPDATE loan_offers SET status = ? WHERE id = ?", (status, offer_id))
