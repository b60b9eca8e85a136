"""What the gateway refuses never reaches the provider, costs nothing, and comes back in
the provider's own error format; a provider's failure costs nothing either."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from ..conftest import set_config
from ..ledger_checks import assert_invariants, snapshot
from .conftest import GatewayUnderTest

HELLO = [{"role": "user", "content": "hello"}]


def _unchanged(gateway: GatewayUnderTest, before: dict, calls: int) -> None:
    assert gateway.provider.calls == calls, "the provider was called"
    with gateway.exchange() as ex:
        assert snapshot(ex) == before, "a balance moved"
        assert_invariants(ex)


def _state(gateway: GatewayUnderTest) -> tuple[dict, int]:
    with gateway.exchange() as ex:
        return snapshot(ex), gateway.provider.calls


def test_burst_refusal_is_a_429_naming_the_largest_max_tokens(gateway: GatewayUnderTest):
    """A request whose worst case passes the burst limit is a 429 (each SDK's
    RateLimitError) with Retry-After and the largest max_tokens that fits, before the
    provider is called; nothing is charged and the refusal is recorded."""
    before, calls = _state(gateway)
    with pytest.raises(openai.RateLimitError) as caught:
        gateway.openai().chat.completions.create(model="gpt-split", messages=HELLO,
                                                 max_tokens=60_000)
    assert "burst limit" in caught.value.message
    assert "largest max_tokens that fits now is 49" in caught.value.message
    assert "retry-after" in caught.value.response.headers
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body["type"] == "rate_limit_exceeded"
    with pytest.raises(anthropic.RateLimitError) as refused:
        gateway.anthropic().messages.create(model="claude-split", max_tokens=40_000,
                                            messages=HELLO, stream=True)
    assert refused.value.body["error"]["type"] == "rate_limit_error"
    _unchanged(gateway, before, calls)
    with gateway.exchange() as ex:
        # The two identical refusals within a minute are one row with a count of two.
        assert [(r.code, r.count) for r in ex.refusals("zero", 2)] == [("burst_limit", 2)]


def test_hourly_refusal_says_when_to_retry(gateway: GatewayUnderTest):
    """Past the hourly limit a request is a 429 whose Retry-After is when enough of the
    last hour's charges have aged out for it to fit."""
    with gateway.exchange() as ex:
        ex.llm("claude", "coding", 30_000)  # 450 + 450 of the hourly 1000 (claude-opus
        ex.llm("claude", "coding", 30_000)  # costs 15 per 1,000 tokens)
    gateway.clock.advance(600)
    before, calls = _state(gateway)
    with pytest.raises(anthropic.RateLimitError) as caught:
        gateway.anthropic("claude").messages.create(model="claude-opus", max_tokens=10_000,
                                                    messages=HELLO)
    assert "Hourly limit reached" in caught.value.message
    assert caught.value.response.headers["retry-after"] == "3000"
    _unchanged(gateway, before, calls)


def test_funds_and_reserve_refusals_are_402(gateway: GatewayUnderTest):
    """A request that would take a wallet under its reserve is a 402 in either format."""
    set_config(gateway.home, lambda text: text.replace(
        "[agents.zero.preferred_llms]",
        "[agents.zero.rate_limits]\nreserve = 9999.9\n[agents.zero.preferred_llms]"))
    # The server read its config at start; this one reads the new reserve.
    from agent_token_exchange.server.app import create_app

    from ..standin_provider import ServerThread
    with ServerThread(create_app(gateway.home, clock=gateway.clock)) as server:
        gateway.url = server.url
        before, calls = _state(gateway)
        with pytest.raises(openai.APIStatusError) as caught:
            gateway.openai().chat.completions.create(model="gpt-split", messages=HELLO)
        assert caught.value.status_code == 402
        assert "Would breach emergency reserve" in caught.value.message
        with pytest.raises(anthropic.APIStatusError) as refused:
            gateway.anthropic().messages.create(model="claude-split", max_tokens=50,
                                                messages=HELLO)
        assert refused.value.status_code == 402
        assert refused.value.body["error"]["type"] == "billing_error"
        _unchanged(gateway, before, calls)


@pytest.mark.parametrize("status", [500, 503, 429, 400])
def test_a_provider_error_releases_everything_and_passes_its_status(
        gateway: GatewayUnderTest, status: int):
    """A provider's error comes back with its status and body; the hold is released and
    nothing is charged."""
    gateway.provider.fail_status = status
    before, _ = _state(gateway)
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.openai().chat.completions.create(model="gpt-split", messages=HELLO)
    assert caught.value.status_code == status
    with pytest.raises(anthropic.APIStatusError) as failed:
        gateway.anthropic().messages.create(model="claude-split", max_tokens=20,
                                            messages=HELLO, stream=True)
    assert failed.value.status_code == status
    with gateway.exchange() as ex:
        after = snapshot(ex)
        assert_invariants(ex)
    # Only the figures of the hold account that came and went differ: every payer's are equal.
    assert {k: v for k, v in after.items() if not k.startswith("hold:")} == {
        k: v for k, v in before.items() if not k.startswith("hold:")}
    assert after["hold:agent:zero"][0] == 0


def test_an_unreachable_provider_is_a_502_and_costs_nothing(gateway: GatewayUnderTest):
    """When the provider cannot be reached the gateway answers 502 (its own failure, in
    the provider's format) and releases the hold."""
    set_config(gateway.home, lambda text: text.replace(gateway.provider.url,
                                                       "http://127.0.0.1:9"))
    from agent_token_exchange.server.app import create_app

    from ..standin_provider import ServerThread
    with ServerThread(create_app(gateway.home, clock=gateway.clock)) as server:
        gateway.url = server.url
        before = gateway.balance("zero")
        with pytest.raises(openai.APIStatusError) as caught:
            gateway.openai().chat.completions.create(model="gpt-split", messages=HELLO)
        assert caught.value.status_code == 502
        assert "could not be reached" in caught.value.message
        assert gateway.balance("zero") == before


def test_keys_wrong_revoked_admin_and_another_agents(gateway: GatewayUnderTest):
    """A wrong or revoked key is a 401 and an admin key a 403, before the provider; an
    agent's key charges that agent only; a pool the agent is not in is a 403."""
    before, calls = _state(gateway)
    gateway.keys["stranger"] = "atx_000000000000_" + "x" * 43
    with pytest.raises(openai.AuthenticationError):
        gateway.openai("stranger").chat.completions.create(model="gpt-split", messages=HELLO)
    with pytest.raises(anthropic.AuthenticationError):
        gateway.anthropic("stranger").messages.create(model="claude-split", max_tokens=5,
                                                      messages=HELLO)
    with pytest.raises(openai.PermissionDeniedError):
        gateway.openai("admin").chat.completions.create(model="gpt-split", messages=HELLO)
    with gateway.exchange() as ex:
        ring = ex.keys
        revoked = next(k for k in ring.list() if k.agent == "builder")
        ring.revoke(revoked.key_id)
        pool = ex.pool_create("claude's", "claude", "10")
    with pytest.raises(anthropic.AuthenticationError):
        gateway.anthropic("builder").messages.create(model="claude-split", max_tokens=5,
                                                     messages=HELLO)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gateway.openai("spark").chat.completions.create(
            model="gpt-split", messages=HELLO, extra_headers={"X-Exchange-Pool": pool.id})
    assert "not a member" in caught.value.message
    assert gateway.provider.calls == calls
    with gateway.exchange() as ex:
        after = snapshot(ex)
    assert {k: v for k, v in after.items() if not k.startswith("pool:")} == before
    spark = gateway.balance("spark")
    gateway.openai("spark").chat.completions.create(model="gpt-split", messages=HELLO)
    assert gateway.balance("spark") < spark
    assert gateway.balance("zero") == before["agent:zero"][0] / 10**6


def test_a_body_that_is_not_json_or_names_no_known_model_is_refused_in_format(
        gateway: GatewayUnderTest):
    """Bad requests are the provider format's 400 or 404, and reach no provider."""
    calls = gateway.provider.calls
    answer = httpx.post(f"{gateway.url}/v1/messages", content=b"{not json",
                        headers={"x-api-key": gateway.keys["zero"]})
    assert answer.status_code == 400 and answer.json()["type"] == "error"
    with pytest.raises(openai.NotFoundError) as caught:
        gateway.openai().chat.completions.create(model="gpt-9", messages=HELLO)
    assert "unknown model" in caught.value.message
    with pytest.raises(openai.NotFoundError):
        gateway.openai().chat.completions.create(model="gemini-pro", messages=HELLO)
    with pytest.raises(openai.BadRequestError) as wrong:
        gateway.openai().chat.completions.create(model="claude-split", messages=HELLO)
    assert "/v1/messages" in wrong.value.message
    no_key = httpx.post(f"{gateway.url}/v1/messages", json={"model": "claude-split"})
    assert no_key.status_code == 401 and no_key.json()["error"]["type"] == "authentication_error"
    assert gateway.provider.calls == calls
