"""The config file: defaults are the seed's tables; a bad file is one line naming the key."""

import pytest

from agent_token_exchange.economy.config import Config, default_config_text, parse_config_text
from agent_token_exchange.errors import ConfigError


def test_defaults_are_the_seeds_limits_and_start_balance():
    """The default config holds the seed's rate limits, start balance, contracts and pool minimum.
    """
    config = Config.default()
    limits = config.rate_limits
    assert (limits.hourly, limits.daily, limits.burst, limits.reserve) == (1000, 10000, 500, 500)
    assert config.start_balance == 10000
    assert [c.name for c in config.contracts] == ["nexushive-setup", "claude-monitor", "scheme",
                                                  "default"]
    assert config.pools.min_members == 2


def test_written_config_is_commented_and_holds_the_seeds_numbers():
    """What init writes is the seed's tables, as a person would edit them."""
    text = default_config_text()
    assert text.count("\n#") > 10
    for line in ("start_balance = 10000", "hourly = 1000", "daily = 10000", "burst = 500",
                 "reserve = 500", 'pattern = "scheme-.*"', "multiplier = 1.8",
                 "budget = 50000", "cost_per_1k = 15", "cost_per_1k = 0.1", "P2 = 300",
                 "P5 = 50", "bug = 1.5", "chore = 0.5", "min_members = 2"):
        assert f"\n{line}\n" in text, line


@pytest.mark.parametrize(
    ("edit", "key"),
    [(("hourly = 1000", 'hourly = "lots"'), "rate_limits.hourly"),
     (("burst = 500", "burst = -5"), "rate_limits.burst"),
     (('primary_llm = "llama3.2"', 'primary_llm = "gpt-9"'), "agents.zero.primary_llm"),
     (('pattern = "scheme-.*"', 'pattern = "scheme-("'), "contracts.2.pattern"),
     (("min_members = 2", "min_members = 2\nmax_members = 3"), "pools.max_members"),
     (("start_balance = 10000", "start_balance = 10000.1234567"), "start_balance"),
     (("[agents.zero]", "[agents.\"Zero/../x\"]"), "agents"),
     (("level = 5", "level = 5\nlevel = 6"), "not valid TOML")],
)
def test_invalid_config_names_the_key(edit, key):
    """An invalid config raises a one-line ConfigError naming the offending key."""
    with pytest.raises(ConfigError) as caught:
        parse_config_text(default_config_text().replace(*edit, 1))
    message = caught.value.message
    assert key in message and "\n" not in message


def test_missing_default_contract_is_reported():
    """A config without a default contract is refused saying so."""
    text = default_config_text().replace('name = "default"', 'name = "fallback"')
    with pytest.raises(ConfigError, match="default"):
        parse_config_text(text)
