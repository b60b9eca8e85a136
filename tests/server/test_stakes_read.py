"""Every agent's stake as one read: ``Exchange.stakes`` on each store, and ``GET
/v1/stakes`` with ``ExchangeClient`` over it, where an agent's key reads its own stake only
and an admin's reads every agent's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent_token_exchange import Exchange, SimulatedClock
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.economy.market_records import Stake
from agent_token_exchange.errors import Forbidden, InvalidInput

from ..ledger_checks import assert_invariants
from .conftest import Service

HOUR_US = 3600 * 1_000_000


def test_stakes_lists_each_agent_with_a_stake_or_an_unbonding(exchange: Exchange,
                                                              clock: SimulatedClock):
    """Agents with tokens staked or unbonding are listed by name with both figures and the
    soonest release; one named agent is listed even at zero; an unknown one is refused."""
    assert exchange.stakes() == []
    exchange.stake("claude", 300)
    exchange.stake("builder", 500)
    first = exchange.unstake("builder", 100)
    clock.advance(3600)
    exchange.unstake("builder", 50)
    assert first.release_at is not None
    assert exchange.stakes() == [
        Stake("builder", Decimal(350), Decimal(150), first.release_at),
        Stake("claude", Decimal(300), Decimal(0), None)]
    assert exchange.stakes("zero") == [Stake("zero", Decimal(0), Decimal(0), None)]
    assert exchange.stakes("builder")[0].unbonding == Decimal(150)
    with pytest.raises(InvalidInput):
        exchange.stakes("nobody")
    assert_invariants(exchange)


def test_an_agent_key_reads_its_own_stake_and_an_admin_key_every_one(fresh_service: Service):
    """Over HTTP: claude's key reads claude's stake (naming builder is 403), the admin's
    key reads both stakers, and the client returns the library's records."""
    svc = fresh_service
    with ExchangeClient(svc.url, svc.admin) as admin:
        admin.stake("claude", 200)
        admin.stake("builder", 400)
        admin.unstake("builder", 100)
        assert [(s.agent, s.staked, s.unbonding) for s in admin.stakes()] == [
            ("builder", Decimal(300), Decimal(100)), ("claude", Decimal(200), Decimal(0))]
        assert admin.stakes("zero") == [Stake("zero", Decimal(0), Decimal(0), None)]
    with ExchangeClient(svc.url, svc.keys["claude"]) as claude:
        assert claude.stakes() == [Stake("claude", Decimal(200), Decimal(0), None)]
        with pytest.raises(Forbidden):
            claude.stakes("builder")
    with svc.as_agent("zero") as http:
        assert http.get("/v1/stakes").json() == {
            "stakes": [{"agent": "zero", "staked": "0", "unbonding": "0",
                        "next_release_at": None}]}
        assert http.get("/v1/stakes", params={"agent": "nobody"}).status_code == 404
