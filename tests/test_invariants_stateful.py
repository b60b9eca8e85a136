"""Random operations against a small reference model; every DESIGN.md invariant is checked
after every step, and a refused operation must change nothing.

The model computes costs, rewards, windows and pool shares on its own (Fractions and the
seed's numbers), so it does not share code with the implementation it checks.
"""

from __future__ import annotations

import shutil
import tempfile
from fractions import Fraction
from math import ceil, floor

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agent_token_exchange import (
    Conflict,
    ExchangeError,
    Refused,
    SimulatedClock,
    init_exchange,
    open_exchange,
)
from agent_token_exchange.money import tokens
from agent_token_exchange.service.futures import settle_futures

from .ledger_checks import account, assert_invariants, consumption, snapshot

T = 1_000_000
HOUR, DAY = 3600 * T, 86400 * T  # in micro-seconds, same scale as the clock
AGENTS = ["claude", "builder", "zero"]
BASE = {"claude": 150, "builder": 120, "zero": 90}
PRICE = {"claude-opus": Fraction(15), "claude-sonnet": Fraction(3), "llama3.2": Fraction(1, 10)}
PROJECTS = {"nexushive-setup": ("nexushive-setup", Fraction(2)), "scheme-lab": ("scheme",
            Fraction(9, 5)), "misc": ("default", Fraction(1))}
BUDGET = {"nexushive-setup": 50_000 * T, "scheme": 40_000 * T, "default": 10_000 * T}
MESSAGES = {"hotfix: critical patch": Fraction(2), "fix: bug": Fraction(3, 2),
            "test: coverage": Fraction(13, 10), "add feature": Fraction(1)}
LIMITS = {"hourly": 1000 * T, "daily": 10_000 * T, "burst": 500 * T, "reserve": 500 * T}
STEPS_SECONDS = [1, 59, 1799, 3599, 3600, 3601, 7200, 86_399, 86_401]
# Inference token counts near the edges: opus 30,000 = 450; 33,333 = 499.995 (rounds to
# 500.00); 33,334 = 500.01 (over the burst); 13,000 = 195; plus anything.
COUNTS = st.one_of(st.sampled_from([1, 5, 13_000, 30_000, 33_333, 33_334, 40_000]),
                   st.integers(1, 40_000))
# Pool spends whose draws reach a member's burst (500) and hourly (1,000) limits: on
# claude-opus 10,000-80,000 tokens cost 150-1,200.
POOL_COUNTS = st.integers(10_000, 80_000)
# Contributions near the reserve: a wallet of 10,000 keeps 500 back.
CONTRIBUTIONS = st.one_of(st.sampled_from([1, 100, 2_000, 4_500, 9_499, 9_500, 9_501]),
                          st.integers(1, 10_000))


def half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


class ExchangeMachine(RuleBasedStateMachine):
    # How many times the invariants were checked (once after set-up, then after every
    # step), across all runs: the soak reports steps from it.
    checks = 0
    runs = 0

    def __init__(self) -> None:
        super().__init__()
        ExchangeMachine.runs += 1
        self.dir = tempfile.mkdtemp(prefix="atx-stateful-")
        self.clock = SimulatedClock()
        init_exchange(self.dir, clock=self.clock)
        self.ex = open_exchange(self.dir, clock=self.clock, durable=False)
        self.wallet = {a: 10_000 * T for a in AGENTS}
        self.consumed: dict[str, list[tuple[int, int]]] = {a: [] for a in AGENTS}
        self.budget = dict(BUDGET)
        self.shas: dict[str, tuple] = {}
        self.keys: dict[str, tuple] = {}  # client key -> (request, outcome)
        self.pools: list[dict] = []

    def teardown(self) -> None:
        self.ex.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------

    def expect(self, outcome, call):
        """Run ``call``; the model's ``outcome`` is an amount or a refusal code."""
        before = snapshot(self.ex)
        try:
            result = call()
        except Refused as refusal:
            assert outcome == ("refused", refusal.code), (outcome, refusal.code, refusal.message)
            assert snapshot(self.ex) == before, "a refused operation changed a balance"
            return None
        assert outcome[0] == "ok", (outcome, result)
        return result

    def consumption_decision(self, agent: str, cost: int):
        now = self.clock.now_us()
        rows = self.consumed[agent]
        at = max([now] + [t for t, _ in rows])
        hourly = sum(a for t, a in rows if t > at - HOUR)
        daily = sum(a for t, a in rows if t > at - DAY)
        if cost > LIMITS["burst"]:
            return ("refused", "burst_limit"), at
        if cost > self.wallet[agent]:
            return ("refused", "insufficient_funds"), at
        if self.wallet[agent] - cost < LIMITS["reserve"]:
            return ("refused", "reserve"), at
        if hourly + cost > LIMITS["hourly"]:
            return ("refused", "hourly_limit"), at
        if daily + cost > LIMITS["daily"]:
            return ("refused", "daily_limit"), at
        return ("ok",), at

    # -- rules ------------------------------------------------------------------------------

    @rule(agent=st.sampled_from(AGENTS), whole=st.integers(1, 3000),
          micro=st.integers(0, 999_999))
    def award(self, agent, whole, micro):
        """An award of any whole-and-micro amount is paid in full into the wallet."""
        amount = whole * T + micro
        text = f"{whole}.{str(micro).rjust(6, '0')}"
        self.expect(("ok",), lambda: self.ex.award(agent, text, "test", "work"))
        self.wallet[agent] += amount

    @rule(agent=st.sampled_from(AGENTS), project=st.sampled_from(sorted(PROJECTS)),
          message=st.sampled_from(sorted(MESSAGES)),
          sha=st.one_of(st.none(), st.sampled_from(
              [h * 10 for h in ("a1a1", "b2b2", "c3c3", "d4d4")])))  # full 40-hex ids
    def commit(self, agent, project, message, sha):
        """A commit pays its reward capped by the contract budget, once per SHA, and a SHA reused
        for another request conflicts."""
        contract, multiplier = PROJECTS[project]
        reward = half_up(BASE[agent] * T * multiplier * MESSAGES[message])
        request = (agent, project, message)
        if sha is not None and sha in self.shas:
            if self.shas[sha] != request:
                try:
                    self.ex.commit(f"{agent}@team.io", project, message, sha=sha)
                except Conflict:
                    return
                raise AssertionError("a reused SHA with another request must conflict")
            before = snapshot(self.ex)
            self.ex.commit(f"{agent}@team.io", project, message, sha=sha)
            assert snapshot(self.ex) == before, "a replayed SHA paid twice"
            return
        paid = min(reward, self.budget[contract])
        outcome = ("ok",) if paid > 0 else ("refused", "budget_exhausted")
        result = self.expect(outcome, lambda: self.ex.commit(f"{agent}@team.io", project,
                                                             message, sha=sha))
        if sha is not None:
            self.shas[sha] = request
        if result is not None:
            assert result.amount == tokens(paid)
            self.wallet[agent] += paid
            self.budget[contract] -= paid

    @rule(agent=st.sampled_from(AGENTS), model=st.sampled_from(sorted(PRICE)), count=COUNTS,
          key=st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"])))
    def llm(self, agent, model, count, key):
        """A spend is charged or refused exactly as the model's limits, reserve and funds decide,
        and a reused key replays or conflicts."""
        cost = half_up(count * PRICE[model] * T / 1000)
        request = (agent, model, count)
        if key is not None and key in self.keys:
            first_request, first_outcome = self.keys[key]
            before = snapshot(self.ex)
            if first_request != request:
                try:
                    self.ex.llm(agent, "work", count, model, idempotency_key=key)
                except Conflict:
                    return
                raise AssertionError("a reused key with another request must conflict")
            self.expect(first_outcome, lambda: self.ex.llm(agent, "work", count, model,
                                                           idempotency_key=key))
            assert snapshot(self.ex) == before, "a replayed key was applied twice"
            return
        outcome, at = self.consumption_decision(agent, cost)
        result = self.expect(outcome, lambda: self.ex.llm(agent, "work", count, model,
                                                          idempotency_key=key))
        if key is not None:
            self.keys[key] = (request, outcome)
        if result is not None:
            assert result.amount == tokens(cost)
            self.wallet[agent] -= cost
            self.consumed[agent].append((at, cost))

    @rule(agent=st.sampled_from(AGENTS), model=st.sampled_from(sorted(PRICE)), count=COUNTS,
          times=st.integers(2, 8), gap=st.sampled_from([0, 60, 600]))
    def llm_series(self, agent, model, count, times, gap):
        """Several spends in a row, so windows fill up and limits are reached."""
        for _ in range(times):
            self.llm(agent, model, count, None)
            self.clock.advance(gap)

    # -- pools: consent, stakes, pro-rata draws within each member's limits ---------------

    def _pool(self, index: int) -> dict:
        return self.pools[len(self.pools) - 1 - index % len(self.pools)]  # favour the newest

    @precondition(lambda self: len([p for p in self.pools if p["alive"]]) < 2)
    @rule(creator=st.sampled_from(AGENTS), minimum=st.sampled_from([1, 100, 300]),
          is_open=st.booleans())
    def pool_create(self, creator, minimum, is_open):
        """Creating a pool numbers it after the pools before it; its creator is its first
        member, with no stake."""
        view = self.expect(("ok",), lambda: self.ex.pool_create("team", creator, minimum,
                                                                open=is_open))
        assert view.id == f"pool-{len(self.pools) + 1}" and view.open is is_open
        self.pools.append({"id": view.id, "creator": creator, "open": is_open,
                           "alive": True, "stakes": {creator: 0}, "invited": set(),
                           "min": minimum * T})

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), agent=st.sampled_from(AGENTS),
          by=st.one_of(st.none(), st.sampled_from(AGENTS)))
    def pool_invite(self, index, agent, by):
        """Only the creator invites (by default the creator acts); inviting a member changes
        nothing, and a dissolved pool invites no one."""
        pool = self._pool(index)
        if not pool["alive"] or (by is not None and by != pool["creator"]):
            outcome = ("refused", "not_allowed")
        else:
            outcome = ("ok",)
        invited = self.expect(outcome, lambda: self.ex.pool_invite(pool["id"], agent, by=by))
        if invited is not None and agent not in pool["stakes"]:
            pool["invited"].add(agent)

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), agent=st.sampled_from(AGENTS))
    def pool_join(self, index, agent):
        """An agent joins an open pool or one it was invited to (using the invitation);
        otherwise, or once dissolved, it is refused; a member joining again changes
        nothing."""
        pool = self._pool(index)
        member = agent in pool["stakes"]
        if not pool["alive"] or not (member or pool["open"] or agent in pool["invited"]):
            outcome = ("refused", "not_allowed")
        else:
            outcome = ("ok",)
        if self.expect(outcome, lambda: self.ex.pool_join(pool["id"], agent)) is not None:
            pool["stakes"].setdefault(agent, 0)
            pool["invited"].discard(agent)

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), member=st.booleans(), data=st.data(), amount=CONTRIBUTIONS)
    def pool_contribute(self, index, member, data, amount):
        """Mostly members (drawn from the pool), sometimes anyone."""
        pool = self._pool(index)
        choices = sorted(pool["stakes"]) if member else AGENTS
        self._contribute(pool, data.draw(st.sampled_from(choices)), amount)

    @precondition(lambda self: self.pools)
    @rule(pair=st.permutations(AGENTS), amounts=st.tuples(CONTRIBUTIONS, CONTRIBUTIONS))
    def fund_newest_pool_together(self, pair, amounts):
        """The newest pool's creator invites two agents, who join and contribute, so pool
        spends can happen."""
        for agent, amount in zip(pair[:2], amounts, strict=True):
            self.pool_invite(0, agent, None)
            self.pool_join(0, agent)
            self._contribute(self.pools[-1], agent, amount)

    @rule(creator=st.sampled_from(AGENTS), is_open=st.booleans(),
          amounts=st.tuples(CONTRIBUTIONS, CONTRIBUTIONS, CONTRIBUTIONS),
          spends=st.lists(st.tuples(POOL_COUNTS, st.one_of(st.none(), st.sampled_from(AGENTS)),
                                    st.sampled_from([0, 60, 600, 3600])), min_size=1,
                          max_size=6))
    def team_pool_at_work(self, creator, is_open, amounts, spends):
        """A team pool in use: the newest open pool (or a new one) gets every agent in and
        contributing, then spends on claude-opus by several members with time between, so
        draws meet members' burst and hourly limits."""
        if not any(p["alive"] for p in self.pools):
            self.pool_create(creator, 100, is_open)
        pool = next(p for p in reversed(self.pools) if p["alive"])
        index = len(self.pools) - 1 - self.pools.index(pool)
        for agent, amount in zip(AGENTS, amounts, strict=True):
            self.pool_invite(index, agent, None)
            self.pool_join(index, agent)
            self._contribute(pool, agent, amount)
        for count, actor, gap in spends:
            self.pool_spend(index, "claude-opus", count, actor)
            self.clock.advance(gap)

    def _contribute(self, pool, agent, amount):
        micro = amount * T
        if not pool["alive"] or agent not in pool["stakes"] or micro < pool["min"]:
            outcome = ("refused", "not_allowed")
        elif micro > self.wallet[agent]:
            outcome = ("refused", "insufficient_funds")
        elif self.wallet[agent] - micro < LIMITS["reserve"]:
            outcome = ("refused", "reserve")
        else:
            outcome = ("ok",)
        if self.expect(outcome, lambda: self.ex.pool_contribute(pool["id"], agent, amount)):
            self.wallet[agent] -= micro
            pool["stakes"][agent] += micro

    def _draws(self, cost: int, stakes: dict[str, int]) -> dict[str, int]:
        """The cost split over the stakes by largest remainder, in exact fractions."""
        total = sum(stakes.values())
        exact = {a: Fraction(cost * s, total) for a, s in stakes.items() if s > 0}
        draws = {a: floor(x) for a, x in exact.items()}
        by_remainder = sorted(exact, key=lambda a: (-(exact[a] - draws[a]), -stakes[a], a))
        for agent in by_remainder[:cost - sum(draws.values())]:
            draws[agent] += 1
        return draws

    def _window_used(self, agent: str, at: int) -> tuple[int, int]:
        rows = self.consumed[agent]
        return (sum(a for t, a in rows if t > at - HOUR), sum(a for t, a in rows if t > at - DAY))

    def _spend_decision(self, pool, actor, cost):
        """(outcome, draws, at): the pool rules in the service's order, then each draw
        against its member's burst, hourly and daily limits, members by name."""
        stakes = pool["stakes"]
        if not pool["alive"] or stakes.get(actor, 0) <= 0:
            return ("refused", "not_allowed"), {}, 0
        if sum(1 for s in stakes.values() if s >= pool["min"]) < 2:
            return ("refused", "not_allowed"), {}, 0
        if cost > sum(stakes.values()):
            return ("refused", "insufficient_funds"), {}, 0
        draws = self._draws(cost, stakes)
        drawing = sorted(a for a, d in draws.items() if d > 0)
        at = max([self.clock.now_us()] + [t for a in drawing for t, _ in self.consumed[a]])
        for agent in drawing:
            hourly, daily = self._window_used(agent, at)
            if draws[agent] > LIMITS["burst"]:
                return ("refused", "burst_limit"), draws, at
            if hourly + draws[agent] > LIMITS["hourly"]:
                return ("refused", "hourly_limit"), draws, at
            if daily + draws[agent] > LIMITS["daily"]:
                return ("refused", "daily_limit"), draws, at
        return ("ok",), draws, at

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), model=st.sampled_from(sorted(PRICE)),
          count=st.one_of(COUNTS, st.integers(1, 1_000_000), POOL_COUNTS),
          actor=st.one_of(st.none(), st.sampled_from(AGENTS)))
    def pool_spend(self, index, model, count, actor):
        """A member with a stake spends while two members stake the minimum; the cost is
        drawn from the stakes by largest remainder, and each draw must fit its member's
        own limits (else the whole spend is refused and nothing moves)."""
        pool = self._pool(index)
        cost = half_up(count * PRICE[model] * T / 1000)
        acting = actor or pool["creator"]
        outcome, draws, at = self._spend_decision(pool, acting, cost)
        event(f"pool_spend: {outcome[-1]}")
        result = self.expect(outcome, lambda: self.ex.pool_spend(pool["id"], model, count,
                                                                  "x", agent=actor))
        if result is None:
            return
        assert {c.agent: c.credited for c in result.credits if c.credited} == {
            a: tokens(d) for a, d in draws.items() if d}
        assert result.amount == tokens(cost)
        for agent, drawn in draws.items():
            pool["stakes"][agent] -= drawn
            if drawn:
                self.consumed[agent].append((at, drawn))

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), agent=st.sampled_from(AGENTS))
    def pool_leave(self, index, agent):
        """A member other than the creator leaves with exactly its stake; anyone else, or
        any leaving of a dissolved pool, is refused."""
        pool = self._pool(index)
        if not pool["alive"] or agent not in pool["stakes"] or agent == pool["creator"]:
            outcome = ("refused", "not_allowed")
        else:
            outcome = ("ok",)
        event(f"pool_leave: {outcome[-1]}")
        result = self.expect(outcome, lambda: self.ex.pool_leave(pool["id"], agent))
        if result is not None:
            stake = pool["stakes"].pop(agent)
            assert result.amount == tokens(stake)
            self.wallet[agent] += stake

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), really=st.integers(0, 3),
          actor=st.one_of(st.none(), st.sampled_from(AGENTS)))
    def pool_dissolve(self, index, really, actor):
        """Only the creator dissolves (by default the creator acts); every member gets its
        stake back exactly, and a second dissolve is refused."""
        if really:  # dissolve one time in four, so pools live long enough to be used
            return
        pool = self.pools[index % len(self.pools)]
        if not pool["alive"] or (actor is not None and actor != pool["creator"]):
            outcome = ("refused", "not_allowed")
        else:
            outcome = ("ok",)
        event(f"pool_dissolve: {outcome[-1]}")
        result = self.expect(outcome, lambda: self.ex.pool_dissolve(pool["id"], agent=actor))
        if result is None:
            return
        assert {r.agent: r.amount for r in result.refunds} == {
            a: tokens(s) for a, s in pool["stakes"].items() if s}
        for agent, stake in pool["stakes"].items():
            self.wallet[agent] += stake
            pool["stakes"][agent] = 0
        pool["alive"] = False
        pool["invited"].clear()

    @rule(seconds=st.sampled_from(STEPS_SECONDS))
    def advance_clock(self, seconds):
        """Time passes, so rate-limit windows slide."""
        self.clock.advance(seconds)

    @rule(agent=st.sampled_from(AGENTS), text=st.sampled_from(
        ["-1", "NaN", "1e309", "0", "1.0000001", str(10**30), "", "abc"]))
    def bad_input_changes_nothing(self, agent, text):
        """A malformed award amount is refused and changes nothing."""
        before = snapshot(self.ex)
        try:
            self.ex.award(agent, text, "s", "d")
        except ExchangeError:
            pass
        else:
            raise AssertionError(f"{text!r} was accepted as an amount")
        assert snapshot(self.ex) == before

    # -- after every step -------------------------------------------------------------------

    @invariant()
    def ledger_matches_model_and_invariants_hold(self):
        """After every step each wallet, each agent's consumption (its spends and its pool
        draws), each pool's members, stakes, invitations and balance (the sum of its stakes)
        equal the model's, and every ledger invariant holds."""
        ExchangeMachine.checks += 1
        for agent in AGENTS:
            assert self.ex.balance(agent).tokens == tokens(self.wallet[agent]), agent
            assert consumption(self.ex, agent) == self.consumed[agent], agent
        for pool in self.pools:
            view = self.ex.pool_show(pool["id"])
            assert {m.agent: m.stake for m in view.members} == {
                a: tokens(s) for a, s in pool["stakes"].items()}, pool["id"]
            assert view.balance == tokens(sum(pool["stakes"].values())), pool["id"]
            assert set(view.invited) == pool["invited"], pool["id"]
            assert (view.dissolved_at is None) is pool["alive"]
        assert_invariants(self.ex)

    # -- governance: stakes, unbonding, proposals, votes, settle -----------------------------
    # Proposals change only parameters the rest of this model does not price with (a model
    # it never spends on, an issue type, the start balance of agents yet to come), so the
    # model's limits and prices stay those above while the overrides are checked below.

    GOVERNED = {"models.gemini-pro.cost_per_1k": Fraction(2),
                "issues.type_multipliers.docs": Fraction(3, 5), "start_balance": Fraction(10_000)}

    def _governance(self) -> dict:
        if not hasattr(self, "gov"):
            self.gov = {"staked": dict.fromkeys(AGENTS, 0), "unbonding": [], "proposals": [],
                        "params": {}}
        return self.gov

    @rule(agent=st.sampled_from(AGENTS), amount=CONTRIBUTIONS)
    def stake(self, agent, amount):
        """Staking moves wallet -> stake under the reserve, or is refused moving nothing."""
        gov, micro = self._governance(), amount * T
        if micro > self.wallet[agent]:
            outcome = ("refused", "insufficient_funds")
        elif self.wallet[agent] - micro < LIMITS["reserve"]:
            outcome = ("refused", "reserve")
        else:
            outcome = ("ok",)
        if self.expect(outcome, lambda: self.ex.stake(agent, amount)) is not None:
            self.wallet[agent] -= micro
            gov["staked"][agent] += micro

    @rule(agent=st.sampled_from(AGENTS), amount=st.sampled_from([1, 50, 100, 2_000, 4_500]))
    def unstake(self, agent, amount):
        """Unstaking more than the stake is refused; else it unbonds for 24 hours."""
        gov, micro = self._governance(), amount * T
        outcome = ("ok",) if micro <= gov["staked"][agent] else ("refused", "insufficient_funds")
        change = self.expect(outcome, lambda: self.ex.unstake(agent, amount))
        if change is not None:
            gov["staked"][agent] -= micro
            gov["unbonding"].append((agent, micro, self.clock.now_us() + DAY))
            assert change.release_at == self.clock.now_us() + DAY

    @rule(agent=st.sampled_from(AGENTS), parameter=st.sampled_from(sorted(GOVERNED)),
          value=st.sampled_from(["0.5", "3", "12000"]))
    def propose(self, agent, parameter, value):
        """Proposing needs 100 staked; the proposal snapshots every stake; a value the
        config would refuse (a multiplier over 1000) is bad input and changes nothing."""
        gov = self._governance()
        if parameter.startswith("issues.") and Fraction(value) > 1000:
            before = snapshot(self.ex)
            try:
                self.ex.propose(agent, parameter, value, reason="r")
            except Refused:
                raise
            except ExchangeError:
                assert snapshot(self.ex) == before and len(self.ex.proposals()) == len(
                    gov["proposals"])
                return
            raise AssertionError(f"{parameter} = {value} was accepted")
        outcome = ("ok",) if gov["staked"][agent] >= 100 * T else ("refused", "not_allowed")
        made = self.expect(outcome, lambda: self.ex.propose(agent, parameter, value, reason="r"))
        if made is not None:
            now, snapshot_ = self.clock.now_us(), {a: s for a, s in gov["staked"].items() if s}
            assert made.id == f"prop-{len(gov['proposals']) + 1}"
            assert made.total_stake == tokens(sum(snapshot_.values()))
            gov["proposals"].append({"id": made.id, "status": "voting", "ends": now + DAY,
                                     "effective": now + DAY + HOUR, "power": snapshot_,
                                     "votes": {}, "parameter": parameter,
                                     "value": Fraction(value)})

    @precondition(lambda self: getattr(self, "gov", {}).get("proposals"))
    @rule(agent=st.sampled_from(AGENTS), index=st.integers(0, 3),
          choice=st.sampled_from(["yes", "no", "abstain"]))
    def vote(self, agent, index, choice):
        """A vote counts with the stake at creation, only while the vote is open."""
        gov = self._governance()
        proposal = gov["proposals"][-1 - index % len(gov["proposals"])]
        power = proposal["power"].get(agent, 0)
        is_open = proposal["status"] == "voting" and self.clock.now_us() < proposal["ends"]
        outcome = ("ok",) if is_open and power else ("refused", "not_allowed")
        event(f"vote: {outcome[-1]}")
        shown = self.expect(outcome, lambda: self.ex.vote(agent, proposal["id"], choice))
        if shown is not None:
            proposal["votes"][agent] = (choice, power)
            sums = {c: sum(p for x, p in proposal["votes"].values() if x == c)
                    for c in ("yes", "no", "abstain")}
            assert (shown.yes, shown.no, shown.abstain) == tuple(tokens(sums[c]) for c in sums)

    @rule()
    def settle_governance(self):
        """Settle releases what has unbonded, closes ended votes (quorum 20% of the stake
        at creation, more yes than no) and enacts passed ones after the 1-hour timelock."""
        gov, now = self._governance(), self.clock.now_us()
        released = sorted((a, m) for a, m, at in gov["unbonding"] if at <= now)
        gov["unbonding"] = [u for u in gov["unbonding"] if u[2] > now]
        items = self.ex.staking.release_due()
        assert sorted((i.id, i.amount) for i in items) == [(a, tokens(m)) for a, m in released]
        for agent, micro in released:
            self.wallet[agent] += micro
        expected = []
        for p in gov["proposals"]:
            if p["status"] == "voting" and p["ends"] <= now:
                votes = [power for _, power in p["votes"].values()]
                yes, no = (sum(w for c, w in p["votes"].values() if c == x) for x in ("yes", "no"))
                total = sum(p["power"].values())
                quorate = sum(votes) > 0 and sum(votes) * 5 >= total
                p["status"] = ("passed" if yes > no else "rejected") if quorate else "no_quorum"
                expected.append((p["id"], p["status"]))
        # Enacted in the order they fall due, then by number (prop-8 before prop-10).
        for p in sorted(gov["proposals"],
                        key=lambda p: (p["effective"], int(p["id"].removeprefix("prop-")))):
            if p["status"] == "passed" and p["effective"] <= now:
                p["status"] = "enacted"
                gov["params"][p["parameter"]] = p["value"]
                expected.append((p["id"], "enacted"))
        for _, outcome in expected:
            event(f"proposal: {outcome}")
        assert [(i.id, i.outcome) for i in self.ex.governance.close_due()] == expected

    @rule(stakes=st.tuples(*[st.sampled_from([0, 100, 1000, 3000])] * 3),
          parameter=st.sampled_from(sorted(GOVERNED)), value=st.sampled_from(["0.5", "3"]),
          choices=st.tuples(*[st.sampled_from([None, "yes", "no", "abstain"])] * 3),
          wait=st.sampled_from([3600, 86_399, 86_400, 90_000]))
    def a_vote_runs_its_course(self, stakes, parameter, value, choices, wait):
        """Agents stake, claude proposes, some vote, time passes and settle runs (twice,
        an hour apart: the timelock), so proposals pass, fail and take effect."""
        for agent, amount in zip(AGENTS, stakes, strict=True):
            if amount:
                self.stake(agent, amount)
        self.propose("claude", parameter, value)
        for agent, choice in zip(AGENTS, choices, strict=True):
            if choice and self._governance()["proposals"]:
                self.vote(agent, 0, choice)
        for seconds in (wait, 3600):
            self.clock.advance(seconds)
            self.settle_governance()

    @invariant()
    def stakes_and_parameters_match_the_model(self):
        """Each stake and unbonding account, each proposal's status and each governed
        parameter equal the model's (doctor, in the invariant above, checks the records)."""
        gov = self._governance()
        unbonding = {a: sum(m for x, m, _ in gov["unbonding"] if x == a) for a in AGENTS}
        for agent in AGENTS:
            for name, want in ((f"stake:{agent}", gov["staked"][agent]),
                               (f"unbonding:{agent}", unbonding[agent])):
                found = account(self.ex, name)
                assert (found.balance if found else 0) == want, name
        assert [(p.id, p.status) for p in self.ex.proposals()] == [
            (p["id"], p["status"]) for p in gov["proposals"]]
        params = {p.name: p.value for p in self.ex.parameters()}
        for name, default in self.GOVERNED.items():
            assert params[name] == gov["params"].get(name, default), name


    # -- futures: escrowed price, collateral, delivery by work or confirmation, settle ------

    def _futures(self) -> list[dict]:
        """The model's futures (kept on first use: this block adds no state elsewhere)."""
        if not hasattr(self, "futures_model"):
            self.futures_model: list[dict] = []
            self.paid_issues: set[str] = set()
        return self.futures_model

    def _future(self, index: int) -> dict:
        found = self._futures()
        return found[len(found) - 1 - index % len(found)]  # favour the newest

    def _outflow(self, agent: str, amount: int):
        if amount > self.wallet[agent]:
            return ("refused", "insufficient_funds")
        if self.wallet[agent] - amount < LIMITS["reserve"]:
            return ("refused", "reserve")
        return ("ok",)

    @rule(buyer=st.sampled_from(AGENTS), named=st.one_of(st.none(), st.sampled_from(AGENTS)),
          work=st.sampled_from(["manual", "bd:fx-1", "bd:fx-2", "commit:futures-.*"]),
          price=st.sampled_from([1, 300, 4_000, 9_500]), collateral=st.sampled_from(
              [1, 100, 5_000, 9_600]), hours=st.sampled_from([1, 2, 24]))
    def future_open(self, buyer, named, work, price, collateral, hours):
        """Opening escrows the price (the reserve applies); a buyer naming itself as the
        seller is refused."""
        futures = self._futures()
        outcome = (("refused", "not_allowed") if named == buyer
                   else self._outflow(buyer, price * T))
        event(f"future_open: {outcome[-1]}")
        opened = self.expect(outcome, lambda: self.ex.future_open(
            buyer, work, price=price, collateral=collateral, deadline_hours=hours,
            seller=named))
        if opened is None:
            return
        assert opened.id == f"future-{len(futures) + 1}"
        self.wallet[buyer] -= price * T
        futures.append({"id": opened.id, "buyer": buyer, "named": named, "work": work,
                        "price": price * T, "collateral": collateral * T,
                        "deadline": self.clock.now_us() + hours * HOUR, "status": "open",
                        "seller": None})

    @precondition(lambda self: getattr(self, "futures_model", None))
    @rule(index=st.integers(0, 9), seller=st.sampled_from(AGENTS))
    def future_accept(self, index, seller):
        """An open future before its deadline is accepted by anyone but its buyer (only
        the named seller, if named): collateral in (the reserve applies), price out."""
        f = self._future(index)
        if (f["status"] != "open" or self.clock.now_us() >= f["deadline"]
                or seller == f["buyer"] or (f["named"] is not None and seller != f["named"])):
            outcome = ("refused", "not_allowed")
        else:
            outcome = self._outflow(seller, f["collateral"])
        event(f"future_accept: {outcome[-1]}")
        if self.expect(outcome, lambda: self.ex.future_accept(f["id"], seller)) is None:
            return
        self.wallet[seller] += f["price"] - f["collateral"]
        f["status"], f["seller"] = "accepted", seller

    @precondition(lambda self: getattr(self, "futures_model", None))
    @rule(index=st.integers(0, 9), actor=st.one_of(st.none(), st.sampled_from(AGENTS)),
          cancel=st.booleans())
    def future_confirm_or_cancel(self, index, actor, cancel):
        """Only the buyer cancels an open future (price back) or confirms accepted manual
        work before the deadline (collateral back to the seller)."""
        f = self._future(index)
        acting = actor or f["buyer"]
        if cancel:
            ok = acting == f["buyer"] and f["status"] == "open"
        else:
            ok = (acting == f["buyer"] and f["work"] == "manual" and f["status"] == "accepted"
                  and self.clock.now_us() < f["deadline"])
        outcome = ("ok",) if ok else ("refused", "not_allowed")
        call = self.ex.future_cancel if cancel else self.ex.future_confirm
        if self.expect(outcome, lambda: call(f["id"], agent=actor)) is None:
            return
        if cancel:
            self.wallet[f["buyer"]] += f["price"]
            f["status"] = "cancelled"
        else:
            self.wallet[f["seller"]] += f["collateral"]
            f["status"] = "delivered"

    def _deliver(self, seller: str, delivers) -> None:
        for f in self._futures():
            if (f["status"] == "accepted" and f["seller"] == seller and delivers(f["work"])
                    and self.clock.now_us() < f["deadline"]):
                self.wallet[seller] += f["collateral"]
                f["status"] = "delivered"

    @rule(agent=st.sampled_from(AGENTS), issue=st.sampled_from(["fx-1", "fx-2"]))
    def future_issue_paid(self, agent, issue):
        """A P2 task paid to an agent (240, once per issue) delivers its accepted futures
        on that issue before their deadlines."""
        self._futures()
        before = snapshot(self.ex)
        paid = self.ex.pay_issue(issue, agent, priority=2, issue_type="task")
        if issue in self.paid_issues:
            assert paid.replayed and snapshot(self.ex) == before
            return
        self.paid_issues.add(issue)
        self.wallet[agent] += 240 * T
        self._deliver(agent, lambda work: work == f"bd:{issue}")

    @rule(agent=st.sampled_from(AGENTS))
    def future_commit_paid(self, agent):
        """A commit to futures-lab (the default contract) delivers the author's accepted
        commit:futures-.* futures; an exhausted budget refuses it and delivers nothing."""
        self._futures()
        paid = min(BASE[agent] * T, self.budget["default"])
        outcome = ("ok",) if paid > 0 else ("refused", "budget_exhausted")
        if self.expect(outcome, lambda: self.ex.commit(f"{agent}@team.io", "futures-lab",
                                                       "add feature")) is None:
            return
        self.wallet[agent] += paid
        self.budget["default"] -= paid
        self._deliver(agent, lambda work: work == "commit:futures-.*")

    @rule()
    def future_settle(self):
        """Settle fails accepted futures past their deadline (collateral to the buyer) and
        expires unaccepted ones (price back), each once."""
        now = self.clock.now_us()
        expected = []
        for f in self._futures():
            if now >= f["deadline"] and f["status"] in ("open", "accepted"):
                outcome = "failed" if f["status"] == "accepted" else "expired"
                amount = f["collateral"] if outcome == "failed" else f["price"]
                self.wallet[f["buyer"]] += amount
                f["status"] = outcome
                expected.append((f["id"], outcome, tokens(amount)))
        items = settle_futures(self.ex._core)
        assert sorted((i.id, i.outcome, i.amount) for i in items) == sorted(expected)

    @invariant()
    def futures_match_the_model(self):
        """Each future's status, seller and escrow equal the model's."""
        held = {"open": "price", "accepted": "collateral"}
        for f in getattr(self, "futures_model", []):
            view = self.ex.future_show(f["id"])
            assert (view.status, view.seller) == (f["status"], f["seller"]), f["id"]
            assert view.escrow == tokens(f[held[f["status"]]] if f["status"] in held else 0)

    # -- loans: offers escrowed, one taker each, interest first, settle at the due time -----

    def _book(self) -> dict:
        """The loan model: offers and loans by number (made on first use)."""
        return self.__dict__.setdefault("loan_book", {"offers": [], "loans": []})

    def _loan_interest(self, loan: dict, at: int) -> int:
        """Carried interest plus simple interest on what is outstanding since the last
        accrual, rounded up to the micro-token (the lender's favour)."""
        elapsed = max(0, at - loan["accrued_at"])
        return loan["carried"] + ceil(Fraction(loan["outstanding"] * loan["rate"] * elapsed,
                                               1_000_000 * DAY))

    def _loan_pay(self, loan: dict, paying: int, at: int) -> None:
        owed_interest = self._loan_interest(loan, at)
        to_interest = min(paying, owed_interest)
        loan["carried"] = owed_interest - to_interest
        loan["outstanding"] -= paying - to_interest
        loan["accrued_at"] = at
        self.wallet[loan["borrower"]] -= paying
        self.wallet[loan["lender"]] += paying
        if loan["outstanding"] == 0 and loan["carried"] == 0:
            loan["status"] = "repaid"

    @precondition(lambda self: sum(o["status"] == "open" for o in self._book()["offers"]) < 3)
    @rule(lender=st.sampled_from(AGENTS), amount=CONTRIBUTIONS,
          rate=st.sampled_from([0, 10_000, 25_000, 1_000_000]),
          term=st.sampled_from([1, 24, 48]), max_defaults=st.sampled_from([None, 0, 1]))
    def loan_offer(self, lender, amount, rate, term, max_defaults):
        """An offer escrows its amount from the lender (an outflow: the reserve applies)."""
        micro, offers = amount * T, self._book()["offers"]
        if micro > self.wallet[lender]:
            outcome = ("refused", "insufficient_funds")
        elif self.wallet[lender] - micro < LIMITS["reserve"]:
            outcome = ("refused", "reserve")
        else:
            outcome = ("ok",)
        event(f"loan_offer: {outcome[-1]}")
        offer = self.expect(outcome, lambda: self.ex.loan_offer(
            lender, amount, rate_per_day=tokens(rate), term_hours=term,
            max_defaults=max_defaults))
        if offer is not None:
            assert offer.id == f"offer-{len(offers) + 1}"
            offers.append({"id": offer.id, "lender": lender, "amount": micro, "rate": rate,
                           "term": term, "max_defaults": max_defaults, "status": "open"})
            self.wallet[lender] -= micro

    @precondition(lambda self: self._book()["offers"])
    @rule(index=st.integers(0, 9), borrower=st.sampled_from(AGENTS))
    def loan_take(self, index, borrower):
        """Only an open offer is taken, not by its lender, nor by a borrower with more
        defaults than it allows; the whole amount goes to the borrower."""
        book = self._book()
        offer = book["offers"][len(book["offers"]) - 1 - index % len(book["offers"])]
        defaults = sum(1 for x in book["loans"] if x["borrower"] == borrower and x["defaulted"])
        cap = offer["max_defaults"]
        if offer["status"] != "open" or borrower == offer["lender"] or (
                cap is not None and defaults > cap):
            outcome = ("refused", "not_allowed")
        else:
            outcome = ("ok",)
        event(f"loan_take: {outcome[-1]}")
        loan = self.expect(outcome, lambda: self.ex.loan_take(offer["id"], borrower))
        if loan is None:
            return
        now = self.clock.now_us()
        assert loan.id == f"loan-{len(book['loans']) + 1}" and loan.principal == tokens(
            offer["amount"])
        offer["status"] = "taken"
        book["loans"].append({"id": loan.id, "lender": offer["lender"], "borrower": borrower,
                              "rate": offer["rate"], "outstanding": offer["amount"],
                              "carried": 0, "accrued_at": now,
                              "due_at": now + offer["term"] * HOUR, "status": "open",
                              "defaulted": False})
        self.wallet[borrower] += offer["amount"]

    @precondition(lambda self: self._book()["offers"])
    @rule(index=st.integers(0, 9), actor=st.one_of(st.none(), st.sampled_from(AGENTS)))
    def loan_cancel(self, index, actor):
        """Only the lender cancels an open offer, and gets its escrow back."""
        offers = self._book()["offers"]
        offer = offers[len(offers) - 1 - index % len(offers)]
        if (actor or offer["lender"]) != offer["lender"] or offer["status"] != "open":
            outcome = ("refused", "not_allowed")
        else:
            outcome = ("ok",)
        if self.expect(outcome, lambda: self.ex.loan_cancel(offer["id"], agent=actor)):
            offer["status"] = "cancelled"
            self.wallet[offer["lender"]] += offer["amount"]

    @precondition(lambda self: self._book()["loans"])
    @rule(index=st.integers(0, 9), how=st.sampled_from(["all", "half", "over", "one"]),
          actor=st.one_of(st.none(), st.sampled_from(AGENTS)))
    def loan_repay(self, index, how, actor):
        """The borrower repays interest first, then principal; never more than is owed, nor
        below its reserve; anyone else is refused."""
        loans = self._book()["loans"]
        loan = loans[len(loans) - 1 - index % len(loans)]
        now = self.clock.now_us()
        owed = loan["outstanding"] + self._loan_interest(loan, now)
        paying = {"all": owed, "half": max(1, owed // 2), "over": owed + 1, "one": T}[how]
        payer = loan["borrower"]
        if (actor or payer) != payer or owed == 0 or paying > owed:
            outcome = ("refused", "not_allowed")
        elif paying > self.wallet[payer]:
            outcome = ("refused", "insufficient_funds")
        elif self.wallet[payer] - paying < LIMITS["reserve"]:
            outcome = ("refused", "reserve")
        else:
            outcome = ("ok",)
        event(f"loan_repay: {outcome[-1]}")
        amount = None if how == "all" else tokens(paying)
        paid = self.expect(outcome, lambda: self.ex.loan_repay(loan["id"], amount, agent=actor))
        if paid is not None:
            assert paid.amount == tokens(paying)
            self._loan_pay(loan, paying, now)

    @rule(wait=st.booleans())
    def loan_settle(self, wait):
        """Each open loan past its due time is collected from what its borrower holds above
        the reserve; what is left owing is a default. Settling again changes nothing.
        (``wait``: first let time run to the earliest open loan's due time.)"""
        open_due = [x["due_at"] for x in self._book()["loans"] if x["status"] == "open"]
        if wait and open_due:
            self.clock.set(max(self.clock.now_us(), min(open_due)))
        now = self.clock.now_us()
        due = [x for x in self._book()["loans"] if x["status"] == "open" and x["due_at"] <= now]
        expected = {}
        for loan in sorted(due, key=lambda x: (x["due_at"], int(x["id"][5:]))):
            at = max(loan["due_at"], loan["accrued_at"])
            owed = loan["outstanding"] + self._loan_interest(loan, at)
            paying = max(0, min(owed, self.wallet[loan["borrower"]] - LIMITS["reserve"]))
            if paying:
                self._loan_pay(loan, paying, at)
            if paying < owed:
                loan["status"], loan["defaulted"] = "defaulted", True
            expected[loan["id"]] = (loan["status"], tokens(paying))
        items = self.ex.lending.settle_due()
        event(f"loan_settle: {len(items)} settled")
        assert {i.id: (i.outcome, i.amount) for i in items} == expected
        before = snapshot(self.ex)
        assert self.ex.lending.settle_due() == [] and snapshot(self.ex) == before

    @invariant()
    def loans_match_the_model(self):
        """Every offer's status and every loan's status, outstanding principal and what is
        owed now equal the model's (conservation and doctor: the invariant above)."""
        book, now = self._book(), self.clock.now_us()
        for offer in book["offers"]:
            assert self.ex.loan_offer_show(offer["id"]).status == offer["status"], offer["id"]
        for loan in book["loans"]:
            shown = self.ex.loan_show(loan["id"])
            owed = loan["outstanding"] + self._loan_interest(loan, now)
            assert (shown.status, shown.outstanding, shown.owed) == (
                loan["status"], tokens(loan["outstanding"]), tokens(owed)), loan["id"]
            assert (shown.defaulted_at is not None) is loan["defaulted"], loan["id"]


STEPS = 50
# The suite's run: 100 examples of 50 steps. The soak (`make soak`, tests/test_soak.py)
# runs the same machine under the "soak" profile, batch after batch, until it has made
# $TOKEN_EXCHANGE_SOAK_STEPS steps on each store; nothing is replayed from Hypothesis's
# example database there, so every batch explores afresh.
settings.register_profile("suite", max_examples=100, stateful_step_count=STEPS, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.filter_too_much])
settings.register_profile("soak", settings.get_profile("suite"), max_examples=500,
                          database=None, print_blob=True)

TestExchangeInvariants = ExchangeMachine.TestCase
TestExchangeInvariants.settings = settings.get_profile("suite")
