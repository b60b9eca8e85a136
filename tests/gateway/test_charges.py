"""Exact charges through the gateway with the official SDKs: plain and streamed, on both
protocols, flat- and split-priced models, ``task:`` models (pool-paid requests:
test_pool_paid.py)."""

from __future__ import annotations

from decimal import Decimal

from ..ledger_checks import assert_invariants
from .conftest import GatewayUnderTest

HELLO = [{"role": "user", "content": "Write a haiku about double-entry bookkeeping."}]


def test_openai_plain_request_is_charged_the_reported_usage(gateway: GatewayUnderTest):
    """A plain chat completion charges exactly the provider's reported prompt and
    completion tokens at the model's input and output prices, as one inference transfer
    carrying the model, the tokens, the provider's id and the latency."""
    before = gateway.balance("zero")
    answer = gateway.openai().chat.completions.create(model="gpt-split", messages=HELLO)
    usage = answer.usage
    expected = gateway.cost("gpt-split", usage.prompt_tokens, usage.completion_tokens)
    assert before - gateway.balance("zero") == expected
    forwarded = gateway.provider.requests[-1]
    assert forwarded["body"]["model"] == "gpt-4o-mini"  # the name the provider knows
    assert forwarded["body"]["max_tokens"] == 64  # the model's max_output_tokens, added
    assert forwarded["headers"]["authorization"] == "Bearer sk-standin-openai"
    with gateway.exchange() as ex:
        charge = ex.history("zero", 1)[0]
        assert_invariants(ex)
    assert (charge.type, charge.model, charge.amount) == ("inference", "gpt-split", -expected)
    assert (charge.input_tokens, charge.output_tokens) == (usage.prompt_tokens,
                                                           usage.completion_tokens)
    assert charge.provider_request_id == answer.id and charge.latency_ms is not None


def test_openai_stream_asks_for_usage_and_hides_the_extra_chunk(gateway: GatewayUnderTest):
    """A stream from a client that did not ask for usage is charged the usage the gateway
    asked the provider for, and the client never sees the usage-only chunk; a client that
    asked gets it."""
    client = gateway.openai()
    before = gateway.balance("zero")
    chunks = list(client.chat.completions.create(model="gpt-split", messages=HELLO,
                                                 stream=True))
    assert gateway.provider.requests[-1]["body"]["stream_options"] == {"include_usage": True}
    assert all(chunk.choices for chunk in chunks) and all(c.usage is None for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.split() == [f"w{i}" for i in range(12)]
    prompt = gateway.provider.openai_input(gateway.provider.requests[-1]["body"])
    assert before - gateway.balance("zero") == gateway.cost("gpt-split", prompt, 12)
    asked = list(client.chat.completions.create(
        model="gpt-split", messages=HELLO, stream=True,
        stream_options={"include_usage": True}))
    assert asked[-1].choices == [] and asked[-1].usage.completion_tokens == 12


def test_anthropic_plain_and_streamed_requests_are_charged_exactly(gateway: GatewayUnderTest):
    """Anthropic's messages, plain and streamed (usage from message_start and
    message_delta), are charged the reported input and output at the model's prices."""
    client = gateway.anthropic()
    before = gateway.balance("zero")
    message = client.messages.create(model="claude-split", max_tokens=50, messages=HELLO)
    first = gateway.cost("claude-split", message.usage.input_tokens,
                         message.usage.output_tokens)
    assert before - gateway.balance("zero") == first
    with client.messages.stream(model="claude-split", max_tokens=5, messages=HELLO) as stream:
        final = stream.get_final_message()
    assert final.usage.output_tokens == 5 and final.stop_reason == "max_tokens"
    second = gateway.cost("claude-split", final.usage.input_tokens, 5)
    assert before - gateway.balance("zero") == first + second
    assert gateway.provider.requests[-1]["headers"]["x-api-key"] == "sk-ant-standin"
    with gateway.exchange() as ex:
        assert ex.history("zero", 1)[0].provider_request_id == final.id
        assert_invariants(ex)


def test_a_task_model_is_the_agents_preferred_model_at_its_flat_price(
        gateway: GatewayUnderTest):
    """``task:coding`` is the agent's preferred model for coding (zero: llama3.2, claude:
    claude-opus), charged at that model's price per 1,000 tokens, input and output alike."""
    answer = gateway.openai("zero").chat.completions.create(model="task:coding",
                                                            messages=HELLO)
    assert gateway.provider.requests[-1]["body"]["model"] == "llama3.2"
    with gateway.exchange() as ex:
        charge = ex.history("zero", 1)[0]
    total = answer.usage.prompt_tokens + answer.usage.completion_tokens
    assert charge.model == "llama3.2"
    assert -charge.amount == gateway.cost("llama3.2", answer.usage.prompt_tokens,
                                          answer.usage.completion_tokens)
    assert -charge.amount == (Decimal(total) * Decimal("0.1") / 1000).quantize(Decimal("0.000001"))
    before = gateway.balance("claude")
    message = gateway.anthropic("claude").messages.create(model="task:coding", max_tokens=20,
                                                          messages=HELLO)
    assert gateway.provider.requests[-1]["body"]["model"] == "claude-opus-4-1"
    assert before - gateway.balance("claude") == gateway.cost(
        "claude-opus", message.usage.input_tokens, message.usage.output_tokens)


def test_a_client_may_name_the_providers_model(gateway: GatewayUnderTest):
    """A model named as the provider knows it (an ``upstream_model``) is served as the one
    exchange model that maps to it (Claude Code sends such names)."""
    gateway.anthropic("claude").messages.create(model="claude-opus-4-1", max_tokens=5,
                                                messages=HELLO)
    with gateway.exchange() as ex:
        assert ex.history("claude", 1)[0].model == "claude-opus"


def test_models_lists_what_the_gateway_serves(gateway: GatewayUnderTest):
    """GET /v1/models lists the exchange models that have an upstream, in a shape both
    SDKs read."""
    ids = [model.id for model in gateway.openai().models.list()]
    assert ids == ["claude-opus", "claude-split", "gpt-split", "llama3.2"]
    assert [m.id for m in gateway.anthropic().models.list()] == ids
