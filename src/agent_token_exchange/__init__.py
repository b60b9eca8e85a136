"""Agent Token Exchange: a token economy for teams of AI agents.

Agents earn tokens for real work and spend them on LLM inference, alone or pooled,
under hourly, daily, burst and reserve limits. Amounts are ``Decimal`` tokens.

    from agent_token_exchange import init_exchange, open_exchange
    init_exchange("/tmp/team")
    with open_exchange("/tmp/team") as ex:
        ex.llm("zero", "coding", 5000)

Each public name is imported when it is first used (PEP 562), so ``import
agent_token_exchange`` costs next to nothing and a quick command (the post-commit hook)
loads only what it needs.
"""

from .lazy import lazy_names as _lazy_names

# Where each public name lives.
_HOMES = {
    "BudgetExhausted": ".errors",
    "Clock": ".clock",
    "Config": ".economy.config",
    "ConfigError": ".errors",
    "Conflict": ".errors",
    "Exchange": ".service.exchange",
    "ExchangeAPI": ".api",
    "ExchangeError": ".errors",
    "from_json": ".formats.json_codec",
    "init_exchange": ".service.lifecycle",
    "InsufficientFunds": ".errors",
    "IntegrityError": ".errors",
    "InvalidInput": ".errors",
    "NotAllowed": ".errors",
    "open_exchange": ".service.lifecycle",
    "RateLimited": ".errors",
    "Refused": ".errors",
    "SimulatedClock": ".clock",
    "SystemClock": ".clock",
    "to_json": ".formats.json_codec",
}

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


__getattr__, __dir__ = _lazy_names(__name__, _HOMES, globals())
