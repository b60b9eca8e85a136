"""Concurrent requests from one agent against its hourly limit: admitted requests are
charged exactly, the limit is never exceeded, every refusal is a 429 or 402, and the
provider is called once per admitted request (the LiteLLM failure: 4 of 5 concurrent long
prompts admitted past a key's budget)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import openai

from ..conftest import set_config
from ..ledger_checks import assert_invariants
from ..standin_provider import ServerThread
from .conftest import GatewayUnderTest

HELLO = [{"role": "user", "content": "Write as much as you may."}]


def test_24_concurrent_requests_never_pass_the_hourly_limit(gateway: GatewayUnderTest):
    """24 requests at once, each reserving about 0.66 tokens against an hourly limit of 7:
    about ten fit; the rest are refused before the provider; the charges add up exactly
    to the reported usage and the window holds."""
    set_config(gateway.home, lambda text: text.replace(
        "[agents.zero.preferred_llms]",
        "[agents.zero.rate_limits]\nhourly = 7\n[agents.zero.preferred_llms]"))
    gateway.provider.reply_words = 64  # every answer uses all it reserved for output
    from agent_token_exchange.server.app import create_app
    with ServerThread(create_app(gateway.home, clock=gateway.clock)) as server:
        gateway.url = server.url
        calls, before = gateway.provider.calls, gateway.balance("zero")

        async def one(client: openai.AsyncOpenAI) -> tuple[int, object]:
            try:
                answer = await client.chat.completions.create(model="gpt-split",
                                                              messages=HELLO, max_tokens=64)
            except openai.APIStatusError as exc:
                return exc.status_code, exc
            return 200, answer

        async def all_at_once() -> list[tuple[int, object]]:
            client = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1",
                                        api_key=gateway.keys["zero"], max_retries=0)
            async with client:
                return await asyncio.gather(*(one(client) for _ in range(24)))

        results = asyncio.run(all_at_once())
    admitted = [answer for status, answer in results if status == 200]
    refused = [status for status, _ in results if status != 200]
    assert set(refused) <= {429, 402} and refused, "nothing was refused"
    assert 1 <= len(admitted) <= 11
    assert gateway.provider.calls - calls == len(admitted)
    expected = sum((gateway.cost("gpt-split", a.usage.prompt_tokens, a.usage.completion_tokens)
                    for a in admitted), Decimal(0))
    assert before - gateway.balance("zero") == expected
    with gateway.exchange() as ex:
        limits = ex.limits("zero")
        assert limits.hourly_used == expected <= limits.hourly_limit
        assert ex.store.reservations.open_total("agent:zero") == 0
        assert_invariants(ex)
