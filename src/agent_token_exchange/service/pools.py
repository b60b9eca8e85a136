"""Pools: agents pooling tokens to spend together, credited in proportion to what each
put in. Every operation names the agent acting, and the rules about who may act (a
member spends, the creator dissolves) are checked here, in the one transaction."""

from __future__ import annotations

from decimal import Decimal

from ..economy import rules
from ..economy.accounts import INFERENCE, Kind, pool_account, wallet
from ..economy.records import Credit, PoolContribution, PoolDissolution, PoolSpend, PoolView, Refund
from ..economy.validation import model_name, text_field
from ..errors import InvalidInput, NotAllowed
from ..money import parse_amount, parse_count, tokens
from .operations import Core, client_key, raise_if_refused
from .queries import pool_view


class PoolOperations:
    """Create, join, contribute to, spend from and dissolve pools."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def create(
        self, name: str, creator: str, min_contribution: Decimal | str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolView:
        core, store = self._core, self._core.store
        name = text_field(name, "pool name", limit=100)
        creator = core.agent(creator)
        minimum = parse_amount(min_contribution, what="minimum contribution")
        key = client_key(idempotency_key)
        request = {"name": name, "creator": creator, "min": minimum}

        def create(now: int) -> PoolView:
            number = store.pools.next_number()
            pool_id = f"pool-{number}"
            store.accounts.create(pool_account(pool_id), "pool", now)
            store.pools.create(pool_id, number, name, creator, minimum, now)
            store.pools.add_member(pool_id, creator, now)
            return pool_view(core, pool_id)

        return core.operate("pool_create", request, key, create, PoolView, agent=creator,
                            accounts=[wallet(creator)])

    def join(self, pool_id: str, agent: str, *, idempotency_key: str | None = None) -> PoolView:
        core = self._core
        pool_id = core.pool_id(pool_id)
        agent = core.agent(agent)
        key = client_key(idempotency_key)

        def join(now: int) -> PoolView:
            core.open_pool(pool_id)
            core.store.pools.add_member(pool_id, agent, now)
            return pool_view(core, pool_id)

        return core.operate("pool_join", {"pool": pool_id, "agent": agent}, key, join,
                            PoolView, agent=agent, pool_id=pool_id,
                            accounts=[pool_account(pool_id)])

    def contribute(
        self, pool_id: str, agent: str, amount: Decimal | str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolContribution:
        """Move tokens from a member's wallet into the pool (an outflow: reserve applies)."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        agent = core.agent(agent)
        micro = parse_amount(amount)
        key = client_key(idempotency_key)
        request = {"pool": pool_id, "agent": agent, "amount": micro}

        def contribute(now: int) -> PoolContribution:
            pool = core.open_pool(pool_id)
            members = {m.agent for m in store.pools.members(pool_id)}
            raise_if_refused(rules.check_contribution(
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
        """Spend pool tokens on inference as ``agent`` (a member; by default the pool's
        creator); every contributor is credited pro rata."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        actor = core.agent(agent) if agent is not None else None
        count = parse_count(token_count)
        cost = rules.llm_cost(core.config, model_name(model), count)
        description = text_field(description, "description")
        key = client_key(idempotency_key)
        request = {"pool": pool_id, "model": model, "count": count, "description": description}
        if actor is not None:
            request["agent"] = actor

        def spend(now: int) -> PoolSpend:
            pool = core.open_pool(pool_id)
            members = store.pools.members(pool_id)
            acting = actor or pool.creator
            if acting not in {m.agent for m in members}:
                raise NotAllowed(f"{acting} is not a member of {pool_id}: only its members "
                                 "may spend from it")
            contributions = {m.agent: m.contributed for m in members if m.contributed > 0}
            balance = core.balance(pool_account(pool_id))
            raise_if_refused(rules.check_pool_spend(
                pool_id, contributors=len(contributions),
                min_members=core.config.pools.min_members, cost=cost, balance=balance))
            if cost == 0:
                raise InvalidInput("that request costs nothing; there is nothing to spend")
            seq = store.transfers.post(
                at=now, kind=Kind.POOL_SPEND, source=pool_account(pool_id), destination=INFERENCE,
                amount=cost, description=description, model=model, inference_tokens=count,
                pool_id=pool_id, idempotency_key=key,
            )
            shares = rules.proportional_split(cost, contributions)
            total = sum(contributions.values())
            credits = []
            for member in sorted(contributions):
                store.pools.record_credit(seq, member, contributions[member], shares[member])
                credits.append(Credit(member, tokens(contributions[member]), tokens(shares[member]),
                                      str(rules.share_percent(contributions[member], total))))
            return PoolSpend(pool_id, model, count, tokens(cost), tokens(balance - cost),
                             description, seq, tuple(credits))

        return core.operate("pool_spend", request, key, spend, PoolSpend, agent=actor,
                            pool_id=pool_id, amount=cost, accounts=[pool_account(pool_id)])

    def dissolve(
        self, pool_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> PoolDissolution:
        """Close a pool as ``agent`` (its creator; by default the creator acts) and refund
        what is left pro rata, remainder to the largest share."""
        core, store = self._core, self._core.store
        pool_id = core.pool_id(pool_id)
        actor = core.agent(agent) if agent is not None else None
        key = client_key(idempotency_key)
        request = {"pool": pool_id} if actor is None else {"pool": pool_id, "agent": actor}

        def dissolve(now: int) -> PoolDissolution:
            pool = core.open_pool(pool_id)
            if actor is not None and actor != pool.creator:
                raise NotAllowed(f"only {pool_id}'s creator ({pool.creator}) may dissolve it")
            balance = core.balance(pool_account(pool_id))
            contributions = {m.agent: m.contributed for m in store.pools.members(pool_id)
                             if m.contributed > 0}
            refunds = []
            if balance > 0:
                shares = rules.proportional_split(balance, contributions)
                for member in sorted(shares):
                    if shares[member] == 0:
                        continue
                    store.transfers.post(
                        at=now, kind=Kind.POOL_REFUND, source=pool_account(pool_id),
                        destination=wallet(member), amount=shares[member],
                        description=f"refund from dissolved {pool_id}", pool_id=pool_id,
                        idempotency_key=key,
                    )
                    refunds.append(Refund(member, tokens(shares[member]),
                                          tokens(core.tokens(member))))
            store.pools.mark_dissolved(pool_id, now)
            return PoolDissolution(pool_id, tokens(balance), tuple(refunds))

        def refunded() -> list[str]:  # read, then locked, then read again (see operate)
            return [pool_account(pool_id)] + [wallet(m.agent) for m in
                                              store.pools.members(pool_id) if m.contributed]

        return core.operate("pool_dissolve", request, key, dissolve, PoolDissolution,
                            agent=actor, pool_id=pool_id, accounts=refunded)
