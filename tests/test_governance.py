"""Staking and governance on a simulated clock, on both stores: stakes and unbonding,
proposals that pass (and change the live limits for every process), miss quorum or are
voted down, the timelock, the proposal threshold, and bad input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent_token_exchange import (
    Exchange,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    RateLimited,
    SimulatedClock,
    open_exchange,
)
from agent_token_exchange.economy.accounts import stake_account, unbonding_account
from agent_token_exchange.service import parameters
from tests.ledger_checks import account, assert_invariants

HOUR = 3600


def staked(ex: Exchange, **stakes: int) -> None:
    for agent, amount in stakes.items():
        ex.stake(agent, amount)


def spend_450(ex: Exchange, agent: str = "zero"):
    """450 tokens of claude-opus (under the 500 burst): three in an hour pass 1000."""
    return ex.llm(agent, "coding", 30_000, "claude-opus")


def test_stake_moves_tokens_to_the_stake_account_and_applies_the_reserve(exchange):
    """Staking moves wallet -> stake:AGENT; a stake that would leave less than the reserve
    is refused and changes nothing."""
    change = exchange.stake("claude", "1500")
    assert (change.amount, change.staked, change.tokens) == (Decimal(1500), Decimal(1500),
                                                              Decimal(8500))
    assert account(exchange, stake_account("claude")).balance == 1500 * 10**6
    assert exchange.balance("claude").market == Decimal(-1500)
    with pytest.raises(InsufficientFunds, match="reserve"):
        exchange.stake("claude", "8100")
    assert exchange.balance("claude").tokens == Decimal(8500)
    assert_invariants(exchange)


def test_unstaked_tokens_come_back_only_after_the_unbonding_period(exchange, clock):
    """Unstake moves stake -> unbonding; settle releases it to the wallet once
    unbonding_hours (24) have passed, not a minute before, and only once."""
    exchange.stake("builder", 1000)
    change = exchange.unstake("builder", 400)
    assert (change.staked, change.unbonding, change.tokens) == (Decimal(600), Decimal(400),
                                                                 Decimal(9000))
    assert change.release_at == clock.now_us() + 24 * HOUR * 10**6
    assert [u.amount for u in exchange.unbondings("builder")] == [Decimal(400)]
    clock.advance(24 * HOUR - 60)
    assert exchange.staking.release_due() == []
    assert exchange.balance("builder").tokens == Decimal(9000)
    assert_invariants(exchange)
    clock.advance(60)
    [item] = exchange.staking.release_due()
    assert (item.area, item.id, item.outcome, item.amount) == ("unbonding", "builder",
                                                               "released", Decimal(400))
    assert exchange.balance("builder").tokens == Decimal(9400)
    assert exchange.staking.release_due() == []
    assert exchange.unbondings() == []
    assert account(exchange, unbonding_account("builder")).balance == 0
    assert_invariants(exchange)


def test_unstaking_more_than_is_staked_is_refused(exchange):
    """An agent cannot unstake more than its stake; nothing moves."""
    exchange.stake("spark", 100)
    with pytest.raises(InsufficientFunds, match="has 100.00 staked"):
        exchange.unstake("spark", "100.000001")
    assert exchange.unbondings() == []
    assert_invariants(exchange)


def test_a_passed_proposal_raises_the_hourly_limit_for_every_process(
        exchange, home: Path, clock: SimulatedClock, monkeypatch):
    """A proposal to raise rate_limits.hourly passes (quorum, more yes than no), waits out
    its timelock (a spend refused before it still is), then takes effect: the spend is
    admitted, and a second exchange on the same database sees the new limit too, whether
    it was opened before the change or after."""
    monkeypatch.setattr(parameters, "RECHECK_SECONDS", 0)
    staked(exchange, claude=1000, builder=500)
    proposal = exchange.propose("claude", "rate_limits.hourly", "2000",
                                reason="agents run longer sessions now")
    assert (proposal.id, proposal.status, proposal.total_stake) == ("prop-1", "voting",
                                                                    Decimal(1500))
    exchange.vote("claude", "prop-1", "yes")
    tally = exchange.vote("builder", "prop-1", "no")
    assert (tally.yes, tally.no, tally.turnout) == (Decimal(1000), Decimal(500), Decimal(1))
    with open_exchange(home, clock=clock) as before:
        clock.advance(23 * HOUR)
        assert exchange.governance.close_due() == []  # the vote is still open
        clock.advance(HOUR + 30 * 60)
        [closed] = exchange.governance.close_due()
        assert (closed.id, closed.outcome) == ("prop-1", "passed")
        spend_450(exchange)
        spend_450(exchange)
        with pytest.raises(RateLimited):
            spend_450(exchange)
        clock.advance(29 * 60)
        assert exchange.governance.close_due() == []  # the timelock: one hour after the vote
        with pytest.raises(RateLimited):
            spend_450(exchange)
        clock.advance(60)
        [enacted] = exchange.governance.close_due()
        assert (enacted.id, enacted.outcome) == ("prop-1", "enacted")
        assert exchange.limits("zero").hourly_limit == Decimal(2000)
        spend_450(exchange)
        assert before.limits("zero").hourly_limit == Decimal(2000)
        spend_450(before)
    with open_exchange(home, clock=clock) as after:
        assert after.limits("zero").hourly_limit == Decimal(2000)
        assert after.proposal_show("prop-1").status == "enacted"
        [hourly] = [p for p in after.parameters() if p.name == "rate_limits.hourly"]
        assert (hourly.value, hourly.config_value, hourly.source) == (
            Decimal(2000), Decimal(1000), "prop-1")
    assert exchange.governance.close_due() == []
    assert_invariants(exchange)


def test_a_process_sees_a_change_within_the_recheck_time(exchange, home, clock):
    """Without forcing a recheck, an exchange opened before a change sees it once
    RECHECK_SECONDS have passed (and the enacting process at once)."""
    staked(exchange, claude=1000)
    with open_exchange(home, clock=clock) as other:
        assert other.limits("zero").burst_limit == Decimal(500)
        exchange.propose("claude", "rate_limits.burst", "600", reason="bigger prompts")
        exchange.vote("claude", "prop-1", "yes")
        clock.advance(25 * HOUR)
        assert [i.outcome for i in exchange.governance.close_due()] == ["passed", "enacted"]
        assert exchange.limits("zero").burst_limit == Decimal(600)
        other._core.parameters._checked -= parameters.RECHECK_SECONDS  # time has passed
        assert other.limits("zero").burst_limit == Decimal(600)


def test_a_per_agent_override_in_config_still_wins(home: Path, clock):
    """An agent with its own hourly limit in config.toml keeps it after a proposal changes
    the default; the others get the new default."""
    config = home / ".exchange" / "config.toml"
    config.write_text(config.read_text() + "\n[agents.zero.rate_limits]\nhourly = 800\n")
    with open_exchange(home, clock=clock) as ex:
        staked(ex, claude=1000)
        ex.propose("claude", "rate_limits.hourly", 3000, reason="more room")
        ex.vote("claude", "prop-1", "yes")
        clock.advance(25 * HOUR)
        ex.governance.close_due()
        assert ex.limits("zero").hourly_limit == Decimal(800)
        assert ex.limits("claude").hourly_limit == Decimal(3000)
        assert_invariants(ex)


def test_a_proposal_short_of_quorum_changes_nothing(exchange, clock):
    """When the stake that voted is under the quorum (20% of all stake at creation), the
    proposal ends no_quorum, however it was voted."""
    staked(exchange, claude=1000, builder=500, spark=5000)
    exchange.propose("claude", "models.claude-opus.cost_per_1k", "10", reason="cheaper")
    exchange.vote("builder", "prop-1", "yes")  # 500 of 6500: 7.7%
    clock.advance(24 * HOUR)
    [closed] = exchange.governance.close_due()
    assert closed.outcome == "no_quorum"
    clock.advance(2 * HOUR)
    assert exchange.governance.close_due() == []
    assert exchange.proposal_show("prop-1").status == "no_quorum"
    assert exchange.llm("zero", "coding", 1000, "claude-opus").amount == Decimal(15)
    assert all(p.source == "config" for p in exchange.parameters())
    assert_invariants(exchange)


def test_a_passed_price_change_prices_the_next_spend(exchange, clock):
    """models.<name>.cost_per_1k, once enacted, is what the next request costs."""
    staked(exchange, claude=1000)
    exchange.propose("claude", "models.claude-opus.cost_per_1k", "10", reason="cheaper")
    exchange.vote("claude", "prop-1", "yes")
    clock.advance(25 * HOUR)
    exchange.governance.close_due()
    assert exchange.llm("zero", "coding", 1000, "claude-opus").amount == Decimal(10)
    assert_invariants(exchange)


def test_more_no_than_yes_rejects_a_proposal(exchange, clock):
    """Quorum met, but more stake voted no than yes: rejected, nothing changes."""
    staked(exchange, claude=1000, builder=1500)
    exchange.propose("claude", "start_balance", "20000", reason="richer start")
    exchange.vote("claude", "prop-1", "yes")
    exchange.vote("builder", "prop-1", "no")
    clock.advance(26 * HOUR)
    assert [i.outcome for i in exchange.governance.close_due()] == ["rejected"]
    assert exchange.config.start_balance == Decimal(10000)
    assert_invariants(exchange)


def test_voting_power_is_the_stake_when_the_proposal_was_made(exchange, clock):
    """Stake added after a proposal gives no vote on it; stake removed after it still
    counts; voting again replaces the vote."""
    staked(exchange, claude=1000, builder=300)
    exchange.propose("claude", "contracts.default.multiplier", "1.2", reason="pay more")
    exchange.unstake("builder", 300)
    exchange.stake("lambda", 5000)
    with pytest.raises(NotAllowed, match="had nothing staked"):
        exchange.vote("lambda", "prop-1", "no")
    exchange.vote("builder", "prop-1", "no")
    shown = exchange.vote("builder", "prop-1", "yes")
    assert [(v.agent, v.choice, v.power) for v in shown.votes] == [
        ("builder", "yes", Decimal(300))]
    assert (shown.yes, shown.no, shown.total_stake) == (Decimal(300), 0, Decimal(1300))
    clock.advance(24 * HOUR)
    with pytest.raises(NotAllowed, match="vote ended"):
        exchange.vote("claude", "prop-1", "yes")
    assert exchange.governance.close_due()[0].outcome == "passed"  # 300 of 1300 is 23%
    clock.advance(HOUR)
    exchange.governance.close_due()
    assert exchange.config.contracts[-1].multiplier == Decimal("1.2")
    assert_invariants(exchange)


def test_proposing_needs_the_threshold_staked(exchange):
    """An agent with less than proposal_threshold (100) staked may not propose."""
    with pytest.raises(NotAllowed, match="proposing needs at least 100"):
        exchange.propose("zero", "rate_limits.daily", 20000, reason="more")
    exchange.stake("zero", "99.999999")
    with pytest.raises(NotAllowed, match="99.999999 staked"):
        exchange.propose("zero", "rate_limits.daily", 20000, reason="more")
    exchange.stake("zero", "0.000001")
    assert exchange.propose("zero", "rate_limits.daily", 20000, reason="more").id == "prop-1"
    assert_invariants(exchange)


@pytest.mark.parametrize(("parameter", "value", "message"), [
    ("models.gpt-9.cost_per_1k", "1", "unknown model 'gpt-9'"),
    ("contracts.nope.multiplier", "1", "unknown contract 'nope'"),
    ("issues.priority_rewards.P9", "1", "unknown priority reward 'P9'"),
    ("agents.zero.level", "9", "may not be proposed"),
    ("rate_limits.hourly", "0", "greater than 0"),
    ("rate_limits.reserve", "-5", "greater than or equal to 0"),
    ("contracts.default.multiplier", "1001", "less than or equal to 1000"),
    ("start_balance", "1.0000001", "6 decimal places"),
    ("start_balance", "lots", "is not a number"),
    ("start_balance", "NaN", "finite"),
])
def test_bad_proposals_are_one_line_invalid_input(exchange, parameter, value, message):
    """An unknown parameter or a value config.toml would refuse is InvalidInput, one line."""
    exchange.stake("claude", 1000)
    with pytest.raises(InvalidInput, match=message) as caught:
        exchange.propose("claude", parameter, value, reason="why not")
    assert "\n" not in str(caught.value)
    assert exchange.proposals() == []


def test_bad_votes_are_refused(exchange):
    """A malformed or unknown proposal id, or a choice other than yes/no/abstain, is bad
    input."""
    exchange.stake("claude", 1000)
    exchange.propose("claude", "rate_limits.burst", 600, reason="r")
    with pytest.raises(InvalidInput, match="look like prop-1"):
        exchange.vote("claude", "1", "yes")
    with pytest.raises(InvalidInput, match="unknown proposal 'prop-2'"):
        exchange.vote("claude", "prop-2", "yes")
    with pytest.raises(InvalidInput, match="yes, no or abstain"):
        exchange.vote("claude", "prop-1", "maybe")
    assert exchange.vote("claude", "prop-1", "Abstain").abstain == Decimal(1000)


def test_parameters_list_every_allowed_parameter_with_its_source(exchange):
    """parameters() names each parameter a proposal may change, its value and 'config'."""
    found = {p.name: p for p in exchange.parameters()}
    assert found["rate_limits.reserve"].value == Decimal(500)
    assert found["models.llama3.2.cost_per_1k"].value == Decimal("0.1")
    assert found["issues.type_multipliers.security"].value == Decimal(2)
    assert found["issues.priority_rewards.P1"].source == "config"
    assert "start_balance" in found


def test_doctor_finds_a_stake_account_that_disagrees_with_its_records(exchange):
    """If the stakes table and stake:AGENT part ways, doctor reports an error."""
    exchange.stake("claude", 1000)
    exchange.unstake("claude", 100)
    assert exchange.doctor().healthy
    exchange.store.execute("UPDATE stakes SET staked = staked + 1 WHERE agent = 'claude'")
    report = exchange.doctor()
    assert not report.healthy
    assert any(f.check == "stakes" and "stake:claude" in f.message for f in report.errors)


def test_a_replayed_stake_moves_nothing_twice(exchange):
    """The same idempotency key stakes once; the replay is marked."""
    first = exchange.stake("observer", 200, idempotency_key="stake-1")
    again = exchange.stake("observer", 200, idempotency_key="stake-1")
    assert again.replayed and again.seq == first.seq
    assert exchange.balance("observer").tokens == Decimal(9800)


def test_the_settle_steps_take_a_core_and_report_what_fell_due(exchange, clock):
    """settle_unbondings and settle_proposals, the steps service/settle.py runs, each
    take the exchange's core and return what they settled; nothing when nothing is due."""
    from agent_token_exchange.service.governance import settle_proposals
    from agent_token_exchange.service.staking import settle_unbondings

    core = exchange._core
    assert settle_unbondings(core) == [] and settle_proposals(core) == []
    staked(exchange, claude=1000)
    exchange.unstake("claude", 1)
    exchange.propose("claude", "rate_limits.burst", 501, reason="r")
    clock.advance(25 * HOUR)
    assert [i.outcome for i in settle_unbondings(core)] == ["released"]
    assert [i.outcome for i in settle_proposals(core)] == ["no_quorum"]
    assert settle_unbondings(core) == [] and settle_proposals(core) == []


def test_both_exchanges_offer_the_governance_protocol_with_its_signatures():
    """Exchange and ExchangeClient have each GovernanceAPI method with the very signature
    it declares (the pinned ExchangeAPI check sees only ExchangeAPI's own members)."""
    import inspect

    from agent_token_exchange.client.http import ExchangeClient
    from agent_token_exchange.governance_api import GovernanceAPI

    names = [n for n in vars(GovernanceAPI) if not n.startswith("_")]
    assert {"stake", "unstake", "propose", "vote", "proposals", "parameters"} <= set(names)
    for name in names:
        declared = inspect.signature(inspect.getattr_static(GovernanceAPI, name))
        for implementation in (Exchange, ExchangeClient):
            actual = inspect.signature(inspect.getattr_static(implementation, name))
            assert str(actual) == str(declared), f"{implementation.__name__}.{name}"


def test_concurrent_settles_enact_a_proposal_once(exchange, home, clock):
    """Four exchanges settling at the same moment close and enact a proposal exactly once
    between them, and release an unbonding once."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    staked(exchange, claude=1000)
    exchange.unstake("claude", 100)
    exchange.propose("claude", "rate_limits.daily", 12000, reason="r")
    exchange.vote("claude", "prop-1", "yes")
    clock.advance(25 * HOUR)
    others = [open_exchange(home, clock=clock) for _ in range(4)]
    barrier = Barrier(len(others))

    def settle(ex: Exchange) -> list:
        barrier.wait()
        return ex.staking.release_due() + ex.governance.close_due()

    try:
        with ThreadPoolExecutor(len(others)) as pool:
            items = [i for found in pool.map(settle, others) for i in found]
    finally:
        for ex in others:
            ex.close()
    assert sorted((i.id, i.outcome) for i in items) == [
        ("claude", "released"), ("prop-1", "enacted"), ("prop-1", "passed")]
    assert [p.source for p in exchange.parameters() if p.name == "rate_limits.daily"] == [
        "prop-1"]
    assert_invariants(exchange)


def test_the_hooks_light_config_takes_enacted_changes(exchange, home, clock):
    """The post-commit hook opens on the validated config's light copy (no pydantic): an
    enacted change of a contract's multiplier reaches it too, so hook-paid commits are
    priced as everywhere else."""
    from agent_token_exchange.economy.config_cache import LightModel, load_fast
    from agent_token_exchange.service.parameters import EffectiveConfig

    staked(exchange, claude=1000)
    exchange.propose("claude", "contracts.scheme.multiplier", "2.5", reason="r")
    exchange.propose("claude", "rate_limits.hourly", "1500", reason="r")
    for proposal in ("prop-1", "prop-2"):
        exchange.vote("claude", proposal, "yes")
    clock.advance(25 * HOUR)
    exchange.governance.close_due()
    light = load_fast(home / ".exchange" / "config.toml")
    assert isinstance(light, LightModel)
    effective = EffectiveConfig(exchange.store, light).current()
    assert isinstance(effective, LightModel)
    assert [c.multiplier for c in effective.contracts if c.name == "scheme"] == [
        Decimal("2.5")]
    assert effective.limits_for("zero").hourly == 1500 * 10**6
    assert light.limits_for("zero").hourly == 1000 * 10**6  # the base is left as it was
