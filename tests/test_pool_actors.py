"""Who may act on a pool is the service's rule, whatever the caller: a member spends, the
creator dissolves; the library and the CLI act as the creator unless told otherwise."""

from __future__ import annotations

import pytest

from agent_token_exchange import NotAllowed, open_exchange

from .conftest import set_config
from .ledger_checks import account, assert_invariants, snapshot


def _pool_of_two(ex):
    pool = ex.pool_create("team", "claude", "10").id
    ex.pool_invite(pool, "builder")
    ex.pool_join(pool, "builder")
    ex.pool_contribute(pool, "claude", "100")
    ex.pool_contribute(pool, "builder", "100")
    return pool


def test_a_non_member_may_not_spend_from_a_pool(exchange):
    """pool_spend as an agent that is not a member is refused (NotAllowed) and moves
    nothing; a member, or the default actor (the creator), may spend."""
    pool = _pool_of_two(exchange)
    before = snapshot(exchange)
    with pytest.raises(NotAllowed, match="not a member"):
        exchange.pool_spend(pool, "llama3.2", 1000, "x", agent="zero")
    assert snapshot(exchange) == before
    assert exchange.refusals("zero", 1)[0].code == "not_allowed"
    assert exchange.pool_spend(pool, "llama3.2", 1000, "x", agent="builder").amount > 0
    assert exchange.pool_spend(pool, "llama3.2", 1000, "y").amount > 0  # the creator acts
    assert_invariants(exchange)


def test_only_the_creator_may_dissolve_a_pool(exchange):
    """pool_dissolve as a member who is not the creator is refused; the creator may."""
    pool = _pool_of_two(exchange)
    with pytest.raises(NotAllowed, match="creator"):
        exchange.pool_dissolve(pool, agent="builder")
    assert exchange.pool_dissolve(pool, agent="claude").pool_id == pool
    assert_invariants(exchange)


def test_opening_writes_nothing_and_open_accounts_grants_a_new_agent(home, clock):
    """open_exchange() writes nothing; open_accounts() gives an agent added to the config
    its start balance, once."""
    set_config(home, lambda text: text + '\n[agents.nova]\nlevel = 1\nbase_rate = 10\n'
                                         'primary_llm = "llama3.2"\n')
    with open_exchange(home, clock=clock) as ex:
        (last,) = ex.recent_transfers(1)
        assert account(ex, "agent:nova") is None
        assert ex.open_accounts() == ["agent:nova"]
        assert ex.recent_transfers(1)[0].seq == last.seq + 1
        assert ex.balance("nova").tokens > 0
        assert ex.open_accounts() == []
        assert_invariants(ex)
