"""The shipped credit scenario (`simulate --scenario credit`): loans, futures on beads
issues and a governance vote in a simulated day, through the real exchange."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent_token_exchange.clock import iso_utc
from agent_token_exchange.sim.engine import run_simulation
from agent_token_exchange.sim.scenario import load_scenario


@pytest.fixture(scope="module")
def credit_day():
    """One run of the shipped credit scenario, with doctor checking the ledger at the end."""
    return run_simulation(load_scenario(Path("credit")), seed=1, verify=True)


def test_claude_borrows_when_low_and_the_loan_is_repaid_or_collected(credit_day):
    """claude takes a loan when it runs low; it is repaid early or collected by settle."""
    counts, flows = credit_day.credit["counts"], credit_day.credit["flows"]
    assert counts["offers posted"] == 2
    assert counts["loans taken"] == 2
    assert flows["borrowed"] == "2200"
    # One repaid early once claude had earned enough; settle collected the other when due.
    assert counts["repaid early"] == 1 and counts["loan repaid"] == 1, counts
    # Interest on top of the principal, never less.
    repaid = Decimal(flows["repaid"]) + Decimal(flows["loan repaid"])
    assert Decimal(2200) < repaid < Decimal(2210), flows


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
    assert [e["outcome"] for e in vote["events"]] == ["passed", "enacted"], vote
    assert vote["outcome"] == "enacted"
    # claude's hourly refusals before the change name 1000, after it 1500.
    hourly = [e for e in credit_day.rate_limit_events if e.kind == "hourly"]
    enacted = vote["events"][1]["time"]
    before = [e.message for e in hourly if iso_utc(e.at) < enacted]
    after = [e.message for e in hourly if iso_utc(e.at) > enacted]
    assert before and all("/1000 used" in m for m in before), before
    assert after and all("/1500 used" in m for m in after), after


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
