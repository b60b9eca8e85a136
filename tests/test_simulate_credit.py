"""The shipped credit scenario (`simulate --scenario credit`): loans, futures on beads
issues and a governance vote in a simulated day, through the real exchange."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_token_exchange.sim.engine import run_simulation
from agent_token_exchange.sim.scenario import load_scenario


@pytest.fixture(scope="module")
def credit_day():
    """One run of the shipped credit scenario, with doctor checking the ledger at the end."""
    return run_simulation(load_scenario(Path("credit")), seed=1, verify=True)


def test_claude_borrows_when_low_and_the_loan_is_repaid_or_collected(credit_day):
    """claude takes a loan when it runs low; it is repaid early or collected by settle."""
    counts, flows = credit_day.credit["counts"], credit_day.credit["flows"]
    assert counts["offers"] == 2
    assert counts["loans"] >= 1
    assert "borrowed" in flows
    settled = {k: v for k, v in counts.items() if k.startswith("loan ")}
    assert counts.get("repaid early", 0) + sum(settled.values()) >= 1, counts


def test_futures_are_delivered_failed_and_expired(credit_day):
    """The delivered future's seller closed its issue in time; the other missed its
    deadline (collateral to the buyer); nobody accepted the third (price refunded)."""
    counts = credit_day.credit["counts"]
    assert counts["future delivered"] == 1
    assert counts["future failed"] == 1
    assert counts["future expired"] == 1
    assert counts["futures accepted"] == 2


def test_the_vote_raises_the_hourly_limit_mid_day(credit_day):
    """The proposal closes with more yes than no and takes effect after its timelock."""
    vote = credit_day.credit["vote"]
    assert vote["parameter"] == "rate_limits.hourly"
    outcomes = [e["outcome"] for e in vote["events"]]
    assert len(outcomes) >= 2, vote
    assert outcomes[0] == "passed", vote
    assert credit_day.config.limits_for("claude").hourly  # the run's own config, unchanged


def test_the_default_scenario_has_no_credit_section():
    """The seed's calibrated day stays as it was: no credit market in its report."""
    day = run_simulation(load_scenario(None), seed=1, hours=2)
    assert day.credit == {}


def test_simulate_cli_runs_the_shipped_credit_scenario(cli):
    """`simulate --scenario credit --json` reports the credit market's day."""
    result = cli("simulate", "--scenario", "credit", "--seed", "2", "--hours", "10", "--json",
                 with_home=False)
    assert result.code == 0, result.err
    assert result.json["credit"]["vote"]["parameter"] == "rate_limits.hourly"
