"""Gateway requests paid by a pool (``X-Exchange-Pool``) under the pool rules: the hold
draws on the members' stakes pro rata, each draw within its member's own limits; the
charge is split over the members exactly, each share its own consumption; a non-member
is a 403 and a member whose draw breaks its hourly limit a 429 naming it, in the
provider's format, before the provider is called. After each: the pool's balance is the
sum of its stakes and every hold is its open reservations (doctor clean)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import anthropic
import openai
import pytest

from agent_token_exchange import RateLimited
from agent_token_exchange.economy.pool_rules import hold_charge_shares
from agent_token_exchange.money import micro, tokens
from agent_token_exchange.service.metering import Usage

from ..conftest import set_config
from ..ledger_checks import assert_invariants, pool_draws, snapshot
from ..standin_provider import ServerThread
from .conftest import GatewayUnderTest

HELLO = [{"role": "user", "content": "Write a haiku about shared budgets."}]


def make_pool(ex) -> str:
    """pool-1: zero (creator) staking 60, spark 40."""
    pool = ex.pool_create("gpt team", "zero", "10", open=True)
    ex.pool_join(pool.id, "spark")
    ex.pool_contribute(pool.id, "zero", "60")
    ex.pool_contribute(pool.id, "spark", "40")
    return pool.id


def stakes(ex, pool_id: str) -> dict[str, Decimal]:
    return {m.agent: m.stake for m in ex.pool_show(pool_id).members}


def last_charge_shares(ex) -> dict[str, Decimal]:
    """member -> its share of the newest pool charge, as its consumption."""
    credits = [c for c in pool_draws(ex) if c.consumed]
    seq = max(c.seq for c in credits)
    return {c.agent: tokens(c.credited) for c in credits if c.seq == seq}


def assert_charged_pro_rata(ex, pool_id: str, charged: Decimal) -> None:
    """The pool paid ``charged``, split 60:40 to the micro-token, each share that
    member's own consumption and off its stake; the wallets paid nothing."""
    shares = last_charge_shares(ex)
    assert sum(shares.values()) == charged > 0
    for member, stake in (("zero", 60), ("spark", 40)):
        assert abs(micro(shares[member]) - micro(charged) * stake // 100) <= 1
        assert stakes(ex, pool_id)[member] == Decimal(stake) - shares[member]
        assert ex.limits(member).hourly_used == shares[member]
        assert ex.balance(member).tokens == Decimal(10_000 - stake)
    assert ex.pool_show(pool_id).balance == Decimal(100) - charged
    assert ex.doctor().healthy
    assert_invariants(ex)


def test_a_pool_paid_plain_request_charges_the_stakes_pro_rata(gateway: GatewayUnderTest):
    """A plain OpenAI request with X-Exchange-Pool is charged the provider's reported
    usage to the pool, split over the stakes 60:40, each share the member's own
    consumption; the request is one pool spend carrying the model and the tokens."""
    with gateway.exchange() as ex:
        pool_id = make_pool(ex)
    answer = gateway.openai("spark").chat.completions.create(
        model="gpt-split", messages=HELLO, extra_headers={"X-Exchange-Pool": pool_id})
    cost = gateway.cost("gpt-split", answer.usage.prompt_tokens,
                        answer.usage.completion_tokens)
    with gateway.exchange() as ex:
        assert_charged_pro_rata(ex, pool_id, cost)
        assert ex.pool_show(pool_id).total_spent == cost


def test_a_pool_paid_streamed_request_charges_the_stakes_pro_rata(gateway: GatewayUnderTest):
    """A streamed Anthropic request with X-Exchange-Pool is charged what the stream's
    usage reports, to the pool's stakes pro rata."""
    with gateway.exchange() as ex:
        pool_id = make_pool(ex)
    with gateway.anthropic("zero").messages.stream(
            model="claude-split", max_tokens=64, messages=HELLO,
            extra_headers={"X-Exchange-Pool": pool_id}) as stream:
        final = stream.get_final_message()
    cost = gateway.cost("claude-split", final.usage.input_tokens, final.usage.output_tokens)
    with gateway.exchange() as ex:
        assert_charged_pro_rata(ex, pool_id, cost)


def test_a_non_member_is_refused_403_in_the_providers_format(gateway: GatewayUnderTest):
    """An agent that is not a member of the pool is a 403 (each SDK's
    PermissionDeniedError) saying so, before the provider is called; nothing moves."""
    with gateway.exchange() as ex:
        pool_id = make_pool(ex)
        before = snapshot(ex)
    calls = gateway.provider.calls
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gateway.openai("builder").chat.completions.create(
            model="gpt-split", messages=HELLO, extra_headers={"X-Exchange-Pool": pool_id})
    assert "builder is not a member of pool-1" in caught.value.message
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        gateway.anthropic("builder").messages.create(
            model="claude-split", max_tokens=5, messages=HELLO,
            extra_headers={"X-Exchange-Pool": pool_id})
    assert refused.value.body["error"]["type"] == "permission_error"
    assert gateway.provider.calls == calls
    with gateway.exchange() as ex:
        assert snapshot(ex) == before
        assert ex.doctor().healthy


def test_a_member_whose_draw_breaks_its_hourly_limit_is_a_429_naming_it(
        gateway: GatewayUnderTest):
    """When spark has 10 of its hourly 1000 left, a pool request by zero whose hold would
    draw 20 from spark's stake is a 429 naming spark, before the provider is called;
    nothing moves; a smaller request whose draw fits passes."""
    with gateway.exchange() as ex:
        pool_id = make_pool(ex)
        ex.llm("spark", "coding", 33_000, model="claude-opus")  # 495
        ex.llm("spark", "coding", 33_000, model="claude-opus")  # 990 of 1000
        before = snapshot(ex)
    calls = gateway.provider.calls
    with pytest.raises(openai.RateLimitError) as caught:
        gateway.openai("zero").chat.completions.create(
            model="gpt-split", messages=HELLO, max_tokens=5000,  # holds about 50
            extra_headers={"X-Exchange-Pool": pool_id})
    assert "Hourly limit reached for spark" in caught.value.message
    assert "spark's share of the pool-1 spend" in caught.value.message
    assert "retry-after" in caught.value.response.headers
    assert gateway.provider.calls == calls
    with gateway.exchange() as ex:
        assert snapshot(ex) == before
        assert [r.code for r in ex.refusals("zero", 1)] == ["hourly_limit"]
    gateway.openai("zero").chat.completions.create(
        model="gpt-split", messages=HELLO, max_tokens=64,
        extra_headers={"X-Exchange-Pool": pool_id})
    with gateway.exchange() as ex:
        assert ex.limits("spark").hourly_used <= Decimal(1000)
        assert ex.doctor().healthy
        assert_invariants(ex)


def test_24_concurrent_pool_requests_never_pass_a_members_hourly_limit(
        gateway: GatewayUnderTest):
    """24 pool-paid requests at once, from both members, each drawing about 0.26 from
    spark's stake against its hourly limit of 3: about eleven fit; the rest are refused
    (429) before the provider; the pool is charged exactly the reported usage, spark's
    window holds, and no hold is left open."""
    set_config(gateway.home, lambda text: text.replace(
        "[agents.spark.preferred_llms]",
        "[agents.spark.rate_limits]\nhourly = 3\n[agents.spark.preferred_llms]"))
    gateway.provider.reply_words = 64  # every answer uses all it reserved for output
    with gateway.exchange() as ex:
        pool_id = make_pool(ex)
    from agent_token_exchange.server.app import create_app
    with ServerThread(create_app(gateway.home, clock=gateway.clock)) as server:
        gateway.url = server.url
        calls = gateway.provider.calls

        async def one(agent: str) -> tuple[int, object]:
            client = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1",
                                        api_key=gateway.keys[agent], max_retries=0)
            async with client:
                try:
                    answer = await client.chat.completions.create(
                        model="gpt-split", messages=HELLO, max_tokens=64,
                        extra_headers={"X-Exchange-Pool": pool_id})
                except openai.APIStatusError as exc:
                    return exc.status_code, exc
                return 200, answer

        async def all_at_once() -> list[tuple[int, object]]:
            return await asyncio.gather(*(one(("zero", "spark")[i % 2]) for i in range(24)))

        results = asyncio.run(all_at_once())
    admitted = [answer for status, answer in results if status == 200]
    refused = [exc for status, exc in results if status != 200]
    assert refused and all(exc.status_code == 429 for exc in refused)
    assert all("for spark" in exc.message for exc in refused)
    assert 1 <= len(admitted) <= 12
    assert gateway.provider.calls - calls == len(admitted)
    expected = sum((gateway.cost("gpt-split", a.usage.prompt_tokens, a.usage.completion_tokens)
                    for a in admitted), Decimal(0))
    with gateway.exchange() as ex:
        assert ex.pool_show(pool_id).balance == Decimal(100) - expected
        spark = ex.limits("spark")
        assert spark.hourly_used <= spark.hourly_limit == Decimal(3)
        assert spark.hourly_used + ex.limits("zero").hourly_used == expected
        assert ex.doctor().healthy
        assert_invariants(ex)


# -- the books of a pool hold, without HTTP ------------------------------------------------


def big_pool(ex) -> str:
    """pool-1: zero staking 600, spark 400."""
    pool = ex.pool_create("opus team", "zero", "10", open=True)
    ex.pool_join(pool.id, "spark")
    ex.pool_contribute(pool.id, "zero", "600")
    ex.pool_contribute(pool.id, "spark", "400")
    return pool.id


def test_an_open_pool_hold_draws_on_the_stakes_and_counts_as_each_members_hold(exchange):
    """While a pool-paid reservation is open its draws are off the stakes (the pool's
    balance is still their sum) and count against each member's own hourly limit; the
    capture charges each member its share pro rata to its draw and gives the rest back."""
    pool_id = big_pool(exchange)
    held = exchange.metering.reserve("spark", "claude-opus", 100, 10_000, "chars",
                                     pool_id=pool_id)
    assert held.amount == Decimal("151.5")  # 10,100 tokens at 15 per 1,000
    assert stakes(exchange, pool_id) == {"zero": Decimal("509.1"), "spark": Decimal("339.4")}
    assert exchange.pool_show(pool_id).balance == Decimal("848.5")
    assert_invariants(exchange)
    exchange.llm("zero", "coding", 30_000, model="claude-opus")  # 450
    exchange.llm("zero", "coding", 30_000, model="claude-opus")  # 900, and 90.9 held
    with pytest.raises(RateLimited) as refused:
        exchange.llm("zero", "coding", 1000, model="claude-opus")  # 15 more: 1005.9
    assert refused.value.kind == "hourly"
    closed = exchange.metering.capture(held, Usage(100, 1000))  # 16.5
    assert (closed.outcome, closed.charged) == ("captured", Decimal("16.5"))
    assert stakes(exchange, pool_id) == {"zero": Decimal("590.1"), "spark": Decimal("393.4")}
    assert exchange.limits("spark").hourly_used == Decimal("6.6")
    assert exchange.limits("zero").hourly_used == Decimal("909.9")
    assert exchange.pool_show(pool_id).balance == Decimal("983.5")
    assert_invariants(exchange)


def test_a_released_pool_hold_gives_every_draw_back(exchange):
    """A provider failure releases a pool hold: every stake is back to the micro-token and
    nothing is charged or counted."""
    pool_id = big_pool(exchange)
    held = exchange.metering.reserve("zero", "claude-sonnet", 333, 3333, "bytes",
                                     pool_id=pool_id)
    assert exchange.pool_show(pool_id).balance == Decimal(1000) - held.amount
    exchange.metering.release(held)
    assert stakes(exchange, pool_id) == {"zero": Decimal(600), "spark": Decimal(400)}
    assert exchange.limits("zero").hourly_used == exchange.limits("spark").hourly_used == 0
    assert_invariants(exchange)


def test_a_member_who_left_during_the_hold_gets_the_rest_of_its_draw(exchange):
    """A member that leaves while a pool hold is open takes its stake less its draw; the
    capture charges it its share of the request and returns the rest of its draw to its
    wallet, so it pays exactly its share; the pool keeps only the others' stakes."""
    pool_id = big_pool(exchange)
    held = exchange.metering.reserve("zero", "claude-opus", 100, 10_000, "chars",
                                     pool_id=pool_id)
    left = exchange.pool_leave(pool_id, "spark")
    assert left.amount == Decimal("339.4")
    assert_invariants(exchange)
    exchange.metering.capture(held, Usage(100, 1000))  # 16.5: 9.9 zero, 6.6 spark
    assert exchange.balance("spark").tokens == Decimal(10_000) - Decimal("6.6")
    assert stakes(exchange, pool_id) == {"zero": Decimal("590.1")}
    assert exchange.pool_show(pool_id).balance == Decimal("590.1")
    assert_invariants(exchange)


def test_a_stale_pool_hold_is_charged_its_draws_by_settle(exchange, clock):
    """settle closes a pool-paid reservation left open at its reserved amount: each member
    pays exactly what was drawn from it."""
    pool_id = big_pool(exchange)
    exchange.metering.reserve("spark", "claude-opus", 100, 10_000, "chars", pool_id=pool_id)
    clock.advance(seconds=3600)
    [item] = exchange.settle().items
    assert item.amount == Decimal("151.5") and "pool pool-1 for spark" in item.detail
    assert stakes(exchange, pool_id) == {"zero": Decimal("509.1"), "spark": Decimal("339.4")}
    assert exchange.limits("zero").hourly_used == Decimal("90.9")
    assert_invariants(exchange)


def test_charge_shares_follow_the_draws_and_an_overrun_the_stakes():
    """A charge within the hold splits by the draws (never more than a draw); an overrun
    too big for a member's draw and stake splits by what each has; shares always sum to
    the charge."""
    draws = {"a": 7, "b": 3}
    assert hold_charge_shares(5, draws, {"a": 7, "b": 3}) == {"a": 4, "b": 1}
    assert hold_charge_shares(0, draws, {"a": 7, "b": 3}) == {"a": 0, "b": 0}
    assert hold_charge_shares(20, draws, {"a": 100, "b": 10}) == {"a": 14, "b": 6}
    assert hold_charge_shares(20, draws, {"a": 100, "b": 5}) == {"a": 19, "b": 1}
