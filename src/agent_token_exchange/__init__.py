"""Agent Token Exchange: a token economy for teams of AI agents.

Agents earn tokens for real work and spend them on LLM inference, alone or pooled,
under hourly, daily, burst and reserve limits. Amounts are ``Decimal`` tokens.

    from agent_token_exchange import init_exchange, open_exchange
    init_exchange("/tmp/team")
    with open_exchange("/tmp/team") as ex:
        ex.llm("zero", "coding", 5000)
"""

from .api import ExchangeAPI
from .clock import Clock, SimulatedClock, SystemClock
from .economy.config import Config
from .errors import (
    BudgetExhausted,
    ConfigError,
    Conflict,
    ExchangeError,
    InsufficientFunds,
    IntegrityError,
    InvalidInput,
    NotAllowed,
    RateLimited,
    Refused,
)
from .formats.json_codec import from_json, to_json
from .service.exchange import Exchange
from .service.lifecycle import init_exchange, open_exchange

__all__ = [
    "BudgetExhausted",
    "Clock",
    "Config",
    "ConfigError",
    "Conflict",
    "Exchange",
    "ExchangeAPI",
    "ExchangeError",
    "from_json",
    "init_exchange",
    "InsufficientFunds",
    "IntegrityError",
    "InvalidInput",
    "NotAllowed",
    "open_exchange",
    "RateLimited",
    "Refused",
    "SimulatedClock",
    "SystemClock",
    "to_json",
]
