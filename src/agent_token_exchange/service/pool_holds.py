"""Gateway requests paid by a pool (``X-Exchange-Pool``), under the pool rules (DESIGN.md,
"Pools"; the rules themselves are economy/pool_rules.py):

    hold    only a member with a stake may spend, and the pool needs its ``min_members``;
            the hold draws on every stake pro rata (largest remainder), each draw within
            its member's own burst, hourly and daily limits (counting what that member
            already holds), or nothing is held and the refusal names the member. The
            stakes fall by the draws, so the pool's balance stays the sum of its stakes,
            and each draw is kept as a credit of the hold transfer (not consumption yet:
            it counts as held, like an agent's own hold).
    settle  once the hold is back in the pool, the charge is split over the members pro
            rata to their draws (``pool_rules.hold_charge_shares``: integer micro-tokens
            summing to the charge), each share that member's own consumption, in its
            windows; what a draw held beyond its share goes back to the member's stake,
            or to its wallet if it left (or the pool was dissolved) meanwhile.

Both run inside the metering operation's transaction (service/metering.py), under the
locks ``stakeholders`` and ``settling`` name.
"""

from __future__ import annotations

from collections.abc import Callable

from ..economy import pool_rules
from ..economy.accounts import INFERENCE, Kind, hold_account, pool_account, wallet
from ..ledger.reservations import ReservationRow
from .operations import Core, raise_if_refused


class PoolHolds:
    """The pool's side of a pool-paid gateway reservation."""

    def __init__(self, core: Core) -> None:
        self._core = core

    # -- locks ------------------------------------------------------------------------------

    def stakeholders(self, pool_id: str) -> Callable[[], list[str]]:
        """What a hold locks: the pool, its hold account and the wallet of each member with
        a stake (a draw is checked against that member's windows, which its own spends
        check under its wallet's lock)."""
        store = self._core.store

        def accounts() -> list[str]:
            account = pool_account(pool_id)
            return [account, hold_account(account)] + [
                wallet(m.agent) for m in store.pools.members(pool_id) if m.stake > 0]
        return accounts

    def settling(self, reservation_id: int) -> Callable[[], list[str]]:
        """What settling a pool-paid reservation locks: the pool, its hold, and the wallets
        of the members it drew on or may charge (their windows, or a refund)."""
        store = self._core.store

        def accounts() -> list[str]:
            row = store.reservations.get(reservation_id)
            assert row is not None and row.pool_id is not None
            drawn = store.reservations.hold_draws(row.hold_seq) if row.hold_seq else {}
            staked = {m.agent for m in store.pools.members(row.pool_id) if m.stake > 0}
            return [row.payer, hold_account(row.payer)] + [
                wallet(agent) for agent in sorted(staked | set(drawn))]
        return accounts

    # -- hold -------------------------------------------------------------------------------

    def check(self, pool_id: str, agent: str, amount: int,
              now: int) -> tuple[dict[str, int], dict[str, int]]:
        """(each staking member's stake, what a hold of ``amount`` draws from it), or the
        refusal: ``agent`` is no member with a stake, the pool lacks members or funds, or
        a member's draw does not fit its own limits (named)."""
        core, store = self._core, self._core.store
        pool = core.open_pool(pool_id)
        stakes = {m.agent: m.stake for m in store.pools.members(pool_id)}
        raise_if_refused(pool_rules.check_pool_spend(
            pool_id, agent, stakes=stakes, minimum=pool.min_contribution,
            min_members=core.config.pools.min_members, cost=amount,
            balance=core.balance(pool_account(pool_id))))
        holders = {name: stake for name, stake in stakes.items() if stake > 0}
        draws = pool_rules.largest_remainder_split(amount, holders)
        for member in sorted(draws):
            if draws[member] == 0:
                continue
            last_at, cumulative = store.windows.latest(member)
            hourly, daily = core.window_usage(member, max(now, last_at),
                                              latest=(last_at, cumulative))
            held = core.held(member)
            raise_if_refused(pool_rules.check_draw(
                pool_id, member, core.config.limits_for(member), draw=draws[member],
                hourly_used=hourly + held, daily_used=daily + held))
        return holders, draws

    def take(self, pool_id: str, hold_seq: int, holders: dict[str, int],
             draws: dict[str, int]) -> None:
        """The hold transfer ``hold_seq`` is posted: lower each stake by its draw, and keep
        the draw as a credit of the hold."""
        store = self._core.store
        for member in sorted(holders):
            store.pools.record_credit(hold_seq, member, holders[member], draws[member])
            store.pools.set_stake(pool_id, member, holders[member] - draws[member])

    # -- settle -----------------------------------------------------------------------------

    def settle(self, row: ReservationRow, charged: int, what: str, count: int,
               now: int) -> int | None:
        """The hold is back in the pool: charge ``charged`` (one pool spend transfer, each
        member's share its consumption) and give every draw's rest back; returns the
        charge's seq (None when nothing was charged)."""
        store = self._core.store
        assert row.pool_id is not None
        pool_id, account = row.pool_id, row.payer
        draws = store.reservations.hold_draws(row.hold_seq) if row.hold_seq else {}
        pool = store.pools.get(pool_id)
        assert pool is not None
        current = ({} if pool.dissolved_at is not None else
                   {m.agent: m.stake for m in store.pools.members(pool_id)})
        available = {name: current.get(name, 0) + draws.get(name, 0)
                     for name in sorted(set(current) | set(draws))}
        shares = pool_rules.hold_charge_shares(charged, draws, available)
        seq, at = None, now
        if charged > 0:
            latest = {m: store.windows.latest(m) for m in sorted(shares) if shares[m] > 0}
            at = max([now] + [last_at for last_at, _ in latest.values()])
            seq = store.transfers.post(
                at=at, kind=Kind.POOL_SPEND, source=account, destination=INFERENCE,
                amount=charged, model=row.model, inference_tokens=count, pool_id=pool_id,
                description=f"{what} for {row.agent}")
            for member, (_, cumulative) in latest.items():
                store.windows.record(member, at, shares[member], cumulative + shares[member],
                                     seq)
            for member in sorted(available):
                if available[member] > 0 or shares.get(member, 0) > 0:
                    store.pools.record_credit(seq, member, available[member],
                                              shares.get(member, 0), consumed=True)
        for member, has in available.items():
            rest = has - shares.get(member, 0)
            if member in current:
                store.pools.set_stake(pool_id, member, rest)
            elif rest > 0:  # it left, or the pool was dissolved, while the hold was open
                store.transfers.post(
                    at=at, kind=Kind.POOL_REFUND, source=account, destination=wallet(member),
                    amount=rest, pool_id=pool_id,
                    description=f"rest of {member}'s draw for gateway request r{row.id} "
                                f"returned from {pool_id}")
        return seq


__all__ = ["PoolHolds"]
