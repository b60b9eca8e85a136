"""The governance commands: stake, unstake, propose, vote, proposal list|show, params —
their replies, --json, --idempotency-key and one-line errors."""

from __future__ import annotations

from agent_token_exchange import open_exchange
from tests.ledger_checks import assert_invariants


def test_stake_and_unstake_reply_with_the_figures(cli):
    """stake and unstake say what moved, what is staked and unbonding, and when the
    unstaked tokens come back."""
    staked = cli("stake", "claude", "1000")
    assert staked.code == 0, staked.err
    assert "Staked 1,000.00 for claude" in staked.out
    out = cli("unstake", "claude", "400").out
    assert "Unstaked 400.00" in out and "unbonding 400.00" in out and "returns to the wallet" in out
    data = cli("unstake", "claude", "100", "--json").json
    assert (data["staked"], data["unbonding"], data["action"]) == ("500", "500", "unstake")


def test_propose_vote_list_show_and_params(cli):
    """A proposal made and voted on from the command line shows in proposal list/show,
    and params lists the parameters with their source."""
    cli("stake", "claude", "1000")
    made = cli("propose", "claude", "rate_limits.hourly", "2000", "--reason",
               "longer sessions")
    assert made.code == 0, made.err
    assert "prop-1: rate_limits.hourly = 2000" in made.out
    voted = cli("vote", "claude", "prop-1", "yes")
    assert "claude voted yes on prop-1" in voted.out and "yes 1,000.00" in voted.out
    assert "prop-1" in cli("proposal", "list").out
    shown = cli("proposal", "show", "prop-1")
    assert "Reason: longer sessions" in shown.out and "claude" in shown.out
    listed = cli("proposal", "list", "--json").json["proposals"]
    assert [(p["id"], p["status"], p["yes"]) for p in listed] == [("prop-1", "voting", "1000")]
    assert cli("proposal", "show", "prop-1", "--json").json["votes"][0]["choice"] == "yes"
    table = cli("params").out
    assert "rate_limits.hourly" in table and "config" in table
    found = {p["name"]: p for p in cli("params", "--json").json["parameters"]}
    assert found["start_balance"] == {"name": "start_balance", "value": "10000",
                                      "config_value": "10000", "source": "config",
                                      "changed_at": None}


def test_an_idempotency_key_stakes_once(cli, home, clock):
    """The same --idempotency-key twice stakes once and says so the second time."""
    assert cli("stake", "spark", "300", "--idempotency-key", "s-1").code == 0
    again = cli("stake", "spark", "300", "--idempotency-key", "s-1")
    assert again.code == 0 and "Already done" in again.out
    with open_exchange(home, clock=clock) as ex:
        assert ex.balance("spark").tokens == 9700
        assert_invariants(ex)


def test_mistakes_are_one_line_errors(cli):
    """Bad input and refusals print one line on stderr with the usual exit codes."""
    cases = [
        (("stake", "nobody", "10"), 2, "unknown agent 'nobody'"),
        (("stake", "claude", "-5"), 2, "amount"),
        (("stake", "claude", "9600"), 1, "reserve"),
        (("unstake", "claude", "1"), 1, "has 0.00 staked"),
        (("propose", "zero", "rate_limits.hourly", "2000", "--reason", "r"), 1,
         "proposing needs at least 100"),
        (("propose", "zero", "models.gpt-9.cost_per_1k", "1", "--reason", "r"), 2,
         "unknown model"),
        (("vote", "zero", "prop-7", "yes"), 2, "unknown proposal"),
        (("proposal", "show", "7"), 2, "look like prop-1"),
    ]
    for args, code, message in cases:
        result = cli(*args)
        assert result.code == code, (args, result.err)
        assert message in result.err, (args, result.err)
        assert len(result.err.strip().splitlines()) == 1, result.err
    refused = cli("propose", "zero", "start_balance", "1", "--reason", "r", "--json")
    assert refused.json["ok"] is False and refused.json["error"]["code"] == "not_allowed"
