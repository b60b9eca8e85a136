"""The gateway's books without HTTP: reservations count in every window, a stale one is
closed at its reserved amount with a record that says so, a reservation settles once,
and the pricing rules round as the rest of the exchange does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent_token_exchange import ConfigError, RateLimited
from agent_token_exchange.economy import metering
from agent_token_exchange.economy.config import Config, default_config_text, parse_config_text
from agent_token_exchange.service.metering import Usage

from .ledger_checks import assert_invariants


def test_an_open_reservation_counts_against_the_hourly_limit(exchange):
    """While a gateway request's worst case is held, a reported spend that would pass the
    hourly limit together with it is refused, and the headroom shows the hold."""
    held = exchange.metering.reserve("claude", "claude-opus", 1000, 32_000, "chars")
    assert held.amount == Decimal("495")  # (1000 + 32000) × 15 / 1000
    assert exchange.limits("claude").headroom == Decimal("500")  # burst: 1000 - 495 is more
    exchange.llm("claude", "coding", 30_000)  # 450: 945 of 1000 used or held
    with pytest.raises(RateLimited) as refused:
        exchange.llm("claude", "coding", 4000)  # 60 more would pass 1000
    assert refused.value.kind == "hourly"
    assert exchange.limits("claude").headroom == Decimal("55")
    exchange.metering.capture(held, Usage(900, 100, "msg_1"))
    assert exchange.limits("claude").hourly_used == Decimal("465")  # 450 + 15, not 495
    assert_invariants(exchange)


def test_a_stale_reservation_is_charged_its_reserved_amount_once(exchange, clock):
    """A reservation left open past the timeout is closed by close_stale_reservations at
    the reserved amount (the provider may have served it), with a description that says
    so; running it again, or a late capture, changes nothing."""
    held = exchange.metering.reserve("zero", "llama3.2", 500, 1500, "chars")
    clock.advance(seconds=metering.STALE_AFTER_US // 1_000_000 - 1)
    assert exchange.metering.close_stale_reservations() == []
    clock.advance(seconds=2)
    [closed] = exchange.metering.close_stale_reservations()
    assert (closed.outcome, closed.charged) == ("expired", held.amount)
    charge = exchange.history("zero", 1)[0]
    assert charge.amount == -held.amount and "left open past 15 minutes" in charge.description
    assert exchange.metering.close_stale_reservations() == []
    late = exchange.metering.capture(held, Usage(10, 10))
    assert (late.outcome, late.charged) == ("expired", held.amount)
    assert exchange.balance("zero").tokens == Decimal(10_000) - held.amount
    assert_invariants(exchange)


def test_release_returns_the_whole_hold_and_charges_nothing(exchange):
    """A released reservation gives the wallet back exactly and charges nothing; the
    wallet's tokens = grant + earned - spent at every step."""
    held = exchange.metering.reserve("spark", "claude-sonnet", 100, 100, "bytes")
    wallet = exchange.balance("spark")
    assert wallet.tokens == Decimal(10_000) - held.amount == 10_000 - wallet.spent
    released = exchange.metering.release(held)
    assert (released.outcome, released.charged) == ("released", 0)
    assert exchange.balance("spark").tokens == Decimal(10_000)
    assert exchange.balance("spark").spent == 0
    assert_invariants(exchange)


def test_an_overrun_is_charged_and_recorded(exchange):
    """A provider that reports more than was reserved is charged what it reported, and the
    reservation records the overrun."""
    held = exchange.metering.reserve("zero", "llama3.2", 100, 100, "chars")  # 0.02
    closed = exchange.metering.capture(held, Usage(300, 100, "r-1"))  # 0.04
    assert (closed.charged, closed.overrun) == (Decimal("0.04"), Decimal("0.02"))
    assert_invariants(exchange)


def test_quote_says_what_would_pass_and_the_largest_max_tokens(exchange):
    """A quote prices the worst case, says whether it passes now, and names the largest
    max_tokens that fits the tightest limit."""
    quote = exchange.quote("claude", "task:coding", 1000, 40_000)
    assert (quote.model, quote.cost, quote.allowed) == ("claude-opus", Decimal("615"), False)
    assert quote.code == "burst_limit" and quote.largest_max_tokens == 32_333
    assert "largest max_tokens that fits now is 32333" in quote.message
    assert exchange.quote("claude", "claude-opus", 1000).max_output_tokens == 4096


def test_split_prices_round_half_up_once():
    """Input and output are priced apart and the sum rounded half-up once, in integers."""
    price = metering.Prices("m", input=2_500_000, output=10_000_000)  # 2.5 and 10 per 1k
    assert metering.usage_cost(price, 1, 0) == 2500  # 0.0025 tokens
    assert metering.usage_cost(price, 3, 1) == 17_500
    odd = metering.Prices("m", input=1, output=1)  # a micro-token per 1,000 tokens
    assert metering.usage_cost(odd, 499, 0) == 0 and metering.usage_cost(odd, 500, 0) == 1
    assert metering.largest_output(price, 0, 1_000_000) == 100  # 1 token buys 100 out
    assert metering.usage_cost(price, 0, 100) <= 1_000_000 < metering.usage_cost(price, 0, 101)


@pytest.mark.parametrize("extra, message", [
    ('[models."x"]\ninput_cost_per_1k = 1\n', "models.x: input_cost_per_1k and "
     "output_cost_per_1k go together"),
    ('[models."x"]\ncost_per_1k = 1\nupstream = "nowhere"\n',
     "models.x.upstream: unknown upstream 'nowhere'"),
    ('[upstreams.a]\nprotocol = "grpc"\nbase_url = "http://x"\n', "upstreams.a.protocol"),
    ('[upstreams.a]\nprotocol = "openai"\nbase_url = "ftp://x"\n', "upstreams.a.base_url"),
    ('[upstreams.a]\nprotocol = "openai"\nbase_url = "http://x"\napi_key = "sk-1"\n',
     "upstreams.a.api_key: unknown key"),
])
def test_gateway_config_mistakes_are_one_line(extra: str, message: str):
    """A misconfigured upstream or model is one ConfigError line naming the key (and a
    provider key written into the file is refused: keys come from the environment)."""
    with pytest.raises(ConfigError) as caught:
        parse_config_text(default_config_text() + extra)
    assert message in caught.value.message and "\n" not in caught.value.message


def test_split_prices_replace_the_flat_one():
    """A model with input and output prices needs no cost_per_1k; a flat count (``llm``)
    is priced as output."""
    config: Config = parse_config_text(default_config_text() + (
        '[upstreams.o]\nprotocol = "openai"\nbase_url = "http://127.0.0.1:11434/v1"\n'
        '[models."x"]\ninput_cost_per_1k = 1\noutput_cost_per_1k = 4\nupstream = "o"\n'))
    model = config.models["x"]
    assert (model.input_price, model.output_price, model.cost_per_1k) == (1, 4, 4)
    assert config.upstreams["o"].token_estimator == "tiktoken"


def test_an_exchange_with_gateway_requests_exports_and_imports(exchange, tmp_path, clock):
    """Hold and release transfers and the hold accounts travel through export and import
    (an account named hold:agent:NAME is one the exchange writes)."""
    from agent_token_exchange.formats.export import parse_export, to_json
    from agent_token_exchange.service.lifecycle import import_exchange

    held = exchange.metering.reserve("zero", "llama3.2", 100, 100, "chars")
    exchange.metering.capture(held, Usage(80, 50, "r-1"))
    image = parse_export(to_json(exchange.export_image()))
    summary = import_exchange(tmp_path / "copy", image, clock=clock)
    assert summary.transfers == len(exchange.export_image().transfers)
    assert "hold:agent:zero" in {a.name for a in image.accounts}
