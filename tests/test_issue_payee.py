"""Who is paid for an issue and what the reward table shows are rules of the economy:
pure functions of the config, with no environment read (issue 9, policy in the core)."""

from __future__ import annotations

import pytest

from agent_token_exchange import InvalidInput
from agent_token_exchange.economy import rules
from agent_token_exchange.economy.config import default_config_text, parse_config_text
from agent_token_exchange.money import MICRO

CONFIG = parse_config_text(default_config_text())
NAMED = (("--agent", None), ("TOKEN_EXCHANGE_AGENT", None))


def test_the_assignee_wins_over_named_agents():
    """An assignee that is an agent is paid, whatever the caller names."""
    agent, why = rules.issue_payee(CONFIG, "claude", (("--agent", "zero"),))
    assert (agent, why) == ("claude", "assignee claude is agent claude")


def test_named_agents_are_taken_in_order(monkeypatch):
    """With no agent assignee, the first named agent is paid; the environment is not read."""
    monkeypatch.setenv("TOKEN_EXCHANGE_AGENT", "builder")
    agent, why = rules.issue_payee(CONFIG, "someone", (("--agent", None),
                                                      ("TOKEN_EXCHANGE_AGENT", "Zero")))
    assert (agent, why) == ("zero", "TOKEN_EXCHANGE_AGENT is zero")
    assert rules.issue_payee(CONFIG, None, NAMED)[0] is None


def test_nobody_to_pay_says_every_way_to_name_one():
    """No assignee and nothing named: None, and the reason lists each way to fix it."""
    agent, why = rules.issue_payee(CONFIG, None, NAMED)
    assert agent is None
    assert why == ("no assignee; pass --agent, set TOKEN_EXCHANGE_AGENT, or add the "
                   "assignee to an agent's aliases in config.toml")


def test_a_named_unknown_agent_is_bad_input():
    """Naming an agent the config lacks is one InvalidInput listing the known agents."""
    with pytest.raises(InvalidInput, match="--agent names unknown agent 'claud'"):
        rules.issue_payee(CONFIG, None, (("--agent", "claud"),))


def test_reward_table_cells_are_what_a_close_pays():
    """Each cell of the table is the seed's reward: P2 bug 450, P1 security 1,000."""
    table = {row.priority: row for row in rules.issue_reward_table(CONFIG)}
    assert table["P2"].by_type["bug"] == 450 * MICRO
    assert table["P1"].base == 500 * MICRO
    assert table["P1"].by_type["security"] == 1_000 * MICRO
