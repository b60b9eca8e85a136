"""The gateway's rules: prices of a request's input and output, the worst case it
reserves, what settles it, the largest ``max_tokens`` that fits, and the conservative
token estimates used where no tokenizer is known. Pure: config and numbers in,
decisions out (amounts in micro-tokens).

    reserve  = cost(input estimate, max output tokens)      before the provider is called
    charge   = cost(reported input, reported output)         when it answers
    released = reserve - charge; an overrun (charge > reserve) is charged and recorded
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InvalidInput
from ..money import display_amount, to_micro
from .config import Config
from .rules import SpendDecision, check_consumption, preferred_llm

# Every reservation of a request left open longer than this (a crash between the
# provider's answer and the settlement) is closed by ``settle`` at the reserved amount:
# the default of ``[gateway] stale_reservation_minutes``.
STALE_AFTER_US = 15 * 60 * 1_000_000

# What the conservative estimators add per message (role, separators) and per request.
PER_MESSAGE_TOKENS = 4
PER_REQUEST_TOKENS = 3
IMAGE_TOKENS = 1600  # a picture, whatever its size: more than the providers charge for most


@dataclass(frozen=True)
class Prices:
    """A model's prices in micro-tokens per 1,000 tokens."""

    model: str
    input: int
    output: int


def prices(config: Config, model: str) -> Prices:
    spec = config.models.get(model)
    if spec is None:
        raise InvalidInput(f"unknown model {model!r} (known: {', '.join(sorted(config.models))})")
    return Prices(model, to_micro(spec.input_price), to_micro(spec.output_price))


def stale_after_us(config: Config) -> int:
    """How long a reservation may stay open before ``settle`` closes it, in microseconds."""
    return config.gateway.stale_reservation_minutes * 60 * 1_000_000


def resolve_model(config: Config, agent: str, requested: str) -> str:
    """The exchange model a request names: a model of the config, ``task:<type>`` for the
    agent's preferred model for that task type, or a configured ``upstream_model``."""
    if requested.startswith("task:"):
        task = requested.removeprefix("task:")
        if not task:
            raise InvalidInput("model task: needs a task type, like task:coding")
        return preferred_llm(config, agent, task)
    if requested in config.models:
        return requested
    # A client that names the provider's model (Claude Code's defaults, say) is served
    # when exactly one exchange model maps to it.
    named = [name for name, spec in config.models.items() if spec.upstream_model == requested]
    if len(named) == 1:
        return named[0]
    raise InvalidInput(f"unknown model {requested[:100]!r}: use a model of the exchange "
                       f"({', '.join(sorted(config.models))}) or task:<type>")


def usage_cost(price: Prices, input_tokens: int, output_tokens: int) -> int:
    """What ``input_tokens`` in and ``output_tokens`` out cost, rounded half-up once."""
    scaled = input_tokens * price.input + output_tokens * price.output  # micro × tokens
    return (2 * scaled + 1000) // 2000


def largest_output(price: Prices, input_tokens: int, budget: int) -> int | None:
    """The most output tokens a request with ``input_tokens`` in may ask for and still
    cost at most ``budget``; None when output is free (any number fits), -1 when even
    the input alone does not fit."""
    if price.output == 0:
        return None if usage_cost(price, input_tokens, 0) <= budget else -1
    # cost <= budget  <=>  2*scaled + 1000 < 2000*(budget + 1)
    #                 <=>  scaled <= 1000*budget + 499
    room = 1000 * budget + 499 - input_tokens * price.input
    return room // price.output if room >= 0 else -1


@dataclass(frozen=True)
class Settlement:
    """How a reservation closes: ``charge`` goes to inference, the rest of the hold goes
    back; ``overrun`` is what the charge exceeds the reservation by."""

    reserved: int
    charge: int
    released: int
    overrun: int


def settle(reserved: int, charge: int) -> Settlement:
    return Settlement(reserved, charge, max(0, reserved - charge), max(0, charge - reserved))


def check_reservation(
    config: Config, agent: str, *, amount: int, balance: int, hourly_used: int,
    daily_used: int, held: int, price: Prices, input_tokens: int, max_output: int,
) -> SpendDecision:
    """The seed's checks (burst, funds, reserve, hourly, daily) on a request's worst case,
    with the agent's other open reservations counted as consumed: concurrent requests
    cannot together pass a window. A refusal says the largest ``max_tokens`` that would
    fit now."""
    limits = config.limits_for(agent)
    decision = check_consumption(limits, amount=amount, balance=balance,
                                 hourly_used=hourly_used + held, daily_used=daily_used + held)
    if decision.allowed:
        return decision
    room = min(limits.burst, balance - limits.reserve, limits.hourly - hourly_used - held,
               limits.daily - daily_used - held)
    fits = largest_output(price, input_tokens, max(room, -1))
    if fits is None or fits >= max_output:  # only possible when funds alone refuse
        hint = ""
    elif fits < 1:
        hint = (f"; not even this prompt fits now (about {input_tokens} input tokens cost "
                f"{display_amount(usage_cost(price, input_tokens, 0))})")
    else:
        hint = (f"; max_tokens {max_output} reserves {display_amount(amount)}, the largest "
                f"max_tokens that fits now is {fits}")
    return SpendDecision(decision.code, decision.message + hint, used=decision.used,
                         limit=decision.limit, needed=decision.needed)


# -- estimates where no tokenizer is known --------------------------------------------------


def estimate_chars(texts: Iterable[str], messages: int, images: int = 0) -> int:
    """A character count over three (English runs about four characters a token, code
    about three) plus the framing of each message."""
    chars = sum(len(text) for text in texts)
    return _framed(math.ceil(chars / 3), messages, images)


def estimate_bytes(texts: Iterable[str], messages: int, images: int = 0) -> int:
    """UTF-8 bytes plus framing: a byte-level BPE tokenizer never makes more tokens than
    bytes, so this only errs high (by about four times for English)."""
    return _framed(sum(len(text.encode("utf-8", "surrogatepass")) for text in texts),
                   messages, images)


def framed(tokens: int, messages: int, images: int = 0) -> int:
    """A text token count plus the framing of ``messages`` messages and ``images``."""
    return _framed(tokens, messages, images)


def _framed(tokens: int, messages: int, images: int) -> int:
    return tokens + PER_MESSAGE_TOKENS * messages + PER_REQUEST_TOKENS + IMAGE_TOKENS * images
