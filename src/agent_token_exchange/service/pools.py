"""Pools: agents pooling tokens to spend together (the rules: ``economy/pool_rules.py``).

A pool is invite-only unless created open. Each member holds a stake (what it put in, less
its draws); the balance is the sum of the stakes. A member with a stake spends; the spend
draws from every stake pro rata, and each draw is that member's own consumption, checked
against its own limits and written to its own windows, in the one transaction. A member
leaves with its stake; dissolving returns every stake.

Every operation names the agent acting; who may act (the creator invites and dissolves, a
member with a stake spends) is checked here, in the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from ..economy import pool_rules, rules
from ..economy.accounts import INFERENCE, Kind, pool_account, wallet
from ..economy.records import (
    Credit,
    PoolContribution,
    PoolDissolution,
    PoolLeave,
    PoolSpend,
    PoolView,
    Refund,
)
from ..economy.validation import model_name, text_field
from ..errors import InvalidInput
from ..money import parse_amount, parse_count, tokens
from .operations import Core, client_key, raise_if_refused
from .queries import pool_view


class PoolOperations:
    """Create, invite to, join, contribute to, spend from, leave and dissolve pools."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def create(
        self, name: str, creator: str, min_contribution: Decimal | str | int,
        *, open: bool = False, idempotency_key: str | None = None,
    ) -> PoolView:
        """A new pool with ``creator`` as its first member; ``open`` lets anyone join,
        else only the agents its creator invites."""
        core, store = self._core, self._core.store
        name = text_field(name, "pool name", limit=100)
        creator = core.agent(creator)
        minimum = parse_amount(min_contribution, what="minimum contribution")
        if not isinstance(open, bool):
            raise InvalidInput("open must be true or false")
        key = client_key(idempotency_key)
        request = {"name": name, "creator": creator, "min": minimum}
        if open:
            request["open"] = True

        def create(now: int) -> PoolView:
            number = store.pools.next_number()
            pool_id = f"pool-{number}"
            store.accounts.create(pool_account(pool_id), "pool", now)
            store.pools.create(pool_id, number, name, creator, minimum, now, is_open=open)
            store.pools.add_member(pool_id, creator, now)
            return pool_view(core, pool_id)

        return core.operate("pool_create", request, key, create, PoolView, agent=creator,
                            accounts=[wallet(creator)])

    def invite(
        self, pool_id: str, agent: str, *, by: str | None = None,
        idempotency_key: str | None = None,
    ) -> PoolView:
        """Invite ``agent`` to join, as ``by`` (the creator; by default the creator acts)."""
        core = self._core
        pool_id = core.pool_id(pool_id)
        agent = core.agent(agent)
        request = {"pool": pool_id, "agent": agent}
        if by is not None:
            request["by"] = core.agent(by)
        inviter = request.get("by") or core.creator(pool_id)
        key = client_key(idempotency_key)

        def invite(now: int) -> PoolView:
            pool = core.open_pool(pool_id)
            raise_if_refused(pool_rules.check_invite(pool_id, inviter, creator=pool.creator))
            if agent not in {m.agent for m in core.store.pools.members(pool_id)}:
                core.store.pools.invite(pool_id, agent, now)
            return pool_view(core, pool_id)

        return core.operate("pool_invite", request, key, invite, PoolView,
                            agent=inviter, pool_id=pool_id, accounts=[pool_account(pool_id)])

    def join(self, pool_id: str, agent: str, *, idempotency_key: str | None = None) -> PoolView:
        """Join an open pool, or one whose creator invited ``agent`` (joining twice changes
        nothing)."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        agent = core.agent(agent)
        key = client_key(idempotency_key)

        def join(now: int) -> PoolView:
            pool = core.open_pool(pool_id)
            if agent not in {m.agent for m in store.pools.members(pool_id)}:
                raise_if_refused(pool_rules.check_join(
                    pool_id, agent, is_open=pool.is_open,
                    invited=agent in store.pools.invited(pool_id), creator=pool.creator))
                store.pools.add_member(pool_id, agent, now)
                store.pools.take_invite(pool_id, agent)
            return pool_view(core, pool_id)

        return core.operate("pool_join", {"pool": pool_id, "agent": agent}, key, join,
                            PoolView, agent=agent, pool_id=pool_id,
                            accounts=[pool_account(pool_id)])

    def contribute(
        self, pool_id: str, agent: str, amount: Decimal | str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolContribution:
        """Move tokens from a member's wallet into the pool, to its stake (an outflow: the
        reserve applies)."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        agent = core.agent(agent)
        micro = parse_amount(amount)
        key = client_key(idempotency_key)
        request = {"pool": pool_id, "agent": agent, "amount": micro}

        def contribute(now: int) -> PoolContribution:
            pool = core.open_pool(pool_id)
            members = {m.agent for m in store.pools.members(pool_id)}
            raise_if_refused(pool_rules.check_contribution(
                pool_id, agent, is_member=agent in members, amount=micro,
                minimum=pool.min_contribution))
            raise_if_refused(rules.check_outflow(
                core.config.limits_for(agent), amount=micro, balance=core.tokens(agent)))
            seq = store.transfers.post(
                at=now, kind=Kind.POOL_CONTRIBUTION, source=wallet(agent),
                destination=pool_account(pool_id), amount=micro,
                description=f"contribution to {pool_id} ({pool.name})", pool_id=pool_id,
                idempotency_key=key,
            )
            store.pools.add_contribution(pool_id, agent, micro)
            return PoolContribution(pool_id, agent, tokens(micro), tokens(core.tokens(agent)),
                                    tokens(core.balance(pool_account(pool_id))), seq)

        return core.operate("pool_contribute", request, key, contribute, PoolContribution,
                            agent=agent, pool_id=pool_id, amount=micro,
                            accounts=[wallet(agent), pool_account(pool_id)])

    def spend(
        self, pool_id: str, model: str, token_count: int | str, description: str,
        *, agent: str | None = None, idempotency_key: str | None = None,
    ) -> PoolSpend:
        """Spend pool tokens on inference as ``agent`` (a member with a stake; by default
        the pool's creator). The cost is drawn from every stake pro rata, and each draw
        must fit its member's burst, hourly and daily limits, or nothing is spent."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        actor = core.agent(agent) if agent is not None else core.creator(pool_id)
        count = parse_count(token_count)
        cost = rules.llm_cost(core.config, model_name(model), count)
        description = text_field(description, "description")
        if cost == 0:
            raise InvalidInput("that request costs nothing; there is nothing to spend")
        key = client_key(idempotency_key)
        request = {"pool": pool_id, "model": model, "count": count, "description": description}
        if agent is not None:
            request["agent"] = actor

        def spend(now: int) -> PoolSpend:
            pool = core.open_pool(pool_id)
            stakes = {m.agent: m.stake for m in store.pools.members(pool_id)}
            balance = core.balance(pool_account(pool_id))
            raise_if_refused(pool_rules.check_pool_spend(
                pool_id, actor, stakes=stakes, minimum=pool.min_contribution,
                min_members=core.config.pools.min_members, cost=cost, balance=balance))
            holders = {name: stake for name, stake in stakes.items() if stake > 0}
            draws = pool_rules.largest_remainder_split(cost, holders)
            latest = {m: store.windows.latest(m) for m in sorted(draws) if draws[m] > 0}
            at = max([now] + [last_at for last_at, _ in latest.values()])
            for member, (last_at, cumulative) in latest.items():
                hourly, daily = core.window_usage(member, at, latest=(last_at, cumulative))
                held = core.held(member)  # its open gateway holds: consumed until settled
                raise_if_refused(pool_rules.check_draw(
                    pool_id, member, core.config.limits_for(member), draw=draws[member],
                    hourly_used=hourly + held, daily_used=daily + held))
            seq = store.transfers.post(
                at=at, kind=Kind.POOL_SPEND, source=pool_account(pool_id), destination=INFERENCE,
                amount=cost, description=description, model=model, inference_tokens=count,
                pool_id=pool_id, idempotency_key=key,
            )
            total = sum(holders.values())
            credits = []
            for member in sorted(holders):
                drawn = draws[member]
                store.pools.record_credit(seq, member, holders[member], drawn, consumed=True)
                store.pools.set_stake(pool_id, member, holders[member] - drawn)
                if drawn:
                    store.windows.record(member, at, drawn, latest[member][1] + drawn, seq)
                credits.append(Credit(member, tokens(holders[member]), tokens(drawn),
                                      str(pool_rules.share_percent(holders[member], total))))
            return PoolSpend(pool_id, model, count, tokens(cost), tokens(balance - cost),
                             description, seq, tuple(credits))

        return core.operate("pool_spend", request, key, spend, PoolSpend, agent=actor,
                            pool_id=pool_id, amount=cost, accounts=self._stakeholders(pool_id))

    def leave(self, pool_id: str, agent: str, *,
              idempotency_key: str | None = None) -> PoolLeave:
        """``agent`` leaves the pool and takes its stake back (the creator dissolves
        instead)."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        agent = core.agent(agent)
        key = client_key(idempotency_key)

        def leave(now: int) -> PoolLeave:
            pool = core.open_pool(pool_id)
            members = {m.agent: m.stake for m in store.pools.members(pool_id)}
            raise_if_refused(pool_rules.check_leave(pool_id, agent, is_member=agent in members,
                                                    creator=pool.creator))
            stake, seq = members[agent], None
            if stake:
                seq = store.transfers.post(
                    at=now, kind=Kind.POOL_REFUND, source=pool_account(pool_id),
                    destination=wallet(agent), amount=stake,
                    description=f"stake returned on leaving {pool_id}", pool_id=pool_id,
                    idempotency_key=key,
                )
            store.pools.mark_left(pool_id, agent, now)
            return PoolLeave(pool_id, agent, tokens(stake), tokens(core.tokens(agent)),
                             tokens(core.balance(pool_account(pool_id))), seq)

        return core.operate("pool_leave", {"pool": pool_id, "agent": agent}, key, leave,
                            PoolLeave, agent=agent, pool_id=pool_id,
                            accounts=[wallet(agent), pool_account(pool_id)])

    def dissolve(
        self, pool_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> PoolDissolution:
        """Close a pool as ``agent`` (its creator; by default the creator acts) and return
        every member its stake."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        actor = core.agent(agent) if agent is not None else core.creator(pool_id)
        key = client_key(idempotency_key)
        request = {"pool": pool_id} if agent is None else {"pool": pool_id, "agent": actor}

        def dissolve(now: int) -> PoolDissolution:
            pool = core.open_pool(pool_id)
            raise_if_refused(pool_rules.check_dissolve(pool_id, actor, creator=pool.creator))
            balance = core.balance(pool_account(pool_id))
            refunds = []
            for member in sorted(store.pools.members(pool_id), key=lambda m: m.agent):
                if member.stake == 0:
                    continue
                store.transfers.post(
                    at=now, kind=Kind.POOL_REFUND, source=pool_account(pool_id),
                    destination=wallet(member.agent), amount=member.stake,
                    description=f"stake returned from dissolved {pool_id}", pool_id=pool_id,
                    idempotency_key=key,
                )
                store.pools.set_stake(pool_id, member.agent, 0)
                refunds.append(Refund(member.agent, tokens(member.stake),
                                      tokens(core.tokens(member.agent))))
            store.pools.mark_dissolved(pool_id, now)
            store.pools.clear_invites(pool_id)  # nobody joins a dissolved pool
            return PoolDissolution(pool_id, tokens(balance), tuple(refunds))

        return core.operate("pool_dissolve", request, key, dissolve, PoolDissolution,
                            agent=actor, pool_id=pool_id, accounts=self._stakeholders(pool_id))

    def _stakeholders(self, pool_id: str) -> Callable[[], list[str]]:
        """The accounts a spend or a dissolve touches: the pool, and the wallet of each
        member with a stake (a draw writes that member's windows, which its own spends
        check under its wallet's lock; a refund pays its wallet). Read, locked, read again
        (see ``Core.operate``)."""
        store = self._core.store

        def accounts() -> list[str]:
            return [pool_account(pool_id)] + [wallet(m.agent) for m in
                                              store.pools.members(pool_id) if m.stake > 0]
        return accounts
