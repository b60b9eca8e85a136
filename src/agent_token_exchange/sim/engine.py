"""Run a scenario against the real exchange on a simulated clock.

Every token that moves goes through ``Exchange`` (commit, pay_issue, llm, pool_*), so the
simulation obeys exactly the rules, limits and ledger a real team would. The database is
a throwaway file in a temporary directory; the user's exchange is never touched. The only
source of chance is one ``random.Random(seed)``, drawn in a fixed order, so the same seed
and scenario give the same run.
"""

from __future__ import annotations

import heapq
import random
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

from ..clock import HOUR_US, MICROS_PER_SECOND, SimulatedClock
from ..economy import rules
from ..economy.accounts import wallet
from ..economy.config import Config
from ..economy.records import LedgerTransfer
from ..economy.settle_records import SettleReport
from ..errors import IntegrityError, RateLimited, Refused, refusal_rule
from ..money import format_amount, micro, to_micro
from ..service.exchange import Exchange
from ..service.lifecycle import scratch_exchange
from .credit import CreditActivity
from .figures import (
    AgentFigures,
    BlockFigures,
    ModelUse,
    RefusalLog,
    RunResult,
)
from .scenario import PoolPlan, Scenario, build_config, team_names, template_of

Progress = Callable[[int, int], None]


def run_simulation(
    scenario: Scenario, seed: int, *, hours: int | None = None,
    config_overrides: dict[str, Any] | None = None, progress: Progress | None = None,
    base_config: dict[str, Any] | None = None, verify: bool = False,
) -> RunResult:
    """Run ``scenario`` for ``hours`` (default: the scenario's) with ``seed``, under
    ``base_config`` (default: the built-in rules) with the scenario's changes. With
    ``verify``, the exchange's doctor checks every ledger invariant at the end."""
    config = build_config(scenario, config_overrides, base_config)
    with tempfile.TemporaryDirectory(prefix="token-exchange-sim-") as tmp:
        clock = SimulatedClock(scenario.start_us)
        exchange = scratch_exchange(Path(tmp) / "simulation.db", config, clock)
        try:
            exchange.open_accounts()  # the scenario's agents with their start balances
            run = _Run(scenario, config, exchange, clock, random.Random(seed))
            run.play(hours or scenario.hours, progress)
            if verify:
                report = exchange.doctor()
                if not report.healthy:
                    raise IntegrityError("simulation ledger: " + "; ".join(
                        f.message for f in report.errors))
            return run.result(seed, hours or scenario.hours)
        finally:
            exchange.close()


# -- the run --------------------------------------------------------------------------------


class _Run:
    def __init__(self, scenario: Scenario, config: Config, exchange: Exchange,
                 clock: SimulatedClock, rng: random.Random) -> None:
        self.scenario, self.config, self.ex, self.clock, self.rng = (
            scenario, config, exchange, clock, rng)
        self.teams = team_names(scenario)
        self.agents = [name for team in self.teams for name in team]
        self.plans = [scenario.agents[template_of(scenario, a)] for a in self.agents]
        self.queue: list[tuple[int, int, tuple[Any, ...]]] = []
        self.order = count()
        self.refusals: list[RefusalLog] = []
        self.usage: dict[tuple[str, str, bool], ModelUse] = {}
        self.blocks = [BlockFigures(b.name, b.label) for b in scenario.blocks]
        self.block_of_hour = [scenario.blocks.index(scenario.block_for(h)) for h in range(24)]
        self.tally: dict[str, Counter[str]] = defaultdict(Counter)
        self.pools: list[dict[str, Any]] = []
        self.issue_number = count(1)
        # Steady work: each agent accrues the commits, closes and work sessions it owes per
        # hour and does the whole ones; a random start phase spreads the agents apart.
        self.owed = [[rng.random(), rng.random(), rng.random()] for _ in self.agents]
        self._prepare_draws()
        self.credit = [] if scenario.credit is None else [
            CreditActivity(scenario.credit, exchange,
                           {template_of(scenario, a): a for a in team}, self._refused)
            for team in self.teams]

    def _prepare_draws(self) -> None:
        s = self.scenario
        self.commit_share = s.hourly_shares("commits")
        self.issue_share = s.hourly_shares("issues")
        self.request_share = s.hourly_shares("requests")
        self.message_classes = [m.texts for m in s.messages]
        self.message_weights = _cumulative([m.weight for m in s.messages])
        self.priorities = [int(p[1:]) for p in s.issues.priorities]
        self.priority_weights = _cumulative(list(s.issues.priorities.values()))
        self.types = list(s.issues.types)
        self.type_weights = _cumulative(list(s.issues.types.values()))
        self.plan_draws: dict[int, tuple[list[str], list[float], list[str], list[float]]] = {}
        for plan in set(map(id, self.plans)):
            p = next(x for x in self.plans if id(x) == plan)
            self.plan_draws[plan] = (list(p.projects), _cumulative(list(p.projects.values())),
                                     list(p.tasks), _cumulative([t.weight for t in
                                                                 p.tasks.values()]))

    # -- scheduling ----------------------------------------------------------------------

    def _at(self, when: int, *action: Any) -> None:
        heapq.heappush(self.queue, (when, next(self.order), action))

    def play(self, hours: int, progress: Progress | None) -> None:
        start = self.scenario.start_us
        end = start + hours * HOUR_US
        for hour in range(hours):
            hour_start = start + hour * HOUR_US
            self._plan_hour(hour, hour_start)
            while self.queue and self.queue[0][0] < hour_start + HOUR_US:
                when, _, action = heapq.heappop(self.queue)
                self.clock.set(max(self.clock.now_us(), when))
                getattr(self, "_" + action[0])(*action[1:])
                self._settled(self.ex.settle())  # what fell due by now (DESIGN.md: every step)
            if progress is not None:
                progress(hour + 1, hours)
        self.queue.clear()
        self.clock.set(max(self.clock.now_us(), end - MICROS_PER_SECOND))
        for pool in self.pools:
            if pool["dissolve"] and pool["id"]:
                self._pool_dissolve(pool)

    def _plan_hour(self, hour: int, hour_start: int) -> None:
        rng, hod = self.rng, hour % 24
        for index, plan in enumerate(self.plans):
            owed = self.owed[index]
            for slot, (kind, rate, share) in enumerate((
                ("commit", plan.commits_per_day, self.commit_share[hod]),
                ("issue", plan.issues_per_day, self.issue_share[hod]),
            )):
                owed[slot] += rate * share
                due = int(owed[slot])
                owed[slot] -= due
                for _ in range(due):
                    self._at(hour_start + rng.randrange(3600) * MICROS_PER_SECOND, kind, index)
            owed[2] += plan.requests_per_day * self.request_share[hod]
            sessions = int(owed[2])
            owed[2] -= sessions
            for _ in range(sessions):
                when = hour_start + rng.randrange(3600) * MICROS_PER_SECOND
                self._at(when, "request", index, None, None)
        for k, market in enumerate(self.credit):
            market.schedule(hour, hour_start,
                            lambda when, *action, k=k: self._at(when, "credit", k, *action))
        for plan_pool in self.scenario.pools:
            if plan_pool.hour == hour:
                for team in self.teams:
                    self._schedule_pool(plan_pool, team, hour_start)

    # -- earning ---------------------------------------------------------------------------

    def _commit(self, index: int) -> None:
        agent, rng = self.agents[index], self.rng
        projects, project_weights, _, _ = self.plan_draws[id(self.plans[index])]
        project = rng.choices(projects, cum_weights=project_weights)[0]
        texts = rng.choices(self.message_classes, cum_weights=self.message_weights)[0]
        message = rng.choice(texts)
        block = self._block()
        try:
            paid = self.ex.commit(f"{agent}@agents.sim", project, message)
        except Refused as exc:
            self._refused(agent, exc)
            return
        block.commits += 1
        block.earned += micro(paid.amount)
        self.tally[agent]["commits"] += 1
        self._moved(agent)

    def _issue(self, index: int) -> None:
        agent, rng, mix = self.agents[index], self.rng, self.scenario.issues
        projects, project_weights, _, _ = self.plan_draws[id(self.plans[index])]
        project = rng.choices(projects, cum_weights=project_weights)[0]
        priority = rng.choices(self.priorities, cum_weights=self.priority_weights)[0]
        issue_type = rng.choices(self.types, cum_weights=self.type_weights)[0]
        reason = rng.choice(mix.failure_reasons) if rng.random() < mix.failure_share else "done"
        issue_id = f"{project}-{next(self.issue_number)}"
        paid = self.ex.pay_issue(issue_id, agent, priority=priority, issue_type=issue_type,
                                 close_reason=reason, title=f"{issue_type} work")
        block = self._block()
        block.issues += 1
        block.earned += micro(paid.amount)
        self.tally[agent]["issues"] += 1
        self._moved(agent)

    # -- spending ----------------------------------------------------------------------------

    def _request(self, index: int, task: str | None, tokens: int | None) -> None:
        agent, plan, rng = self.agents[index], self.plans[index], self.rng
        if task is None or tokens is None:
            _, _, tasks, task_weights = self.plan_draws[id(plan)]
            task = rng.choices(tasks, cum_weights=task_weights)[0]
            scale = self.scenario.blocks[self.block_of_hour[self._hour_of_day()]].token_scale
            spread = rng.lognormvariate(0.0, plan.token_spread) if plan.token_spread else 1.0
            tokens = max(1, int(plan.tasks[task].tokens * scale * spread))
        block = self._block()
        try:
            charge = self.ex.llm(agent, task, tokens)
        except Refused as exc:
            self._refused(agent, exc)
            if isinstance(exc, RateLimited) and exc.kind == "burst" and plan.on_burst == "shrink":
                self._retry_smaller(index, task, exc)
            return
        block.requests += 1
        block.spent += micro(charge.amount)
        self.tally[agent]["requests"] += 1
        self._use(agent, charge.model, False, charge.inference_tokens, micro(charge.amount))
        self._moved(agent)
        if plan.follow_up and rng.random() < plan.follow_up:
            pause = rng.randrange(1, plan.follow_up_minutes * 60 + 1) * MICROS_PER_SECOND
            self._at(self.clock.now_us() + pause, "request", index, None, None)

    def _retry_smaller(self, index: int, task: str, refusal: RateLimited) -> None:
        """Seen in the seed's log: refused for burst, the agent asks again a second later
        for a piece that fits."""
        agent = self.agents[index]
        model = rules.preferred_llm(self.config, agent, task)
        price = to_micro(self.config.models[model].cost_per_1k)
        fits = micro(refusal.limit) * 1000 // price if price else 0
        tokens = int(fits * self.rng.uniform(0.3, 0.9))
        if tokens > 0:
            self._at(self.clock.now_us() + MICROS_PER_SECOND, "request", index, task, tokens)

    # -- pools -------------------------------------------------------------------------------

    def _schedule_pool(self, plan: PoolPlan, team: list[str], hour_start: int) -> None:
        names = {t: a for a in team for t in [template_of(self.scenario, a)]}
        wanted = [plan.creator, *plan.members, *plan.contributions]
        if any(name not in names for name in wanted):
            return  # a partial team has no copy of this pool
        pool = {"name": plan.name, "creator": names[plan.creator], "id": None,
                "dissolve": plan.dissolve, "spent": 0, "requests": 0, "refunded": 0,
                "contributed": {}}
        self.pools.append(pool)
        second = MICROS_PER_SECOND
        self._at(hour_start, "pool_open", pool, [names[m] for m in plan.members],
                 str(plan.min_contribution))
        for offset, (template, amount) in enumerate(plan.contributions.items(), start=1):
            self._at(hour_start + offset * second, "pool_contribute", pool, names[template],
                     amount)
        for k, request in enumerate(plan.requests, start=1):
            when = hour_start + k * plan.every_minutes * 60 * second
            self._at(when, "pool_spend", pool, request.model, request.tokens,
                     request.description)

    def _pool_open(self, pool: dict[str, Any], members: list[str], minimum: str) -> None:
        """The creator opens an invite-only pool and invites the members, who join."""
        view = self.ex.pool_create(pool["name"], pool["creator"], minimum)
        pool["id"] = view.id
        for member in members:
            self.ex.pool_invite(view.id, member)
            self.ex.pool_join(view.id, member)

    def _pool_contribute(self, pool: dict[str, Any], agent: str, amount: Any) -> None:
        try:
            done = self.ex.pool_contribute(pool["id"], agent, amount)
        except Refused as exc:
            self._refused(agent, exc)
            return
        pool["contributed"][agent] = pool["contributed"].get(agent, 0) + micro(done.amount)
        self._block().spent += micro(done.amount)

    def _pool_spend(self, pool: dict[str, Any], model: str, tokens: int, text: str) -> None:
        try:
            done = self.ex.pool_spend(pool["id"], model, tokens, text)
        except Refused as exc:
            self._refused(pool["id"], exc)
            return
        pool["spent"] += micro(done.amount)
        pool["requests"] += 1
        for credit in done.credits:
            # The request's tokens are shared, so they are not counted per contributor.
            self._use(credit.agent, model, True, 0, micro(credit.credited))

    def _pool_dissolve(self, pool: dict[str, Any]) -> None:
        done = self.ex.pool_dissolve(pool["id"])
        pool["refunded"] = micro(done.amount)

    # -- the credit market (sim/credit.py) -----------------------------------------------

    def _credit(self, team: int, method: str, *args: Any) -> None:
        getattr(self.credit[team], method)(*args)

    def _moved(self, agent: str) -> None:
        for market in self.credit:
            market.after_move(agent)

    def _settled(self, report: SettleReport) -> None:
        for market in self.credit:
            market.settled(report)

    # -- bookkeeping -------------------------------------------------------------------------

    def _hour_of_day(self) -> int:
        return (self.clock.now_us() - self.scenario.start_us) // HOUR_US % 24

    def _block(self) -> BlockFigures:
        return self.blocks[self.block_of_hour[self._hour_of_day()]]

    def _use(self, agent: str, model: str, pooled: bool, tokens: int, amount: int) -> None:
        key = (agent, model, pooled)
        use = self.usage.get(key)
        if use is None:
            use = self.usage[key] = ModelUse(agent, model, pooled)
        use.requests += 1  # a pooled request counts once for each contributor
        use.inference_tokens += tokens
        use.spent += amount

    def _refused(self, agent: str, exc: Refused) -> None:
        kind = refusal_rule(exc)
        message = seed_message(exc)
        at = self.clock.now_us()
        self.refusals.append(RefusalLog(at, agent, kind, message,
                                        f"[{self._log_time(at)}] WARN: {agent}: {message}"))
        self._block().refused += 1
        self.tally[agent]["refused_" + kind] += 1

    def _log_time(self, at: int) -> str:
        seconds = (at - self.scenario.start_us) // MICROS_PER_SECOND
        day, rest = divmod(seconds, 86400)
        hms = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        return hms if day == 0 else f"day {day + 1} {hms}"

    # -- the result --------------------------------------------------------------------------

    def result(self, seed: int, hours: int) -> RunResult:
        transfers = every_transfer(self.ex)
        series, lowest = _balance_series(transfers, self.agents)
        start = to_micro(self.config.start_balance)
        figures = []
        for agent in self.agents:
            w = self.ex.balance(agent)
            spec = self.config.agents[agent]
            tally = self.tally[agent]
            figures.append(AgentFigures(
                name=agent, template=template_of(self.scenario, agent), level=spec.level,
                strategy=self.scenario.agents[template_of(self.scenario, agent)].strategy,
                start=start, earned=micro(w.earned), spent=micro(w.spent), final=micro(w.tokens),
                reserve=self.config.limits_for(agent).reserve, min_balance=lowest[agent],
                commits=tally["commits"], issues=tally["issues"], requests=tally["requests"],
                refusals={k.removeprefix("refused_"): v for k, v in sorted(tally.items())
                          if k.startswith("refused_")},
            ))
        position = {agent: i for i, agent in enumerate(self.agents)}
        usage = sorted(self.usage.values(), key=lambda u: (position[u.agent], u.pooled, u.model))
        pools = [{"name": p["name"], "id": p["id"], "creator": p["creator"],
                  "contributed": dict(sorted(p["contributed"].items())), "spent": p["spent"],
                  "requests": p["requests"], "refunded": p["refunded"]} for p in self.pools]
        credit = self.credit[0].figures() if self.credit else {}
        return RunResult(self.scenario.name, seed, hours, self.scenario.start_us, self.config,
                         figures, self.refusals, usage, self.blocks, transfers, series, pools,
                         credit)


# -- pure helpers ---------------------------------------------------------------------------


def every_transfer(ex: Exchange, page: int = 5000) -> list[LedgerTransfer]:
    """The whole transfer log, oldest first, read a page at a time through the queries."""
    transfers: list[LedgerTransfer] = []
    while batch := ex.transfers_since(transfers[-1].seq if transfers else 0, page):
        transfers += batch
    return transfers


def seed_message(exc: Refused) -> str:
    """The seed's wording and number look: 'Transaction exceeds burst limit (660.0 > 500)'."""
    if isinstance(exc, RateLimited):
        limit = format_amount(micro(exc.limit))  # the seed's look: 1000, not 1,000
        if exc.kind == "burst":
            return f"Transaction exceeds burst limit ({seed_number(micro(exc.needed))} > {limit})"
        what = "Hourly" if exc.kind == "hourly" else "Daily"
        return (f"{what} limit reached ({seed_number(micro(exc.used))}/{limit} used, "
                f"need {seed_number(micro(exc.needed))})")
    return exc.message


def seed_number(micro: int) -> str:
    """Amounts as the seed's Scheme floats print them: 660.0, 195.5."""
    text = format_amount(micro)
    return text if "." in text else text + ".0"


def _balance_series(
    transfers: list[LedgerTransfer], agents: list[str]
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, int]]:
    """Each agent's balance after every transfer that touched it, and its lowest balance
    once its start grant arrived."""
    names = {wallet(a): a for a in agents}
    balance = dict.fromkeys(agents, 0)
    series: dict[str, list[tuple[int, int]]] = {a: [] for a in agents}
    lowest: dict[str, int | None] = dict.fromkeys(agents)
    for t in transfers:
        for account, sign in ((t.source, -1), (t.destination, 1)):
            agent = names.get(account)
            if agent is None:
                continue
            balance[agent] += sign * micro(t.amount)
            series[agent].append((t.at, balance[agent]))
            if t.kind != "grant":
                low = lowest[agent]
                lowest[agent] = balance[agent] if low is None else min(low, balance[agent])
    return series, {a: (lowest[a] if lowest[a] is not None else balance[a]) for a in agents}


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
