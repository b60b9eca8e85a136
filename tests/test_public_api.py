"""The public surface is small and pinned."""

import agent_token_exchange


def test_all_is_pinned():
    """The package's __all__ is exactly the pinned public names, and each of them exists."""
    assert sorted(agent_token_exchange.__all__) == sorted([
        "BudgetExhausted", "Clock", "Config", "ConfigError", "Conflict", "Exchange",
        "ExchangeError", "InsufficientFunds", "IntegrityError", "InvalidInput", "NotAllowed",
        "RateLimited", "Refused", "SimulatedClock", "SystemClock", "init_exchange",
        "open_exchange"])
    for name in agent_token_exchange.__all__:
        assert hasattr(agent_token_exchange, name)
