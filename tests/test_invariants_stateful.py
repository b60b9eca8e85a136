"""Random operations against a small reference model; every DESIGN.md invariant is checked
after every step, and a refused operation must change nothing.

The model computes costs, rewards, windows and pool shares on its own (Fractions and the
seed's numbers), so it does not share code with the implementation it checks.
"""

from __future__ import annotations

import shutil
import tempfile
from fractions import Fraction
from math import floor

from hypothesis import HealthCheck, settings
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

from .ledger_checks import assert_invariants, snapshot

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
# Contributions near the reserve: a wallet of 10,000 keeps 500 back.
CONTRIBUTIONS = st.one_of(st.sampled_from([1, 100, 2_000, 4_500, 9_499, 9_500, 9_501]),
                          st.integers(1, 10_000))


def half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


class ExchangeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
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

    @precondition(lambda self: len([p for p in self.pools if p["open"]]) < 2)
    @rule(creator=st.sampled_from(AGENTS), minimum=st.sampled_from([1, 100, 300]))
    def pool_create(self, creator, minimum):
        """Creating a pool numbers it after the pools before it."""
        view = self.expect(("ok",), lambda: self.ex.pool_create("team", creator, minimum))
        assert view.id == f"pool-{len(self.pools) + 1}"
        self.pools.append({"id": view.id, "members": {creator}, "contrib": {}, "balance": 0,
                           "min": minimum * T, "open": True})

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), agent=st.sampled_from(AGENTS))
    def pool_join(self, index, agent):
        """Joining an open pool succeeds and joining a dissolved one is refused."""
        index = len(self.pools) - 1 - index % len(self.pools)  # favour the newest pool
        pool = self.pools[index % len(self.pools)]
        outcome = ("ok",) if pool["open"] else ("refused", "not_allowed")
        if self.expect(outcome, lambda: self.ex.pool_join(pool["id"], agent)) is not None:
            pool["members"].add(agent)

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), member=st.booleans(), data=st.data(), amount=CONTRIBUTIONS)
    def pool_contribute(self, index, member, data, amount):
        """Mostly members (drawn from the pool), sometimes anyone."""
        pool = self.pools[len(self.pools) - 1 - index % len(self.pools)]
        choices = sorted(pool["members"]) if member else AGENTS
        self._contribute(pool, data.draw(st.sampled_from(choices)), amount)

    @precondition(lambda self: self.pools)
    @rule(pair=st.permutations(AGENTS), amounts=st.tuples(CONTRIBUTIONS, CONTRIBUTIONS))
    def fund_newest_pool_together(self, pair, amounts):
        """Two agents join the newest pool and contribute, so pool spends can happen."""
        for agent, amount in zip(pair[:2], amounts, strict=True):
            self.pool_join(0, agent)
            self._contribute(self.pools[-1], agent, amount)

    def _contribute(self, pool, agent, amount):
        micro = amount * T
        if not pool["open"] or agent not in pool["members"] or micro < pool["min"]:
            outcome = ("refused", "not_allowed")
        elif micro > self.wallet[agent]:
            outcome = ("refused", "insufficient_funds")
        elif self.wallet[agent] - micro < LIMITS["reserve"]:
            outcome = ("refused", "reserve")
        else:
            outcome = ("ok",)
        if self.expect(outcome, lambda: self.ex.pool_contribute(pool["id"], agent, amount)):
            self.wallet[agent] -= micro
            pool["balance"] += micro
            pool["contrib"][agent] = pool["contrib"].get(agent, 0) + micro

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), model=st.sampled_from(sorted(PRICE)),
          count=st.one_of(COUNTS, st.integers(1, 1_000_000)))
    def pool_spend(self, index, model, count):
        """A pool spend needs two contributors and enough balance, and credits exactly its cost to
        the contributors."""
        pool = self.pools[len(self.pools) - 1 - index % len(self.pools)]
        cost = half_up(count * PRICE[model] * T / 1000)
        if not pool["open"] or len(pool["contrib"]) < 2:
            outcome = ("refused", "not_allowed")
        elif cost > pool["balance"]:
            outcome = ("refused", "insufficient_funds")
        else:
            outcome = ("ok",)
        result = self.expect(outcome, lambda: self.ex.pool_spend(pool["id"], model, count, "x"))
        if result is not None:
            pool["balance"] -= cost
            credited = {c.agent: c.credited for c in result.credits}
            assert sum(credited.values()) == tokens(cost) and set(credited) == set(pool["contrib"])

    @precondition(lambda self: self.pools)
    @rule(index=st.integers(0, 9), really=st.integers(0, 3))
    def pool_dissolve(self, index, really):
        """Dissolving refunds the balance pro rata to contributions, the remainder to the largest,
        and a second dissolve is refused."""
        if really:  # dissolve one time in four, so pools live long enough to be used
            return
        pool = self.pools[index % len(self.pools)]
        outcome = ("ok",) if pool["open"] else ("refused", "not_allowed")
        result = self.expect(outcome, lambda: self.ex.pool_dissolve(pool["id"]))
        if result is None:
            return
        total, weights = pool["balance"], pool["contrib"]
        if total:
            weight_sum = sum(weights.values())
            shares = {a: total * w // weight_sum for a, w in weights.items()}
            largest = max(sorted(weights), key=lambda a: weights[a])
            shares[largest] += total - sum(shares.values())
            assert {r.agent: r.amount for r in result.refunds} == {
                a: tokens(s) for a, s in shares.items() if s}
            for agent, share in shares.items():
                self.wallet[agent] += share
        pool["balance"], pool["open"] = 0, False

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
        """After every step each wallet and pool balance equals the model's and every ledger
        invariant holds."""
        for agent in AGENTS:
            assert self.ex.balance(agent).tokens == tokens(self.wallet[agent]), agent
        for pool in self.pools:
            assert self.ex.pool_show(pool["id"]).balance == tokens(pool["balance"])
        assert_invariants(self.ex)


TestExchangeInvariants = ExchangeMachine.TestCase
TestExchangeInvariants.settings = settings(
    max_examples=100, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
