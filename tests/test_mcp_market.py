"""The credit market's MCP tools, driven by the official ``mcp`` client over stdio as
test_mcp.py drives the others: the agent borrows and repays, sells a future, stakes and
votes, reads the parameters; refusals come back as tool errors and change nothing."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from agent_token_exchange import SimulatedClock, open_exchange
from agent_token_exchange.server.app import create_app

from .ledger_checks import assert_invariants, snapshot
from .standin_provider import ServerThread
from .test_mcp import run_tools

MARKET_TOOLS = {"loan_offers", "loan_take", "loan_repay", "my_loans", "credit", "futures",
                "future_accept", "stake", "unstake", "proposals", "vote", "parameters"}
HOUR = 3600


def test_the_agent_borrows_repays_sells_a_future_stakes_and_votes(home: Path, tmp_path: Path):
    """`mcp --agent zero` lists the offers it could take (not its own), takes builder's,
    repays it in full, accepts builder's future, stakes and unstakes, lists the
    parameters, then votes yes on a proposal with its stake; each answer is the record's
    JSON and the ledger stays conserved and healthy."""
    with open_exchange(home) as ex:
        ex.loan_offer("builder", 300, rate_per_day=0, term_hours=48)
        ex.loan_offer("zero", 2000, rate_per_day="1%", term_hours=24)
        future = ex.future_open("builder", "manual", price=40, collateral=10,
                                deadline_hours=24)
    names, answers = run_tools(["--agent", "zero", "--home", str(home)], [
        ("loan_offers", {}),
        ("loan_take", {"offer_id": "offer-1"}),
        ("my_loans", {}),
        ("credit", {}),
        ("loan_repay", {"loan_id": "loan-1"}),
        ("futures", {}),
        ("future_accept", {"future_id": future.id}),
        ("stake", {"amount": "200"}),
        ("unstake", {"amount": "50"}),
        ("parameters", {}),
    ], cwd=tmp_path)
    assert names >= MARKET_TOOLS
    offers, loan, mine, credit, repaid, board, accepted, staked, unstaked, params = answers
    assert [(o["id"], o["lender"], o["amount"]) for o in offers["offers"]] == [
        ("offer-1", "builder", "300")]
    assert (loan["id"], loan["borrower"], loan["lender"], loan["principal"],
            loan["status"]) == ("loan-1", "zero", "builder", "300", "open")
    assert [x["id"] for x in mine["loans"]] == ["loan-1"]
    assert [(o["id"], o["status"]) for o in mine["offers"]] == [("offer-2", "open")]
    assert (credit["agent"], credit["loans_taken"], credit["owed"]) == ("zero", 1, "300")
    assert (repaid["amount"], repaid["principal"], repaid["owed"], repaid["status"]) == (
        "300", "300", "0", "repaid")
    assert [(f["id"], f["status"]) for f in board["futures"]] == [(future.id, "open")]
    assert (accepted["status"], accepted["seller"], accepted["escrow"]) == (
        "accepted", "zero", "10")
    assert (staked["action"], staked["staked"]) == ("stake", "200")
    assert (unstaked["staked"], unstaked["unbonding"]) == ("150", "50")
    hourly = next(p for p in params["parameters"] if p["name"] == "rate_limits.hourly")
    assert hourly["source"] == "config"

    with open_exchange(home) as ex:
        ex.stake("claude", 200)
        ex.propose("claude", "rate_limits.hourly", "2000", reason="more room")
    _, (listed, voted) = run_tools(["--agent", "zero", "--home", str(home)], [
        ("proposals", {}),
        ("vote", {"proposal_id": "prop-1", "choice": "yes"}),
    ], cwd=tmp_path)
    assert [(p["id"], p["status"]) for p in listed["proposals"]] == [("prop-1", "voting")]
    assert voted["yes"] == "150"  # zero's stake when the proposal was made
    assert [(v["agent"], v["choice"]) for v in voted["votes"]] == [("zero", "yes")]
    with open_exchange(home) as ex:
        # 10,000 - 2,000 offered + 300 borrowed - 300 repaid + 40 price - 10 collateral - 200
        assert ex.balance("zero").tokens == Decimal(7830)
        assert ex.loan_show("loan-1").status == "repaid"
        assert ex.future_show(future.id).seller == "zero"
        assert ex.doctor().healthy
        assert_invariants(ex)


def test_refused_market_calls_are_tool_errors_that_change_nothing(home: Path, tmp_path: Path):
    """An agent with a default sees no offer that refuses it; taking that offer anyway,
    repaying more than it owes and unstaking what it never staked come back as tool errors
    with the exchange's message, and no account moves."""
    past = SimulatedClock(time.time_ns() // 1000 - 48 * HOUR * 1_000_000)
    with open_exchange(home, clock=past) as ex:
        ex.loan_offer("builder", 100, rate_per_day="1%", term_hours=1)
        ex.loan_take("offer-1", "zero")
        ex.loan_offer("zero", 9600, rate_per_day=0, term_hours=1)  # zero keeps its reserve
        past.advance(HOUR)
        assert [i.outcome for i in ex.lending.settle_due()] == ["defaulted"]
        ex.loan_cancel("offer-2")
        strict = ex.loan_offer("lambda", 50, rate_per_day="1%", term_hours=1, max_defaults=0)
        lenient = ex.loan_offer("lambda", 60, rate_per_day="1%", term_hours=1,
                                max_defaults=1)
        before = snapshot(ex)
    _, answers = run_tools(["--agent", "zero", "--home", str(home)], [
        ("loan_offers", {}),
        ("loan_take", {"offer_id": strict.id}),
        ("loan_repay", {"loan_id": "loan-1", "amount": "5000"}),
        ("unstake", {"amount": "1"}),
        ("credit", {}),
    ], cwd=tmp_path)
    offers, take, repay, unstake, credit = answers
    assert [o["id"] for o in offers["offers"]] == [lenient.id]
    assert take[0] == "error" and "at most 0 default" in take[1]
    assert repay[0] == "error" and "would overpay" in repay[1]
    assert unstake[0] == "error" and "staked" in unstake[1]
    assert (credit["loans_defaulted"], credit["in_default"] != "0") == (1, True)
    with open_exchange(home) as ex:
        assert snapshot(ex) == before
        assert ex.loan_offer_show(strict.id).status == "open"
        assert ex.loan_show("loan-1").status == "defaulted"
        assert ex.doctor().healthy
        assert_invariants(ex)


def test_market_tools_act_as_the_api_keys_agent_over_http(home: Path, clock, tmp_path: Path):
    """Over `--server URL --api-key KEY` the market tools act as the key's agent: spark
    sees builder's offer, takes it and its credit record shows the loan."""
    with open_exchange(home, clock=clock) as ex:
        key = ex.keys.create(agent="spark").key
        ex.loan_offer("builder", 120, rate_per_day=0, term_hours=24)
    with ServerThread(create_app(home, clock=clock)) as server:
        _, answers = run_tools(["--server", server.url, "--api-key", key], [
            ("loan_offers", {}),
            ("loan_take", {"offer_id": "offer-1"}),
            ("credit", {}),
            ("loan_take", {"offer_id": "offer-1"}),
        ], cwd=tmp_path)
    offers, loan, credit, again = answers
    assert [o["id"] for o in offers["offers"]] == ["offer-1"]
    assert (loan["borrower"], loan["principal"]) == ("spark", "120")
    assert (credit["agent"], credit["loans_taken"], credit["owed"]) == ("spark", 1, "120")
    assert again[0] == "error" and "taken" in again[1]
    with open_exchange(home, clock=clock) as ex:
        assert ex.balance("spark").tokens == Decimal(10120)
