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

from importlib import import_module as _import_module

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


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_import_module(home, __name__), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
