"""The gateway's reservations under random interleavings: reserve (agent- and pool-paid,
passing and refused), capture (under, at and over the reservation), release, a second
close of a closed reservation, clock advances, settle (closing stale ones), plain spends,
awards and pool changes, against a small model of its own. After every step: every
DESIGN.md invariant (``assert_invariants``), and the gateway's own: each payer's hold
account holds exactly its open reservations, a closed one holds nothing, what an agent
holds plus what it consumed never passes its hourly or daily limit, and every wallet,
stake, window and charge equals the model's. Runs on SQLite and on PostgreSQL.

The model prices, splits and checks on its own (Fractions and the seed's numbers).
An overrun (a provider reporting more than was reserved) is charged even past the
agent's limits (README: "the excess is charged and recorded"); such a charge would break
the window invariant by design, so the machine sends an overrun only when the model says
it fits the payer's limits, and otherwise captures at the reserved usage (an event).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agent_token_exchange import (
    InvalidInput,
    Refused,
    SimulatedClock,
    init_exchange,
    open_exchange,
)
from agent_token_exchange.money import tokens
from agent_token_exchange.service.metering import Usage

from .conftest import SchemaPool
from .gateway_model import LIMITS, PRICE, STALE, GatewayModel, T, split
from .ledger_checks import (
    account,
    assert_invariants,
    consumption,
    dialect,
    held_for,
    reservation_rows,
    snapshot,
)

AGENTS = ["claude", "builder", "zero", "spark"]
# Token counts near the edges: on claude-opus 33,333 tokens cost 499.995 (500.00, the
# burst), 33,334 cost 500.015 (over it); 0 in and 0 out reserve nothing.
ESTIMATES = st.one_of(st.sampled_from([0, 1, 100, 1000, 13_000]), st.integers(0, 15_000))
OUTPUTS = st.one_of(st.sampled_from([0, 1, 4096, 20_333, 32_333, 33_333, 33_334]),
                    st.integers(0, 25_000))
SECONDS = [1, 60, 899, 900, 901, 1800, 3599, 3600, 3601, 86_400]
CONTRIBUTIONS = st.one_of(st.sampled_from([1, 100, 2_000, 9_500]), st.integers(1, 9_600))


class GatewayMachine(RuleBasedStateMachine):
    """An exchange driven through the gateway's reservations, beside a model."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="atx-gateway-")
        self.clock = SimulatedClock()
        init_exchange(self.dir, clock=self.clock, database=self.database_url())
        self.ex = open_exchange(self.dir, clock=self.clock, durable=False)
        self.model = GatewayModel(AGENTS, self.clock)
        self.closed: dict[int, object] = {}  # reservation id -> how it closed
        self.records: dict[int, object] = {}  # reservation id -> its Reservation record

    def database_url(self) -> str | None:
        return None  # SQLite in the home

    def teardown(self) -> None:
        self.ex.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def expect(self, code: str | None, call):
        """Run ``call``; ``code`` is the refusal the model expects, or None for a pass. A
        refusal must change no balance and leave no reservation behind."""
        before, rows = snapshot(self.ex), reservation_rows(self.ex)
        try:
            result = call()
        except Refused as refusal:
            assert code == refusal.code, (code, refusal.code, refusal.message)
            assert snapshot(self.ex) == before, "a refused operation changed a balance"
            assert reservation_rows(self.ex) == rows, "a refused operation left a reservation"
            return None
        assert code is None, (code, result)
        return result

    def _pool(self, index: int) -> dict:
        pools = self.model.pools
        return pools[len(pools) - 1 - index % len(pools)]  # favour the newest

    # -- reserve ------------------------------------------------------------------------------

    @rule(agent=st.sampled_from(AGENTS), model=st.sampled_from(sorted(PRICE)),
          estimate=ESTIMATES, max_output=OUTPUTS)
    def reserve(self, agent, model, estimate, max_output):
        """An agent-paid reservation holds the worst case under burst, funds, reserve and
        windows (open holds counted), or is refused as the model says, changing nothing."""
        amount = self.model.cost(model, estimate + max_output)
        code = self.model.limit_code(agent, amount, funds=True)
        event(f"reserve: {code or 'ok'}")
        held = self.expect(code, lambda: self.ex.metering.reserve(
            agent, model, estimate, max_output, "chars"))
        if held is None:
            return
        assert held.amount == tokens(amount) and held.id not in self.records
        self.model.wallet[agent] -= amount
        self.records[held.id] = held
        self.model.open[held.id] = {
            "agent": agent, "model": model, "pool": None, "amount": amount, "draws": {},
            "at": self.clock.now_us(), "tokens": estimate + max_output}

    @rule(agent=st.sampled_from(AGENTS), pool=st.one_of(st.none(), st.integers(0, 3)),
          requests=st.lists(st.tuples(ESTIMATES, OUTPUTS), min_size=2, max_size=5),
          gap=st.sampled_from([0, 60, 600]))
    def reserve_series(self, agent, pool, requests, gap):
        """Several claude-opus requests in a row, so holds fill the windows and the
        hourly and daily limits are reached."""
        for estimate, max_output in requests:
            if pool is None or not self.model.pools:
                self.reserve(agent, "claude-opus", estimate, max_output)
            else:
                self.reserve_from_pool(pool, agent, "claude-opus", estimate, max_output)
            self.clock.advance(gap)

    @precondition(lambda self: self.model.pools)
    @rule(index=st.integers(0, 3), actor=st.sampled_from(AGENTS),
          model=st.sampled_from(sorted(PRICE)), estimate=ESTIMATES, max_output=OUTPUTS)
    def reserve_from_pool(self, index, actor, model, estimate, max_output):
        """A pool-paid reservation needs a member with a stake and two qualifying members,
        draws on every stake pro rata, and each draw must fit its member's limits (else
        the refusal names the first member, by name, that does not fit)."""
        pool = self._pool(index)
        amount = self.model.cost(model, estimate + max_output)
        stakes = pool["stakes"]
        draws: dict[str, int] = {}
        qualifying = sum(1 for s in stakes.values() if s >= pool["min"])
        if not pool["alive"] or stakes.get(actor, 0) <= 0 or qualifying < 2:
            code = "not_allowed"
        elif amount > sum(stakes.values()):
            code = "insufficient_funds"
        else:
            draws = split(amount, {m: s for m, s in stakes.items() if s > 0})
            code = next((c for m in sorted(draws) if draws[m]
                         for c in [self.model.limit_code(m, draws[m], funds=False)] if c),
                        None)
        event(f"reserve_from_pool: {code or 'ok'}")
        held = self.expect(code, lambda: self.ex.metering.reserve(
            actor, model, estimate, max_output, "bytes", pool_id=pool["id"]))
        if held is None:
            return
        assert held.amount == tokens(amount) and held.pool_id == pool["id"]
        if amount == 0:
            draws = {}  # nothing held: no draws recorded
        for member, drawn in draws.items():
            stakes[member] -= drawn
        self.records[held.id] = held
        self.model.open[held.id] = {"agent": actor, "model": model, "pool": pool, "amount": amount,
                              "draws": draws, "at": self.clock.now_us(),
                              "tokens": estimate + max_output}

    # -- capture, release, again --------------------------------------------------------------

    @precondition(lambda self: self.model.open)
    @rule(index=st.integers(0, 50),
          how=st.sampled_from(["under", "equal", "over", "nothing", "partial"]),
          data=st.data(), by_id=st.booleans())
    def capture(self, index, how, data, by_id):
        """A capture charges the reported usage (a partial stream at most the reservation),
        gives the rest of the hold back, and records any overrun; a pool-paid one splits
        the charge over the draws (an overrun past them over the stakes)."""
        rid = sorted(self.model.open)[index % len(self.model.open)]
        r = self.model.open[rid]
        worst = r["tokens"]
        count = {"under": data.draw(st.integers(0, worst)), "equal": worst, "nothing": 0,
                 "over": worst + data.draw(st.one_of(st.sampled_from([1, 20_000]),
                                                     st.integers(1, 20_000))),
                 "partial": worst + data.draw(st.integers(0, 20_000))}[how]
        cost = self.model.cost(r["model"], count)
        if how == "partial":
            cost = min(cost, r["amount"])
        charged, shares, at = self.model.plan_close(rid, cost)
        if cost > r["amount"] and not self.model.fits(rid, shares, at):
            event("capture: an overrun past the payer's limits, sent at the reservation")
            how, count, cost = "equal", worst, r["amount"]
            charged, shares, at = self.model.plan_close(rid, cost)
        event(f"capture: {how}{' (overrun)' if cost > r['amount'] else ''}")
        given = data.draw(st.integers(0, count))
        usage = Usage(given, count - given, f"req-{rid}", 42, partial=how == "partial")
        closed = self.ex.metering.capture(rid if by_id else self.records[rid], usage)
        assert (closed.reservation_id, closed.outcome) == (rid, "captured")
        assert closed.reserved == tokens(r["amount"]) and closed.charged == tokens(charged)
        assert closed.overrun == tokens(max(0, cost - r["amount"]))
        assert (closed.input_tokens, closed.output_tokens) == (given, count - given)
        self.model.apply_close(rid, charged, shares, at)
        self.closed[rid] = closed

    @precondition(lambda self: self.model.open)
    @rule(index=st.integers(0, 50), by_id=st.booleans())
    def release(self, index, by_id):
        """A release gives the whole hold back and charges nothing (a pool's draws go back
        to the stakes, or to the wallets of members who left meanwhile)."""
        rid = sorted(self.model.open)[index % len(self.model.open)]
        charged, shares, at = self.model.plan_close(rid, 0)
        closed = self.ex.metering.release(rid if by_id else self.records[rid], latency_ms=7)
        assert (closed.outcome, closed.charged, closed.seq) == ("released", 0, None)
        self.model.apply_close(rid, charged, shares, at)
        self.closed[rid] = closed

    @precondition(lambda self: self.closed)
    @rule(index=st.integers(0, 50), how=st.sampled_from(["capture", "release"]),
          by_id=st.booleans())
    def close_again(self, index, how, by_id):
        """Capturing or releasing a closed reservation again changes nothing and answers
        how it first closed."""
        rid = sorted(self.closed)[index % len(self.closed)]
        which = rid if by_id else self.records[rid]
        before, rows = snapshot(self.ex), reservation_rows(self.ex)
        if how == "capture":
            again = self.ex.metering.capture(which, Usage(10_000, 10_000, "late"))
        else:
            again = self.ex.metering.release(which)
        assert again == self.closed[rid]
        assert snapshot(self.ex) == before and reservation_rows(self.ex) == rows

    @rule(which=st.sampled_from([10**9, -1, "r1", True]),
          how=st.sampled_from(["capture", "release"]))
    def close_unknown(self, which, how):
        """Closing a reservation that does not exist is bad input and changes nothing."""
        before, rows = snapshot(self.ex), reservation_rows(self.ex)
        with pytest.raises(InvalidInput):
            if how == "capture":
                self.ex.metering.capture(which, Usage(1, 1))
            else:
                self.ex.metering.release(which)
        assert snapshot(self.ex) == before and reservation_rows(self.ex) == rows

    @rule(agent=st.sampled_from(AGENTS), bad=st.sampled_from(
        [("llama3.2", -1, 10), ("llama3.2", 10, 10_000_001), ("gpt-nothing", 1, 1),
         ("claude-opus", 1, True)]))
    def reserve_bad_input(self, agent, bad):
        """A reservation with a count out of range or an unknown model is bad input and
        changes nothing."""
        before, rows = snapshot(self.ex), reservation_rows(self.ex)
        with pytest.raises(InvalidInput):
            self.ex.metering.reserve(agent, bad[0], bad[1], bad[2], "chars")
        assert snapshot(self.ex) == before and reservation_rows(self.ex) == rows

    # -- time and settle ----------------------------------------------------------------------

    @rule(seconds=st.sampled_from(SECONDS))
    def advance_clock(self, seconds):
        """Time passes: windows slide and reservations grow stale."""
        self.clock.advance(seconds)

    @rule(wait=st.booleans())
    def settle(self, wait):
        """settle closes every reservation open for 15 minutes or more at its reserved
        amount (oldest first) and no other; settling again closes nothing. (``wait``:
        first let the oldest open reservation grow exactly stale.)"""
        if wait and self.model.open:
            oldest = min(r["at"] for r in self.model.open.values())
            self.clock.set(max(self.clock.now_us(), oldest + STALE))
        cutoff = self.clock.now_us() - STALE
        due = sorted((r["at"], rid) for rid, r in self.model.open.items() if r["at"] <= cutoff)
        expected = {}
        for _, rid in due:
            amount = self.model.open[rid]["amount"]
            charged, shares, at = self.model.plan_close(rid, amount)
            self.model.apply_close(rid, charged, shares, at)
            expected[f"r{rid}"] = ("expired", tokens(charged))
        report = self.ex.settle()
        items = [i for i in report.items if i.area == "reservation"]
        event(f"settle: {min(len(items), 3)} closed")
        assert {i.id: (i.outcome, i.amount) for i in items} == expected
        assert [i.id for i in items] == [f"r{rid}" for _, rid in due]
        for row in reservation_rows(self.ex):
            if f"r{row.id}" in expected:
                self.closed[row.id] = self.ex.metering.release(row.id)  # how it closed
        before = snapshot(self.ex)
        assert self.ex.settle().items == () and snapshot(self.ex) == before

    # -- balances that move around the gateway ------------------------------------------------

    @rule(agent=st.sampled_from(AGENTS), model=st.sampled_from(sorted(PRICE)),
          count=st.integers(1, 40_000))
    def llm(self, agent, model, count):
        """A plain spend passes only if it fits with the agent's open holds counted."""
        cost = self.model.cost(model, count)
        code = self.model.limit_code(agent, cost, funds=True)
        at = max(self.clock.now_us(), self.model.last_at(agent))
        if self.expect(code, lambda: self.ex.llm(agent, "work", count, model)) is not None:
            self.model.wallet[agent] -= cost
            self.model.consumed[agent].append((at, cost))
            self.model.inference += cost

    @rule(agent=st.sampled_from(AGENTS), hours=st.integers(1, 10))
    def busy_day(self, agent, hours):
        """An agent is paid and then spends its hourly limit hour after hour, so its daily
        window fills and reservations meet the daily limit."""
        self.award(agent, 3000)
        for _ in range(hours):
            self.llm(agent, "claude-opus", 33_333)
            self.llm(agent, "claude-opus", 33_333)
            self.clock.advance(3600)

    @rule(agent=st.sampled_from(AGENTS), whole=st.integers(1, 3000))
    def award(self, agent, whole):
        """An award lands in the wallet in full."""
        self.expect(None, lambda: self.ex.award(agent, whole, "test", "work"))
        self.model.wallet[agent] += whole * T

    @precondition(lambda self: sum(p["alive"] for p in self.model.pools) < 2)
    @rule(creator=st.sampled_from(AGENTS), minimum=st.sampled_from([1, 100]),
          members=st.lists(st.sampled_from(AGENTS), min_size=1, max_size=4, unique=True),
          amounts=st.lists(CONTRIBUTIONS, min_size=4, max_size=4))
    def pool_create(self, creator, minimum, members, amounts):
        """An open pool is created, and agents join and contribute (each contribution an
        outflow under the reserve and at least the pool's minimum)."""
        view = self.ex.pool_create("team", creator, minimum, open=True)
        pool = {"id": view.id, "creator": creator, "alive": True, "min": minimum * T,
                "stakes": {creator: 0}}
        self.model.pools.append(pool)
        for agent, amount in zip([creator, *members], amounts, strict=False):
            self.contribute(pool, agent, amount)

    def contribute(self, pool: dict, agent: str, amount: int) -> None:
        self.ex.pool_join(pool["id"], agent)
        pool["stakes"].setdefault(agent, 0)
        micro = amount * T
        code = ("not_allowed" if micro < pool["min"] else "insufficient_funds"
                if micro > self.model.wallet[agent] else "reserve"
                if self.model.wallet[agent] - micro < LIMITS["reserve"] else None)
        if self.expect(code, lambda: self.ex.pool_contribute(pool["id"], agent, amount)):
            self.model.wallet[agent] -= micro
            pool["stakes"][agent] += micro

    @precondition(lambda self: any(p["alive"] for p in self.model.pools))
    @rule(index=st.integers(0, 3), agent=st.sampled_from(AGENTS), amount=CONTRIBUTIONS)
    def pool_contribute(self, index, agent, amount):
        """An agent joins the pool (it is open) and contributes."""
        pool = self._pool(index)
        if pool["alive"]:
            self.contribute(pool, agent, amount)

    @precondition(lambda self: any(p["alive"] for p in self.model.pools))
    @rule(index=st.integers(0, 3), agent=st.sampled_from(AGENTS))
    def pool_leave(self, index, agent):
        """A member other than the creator leaves with its stake, open holds or not; what
        its draws did not pay comes back to its wallet when they settle."""
        pool = self._pool(index)
        if not pool["alive"] or agent not in pool["stakes"] or agent == pool["creator"]:
            return
        event(f"pool_leave: {'with' if self.model.drawing(pool, agent) else 'no'} open draws")
        left = self.ex.pool_leave(pool["id"], agent)
        stake = pool["stakes"].pop(agent)
        assert left.amount == tokens(stake)
        self.model.wallet[agent] += stake

    @precondition(lambda self: any(p["alive"] for p in self.model.pools))
    @rule(index=st.integers(0, 3))
    def pool_dissolve(self, index):
        """Dissolving returns every stake; open holds settle to the members' wallets."""
        pool = self._pool(index)
        if not pool["alive"]:
            return
        event(f"pool_dissolve: {'with' if self.model.drawing(pool) else 'no'} open holds")
        self.ex.pool_dissolve(pool["id"])
        for agent, stake in pool["stakes"].items():
            self.model.wallet[agent] += stake
        pool["stakes"], pool["alive"] = {}, False

    # -- after every step ---------------------------------------------------------------------

    @invariant()
    def every_invariant_holds(self):
        """Every DESIGN.md invariant (conservation, caches, floors, windows, doctor)."""
        assert_invariants(self.ex)

    @invariant()
    def holds_are_exactly_the_open_reservations(self):
        """Each payer's hold account holds the sum of its open reservations; closed ones
        hold nothing and are stored closed as they closed."""
        expected: dict[str, int] = {}
        for r in self.model.open.values():
            payer = f"agent:{r['agent']}" if r["pool"] is None else f"pool:{r['pool']['id']}"
            expected[payer] = expected.get(payer, 0) + r["amount"]
        payers = {f"agent:{a}" for a in AGENTS} | {f"pool:{p['id']}" for p in self.model.pools}
        for payer in payers:
            found = account(self.ex, f"hold:{payer}")
            assert (found.balance if found else 0) == expected.get(payer, 0), payer
        rows = {row.id: row for row in reservation_rows(self.ex)}
        assert {i for i, row in rows.items() if row.closed_at is None} == set(self.model.open)
        for rid, closed in self.closed.items():
            assert rows[rid].outcome == closed.outcome
            assert rows[rid].charged == int(closed.charged * T)

    @invariant()
    def wallets_windows_and_stakes_match_the_model(self):
        """Every wallet, consumption row, hold, stake and the inference total equal the
        model's, and no agent's holds plus consumption pass its hourly or daily limit."""
        now = self.clock.now_us()
        for agent in AGENTS:
            assert self.ex.balance(agent).tokens == tokens(self.model.wallet[agent]), agent
            assert consumption(self.ex, agent) == self.model.consumed[agent], agent
            assert held_for(self.ex, agent) == self.model.held(agent), agent
            hourly, daily = self.model.used(agent, max(now, self.model.last_at(agent)))
            assert hourly + self.model.held(agent) <= LIMITS["hourly"], agent
            assert daily + self.model.held(agent) <= LIMITS["daily"], agent
        for pool in self.model.pools:
            shown = {m.agent: m.stake for m in self.ex.pool_show(pool["id"]).members}
            assert {m: s for m, s in shown.items() if s} == {
                m: tokens(s) for m, s in pool["stakes"].items() if s}, pool["id"]
        found = account(self.ex, "system:inference")
        assert (found.balance if found else 0) == self.model.inference


class PostgresGatewayMachine(GatewayMachine):
    """The same machine; its exchange's ledger is a fresh PostgreSQL schema."""

    schemas: SchemaPool

    def database_url(self) -> str | None:
        self.schema = self.schemas.checkout()
        return self.schemas.url(self.schema)

    def teardown(self) -> None:
        assert dialect(self.ex) == "postgresql"
        super().teardown()
        self.schemas.checkin(self.schema)


# Each step is a few transactions and a doctor run: under a minute a store in the suite.
EXAMPLES = {"sqlite": 100, "postgresql": 25}


def test_gateway_reservations_keep_every_invariant(store_kind: str,
                                                   request: pytest.FixtureRequest) -> None:
    """Random reserves, captures, releases, repeats, clock advances and settles, among
    spends, awards and pool changes, keep every invariant and the model after every step."""
    machine: type[GatewayMachine] = GatewayMachine
    if store_kind == "postgresql":
        PostgresGatewayMachine.schemas = request.getfixturevalue("pg_schemas")
        machine = PostgresGatewayMachine
    run_state_machine_as_test(machine, settings=settings(
        max_examples=int(os.environ.get("GATEWAY_MACHINE_EXAMPLES", EXAMPLES[store_kind])),
        stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
