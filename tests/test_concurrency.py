"""Proof under load: eight processes share one exchange (SQLite file or PostgreSQL) and
hammer the same agents and pool at once, replaying each other's idempotency keys.

Afterwards conservation holds, no wallet is below its reserve, no rolling window is over
its limit, every key was applied once (and every replay saw the first result), and
doctor is clean. The counts are exact: 24 concurrent 150-token spends against an hourly
limit of 1,000 admit exactly six.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent_token_exchange import (
    Conflict,
    Exchange,
    Refused,
    SimulatedClock,
    SystemClock,
    open_exchange,
)
from agent_token_exchange.clock import HOUR_US
from agent_token_exchange.economy.accounts import Kind
from agent_token_exchange.money import to_micro

from .ledger_checks import pool_draws, snapshot, stored_transfers

WORKERS = 8
DEADLINE_S = 120  # the whole run; a hung worker fails the test instead of hanging it
AGENTS = ("claude", "builder", "lambda", "spark")
_fork = multiprocessing.get_context("fork")


def _run_workers(target: Any, args_for: list[tuple[Any, ...]]) -> list[Any]:
    """Start one process per argument tuple, released together by a barrier; return each
    one's result (a worker puts (index, result) on the queue)."""
    barrier = _fork.Barrier(len(args_for))
    results = _fork.Queue()
    procs = [_fork.Process(target=target, args=(i, barrier, results, *args))
             for i, args in enumerate(args_for)]
    for proc in procs:
        proc.start()
    collected: dict[int, Any] = {}
    try:
        for _ in procs:
            index, result = results.get(timeout=DEADLINE_S)
            if isinstance(result, BaseException):
                raise result
            collected[index] = result
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    return [collected[i] for i in range(len(procs))]


def _guard(index: int, results: Any, work: Any) -> None:
    try:
        results.put((index, work()))
    except BaseException as exc:  # report it: the parent raises it with the worker's text
        results.put((index, RuntimeError(f"worker {index}: {type(exc).__name__}: {exc}")))


# -- twenty-four spends, six admitted ----------------------------------------------------------


def _three_spends(index: int, barrier: Any, results: Any, home: str) -> None:
    def work() -> list[str]:
        with open_exchange(home, clock=SystemClock(), durable=False) as ex:
            barrier.wait(timeout=DEADLINE_S)
            outcomes = []
            for _ in range(3):
                try:
                    ex.llm("claude", "coding", 10_000, "claude-opus")  # costs exactly 150
                    outcomes.append("admitted")
                except Refused as exc:
                    outcomes.append(exc.code)
            return outcomes

    _guard(index, results, work)


def test_24_concurrent_spends_of_150_under_an_hourly_1000_admit_exactly_six(home: Path) -> None:
    """Eight processes each spend 150 three times at once: 6 × 150 = 900 fits in the hourly
    1,000, a seventh would not; every other spend is refused by the hourly limit."""
    outcomes = Counter(o for worker in _run_workers(_three_spends, [(str(home),)] * WORKERS)
                       for o in worker)
    assert outcomes == {"admitted": 6, "hourly_limit": 18}
    with open_exchange(home, clock=SystemClock()) as ex:
        assert ex.balance("claude").tokens == Decimal(10_000 - 900)
        assert ex.limits("claude").hourly_used == Decimal(900)
        # 18 identical refusals: rows that count their repeats within a minute, so one
        # row, or two when the workers' run straddles the end of that minute.
        counts = [r.count for r in ex.refusals("claude")]
        assert sum(counts) == 18 and len(counts) <= 2, counts
        assert ex.limits("claude").refusals_last_hour == 18
        assert ex.doctor().healthy


# -- the hammer ------------------------------------------------------------------------------


def _operations() -> list[tuple[str, tuple[Any, ...]]]:
    """The shared workload: every worker runs all of it, in its own order, so each keyed
    operation is sent eight times at once from different processes."""
    rng = random.Random(5)
    ops: list[tuple[str, tuple[Any, ...]]] = []
    for i in range(24):
        agent = AGENTS[i % 4]
        ops.append(("llm", (agent, rng.choice([2_000, 10_000, 20_000]), f"spend-{i}")))
    for i in range(12):
        agent = AGENTS[i % 3]  # the pool's members
        ops.append(("contribute", (agent, rng.choice([300, 900, 1_500]), f"put-{i}")))
    for i in range(8):
        ops.append(("award", (AGENTS[i % 4], rng.choice([50, 500]), f"award-{i}")))
    for i in range(10):
        ops.append(("pool_spend", (rng.choice([10_000, 40_000]), f"pool-{i}")))
    for i in range(6):  # a second pool, dissolved while its members pay in
        ops.append(("contribute_2", (AGENTS[i % 3], 200, f"put2-{i}")))
    ops.insert(40, ("dissolve_2", ("dissolve-2",)))
    for i in range(4):  # commits, paid from two contracts once per SHA
        ops.append(("commit", (AGENTS[i], f"{i + 1:x}" * 40)))
    return ops


def _apply(ex: Exchange, op: str, args: tuple[Any, ...]) -> Any:
    if op == "llm":
        agent, count, key = args
        return ex.llm(agent, "coding", count, "claude-opus", idempotency_key=key).seq
    if op == "contribute":
        agent, amount, key = args
        return ex.pool_contribute("pool-1", agent, amount, idempotency_key=key).seq
    if op == "award":
        agent, amount, key = args
        return ex.award(agent, amount, "load-test", "award", idempotency_key=key).seq
    if op == "pool_spend":
        count, key = args
        return ex.pool_spend("pool-1", "claude-opus", count, "shared", idempotency_key=key).seq
    if op == "contribute_2":
        agent, amount, key = args
        return ex.pool_contribute("pool-2", agent, amount, idempotency_key=key).seq
    if op == "dissolve_2":
        return ex.pool_dissolve("pool-2", idempotency_key=args[0]).amount
    if op == "commit":
        agent, sha = args
        project = "nexushive-setup" if int(sha[0], 16) % 2 else "claude-monitor"
        return ex.commit(f"{agent}@team.dev", project, "fix: load", sha=sha).seq
    if op == "doctor":  # a consistent view mid-load, while the others write
        report = ex.doctor(fix=args[0])
        return "healthy" if report.healthy else str(report.errors)
    if op == "reuse":  # a key first used for another request
        agent, key = args
        return ex.llm(agent, "coding", 1_000, "claude-opus", idempotency_key=key).seq
    if op == "unkeyed":
        return ex.llm(args[0], "coding", 1_000, "claude-sonnet").seq
    raise AssertionError(op)


def _hammer(index: int, barrier: Any, results: Any, home: str) -> None:
    def work() -> list[tuple[str, str, Any]]:
        ops = _operations()
        random.Random(index).shuffle(ops)
        # Plus what only this worker sends: two unkeyed spends and a reused key.
        ops += [("unkeyed", (AGENTS[index % 4],)), ("unkeyed", (AGENTS[(index + 1) % 4],)),
                ("reuse", (AGENTS[(index + 1) % 4], "spend-0"))]
        ops.insert(len(ops) // 2, ("doctor", (False,)))
        ops.insert(len(ops) * 3 // 4, ("doctor", (True,)))  # --fix: locks every account
        outcomes = []
        with open_exchange(home, clock=SystemClock(), durable=False) as ex:
            barrier.wait(timeout=DEADLINE_S)
            for op, args in ops:
                key = args[-1] if op not in ("unkeyed", "reuse", "doctor") else f"{op}-{index}"
                try:
                    outcomes.append((key, "ok", _apply(ex, op, args)))
                except Conflict:
                    outcomes.append((key, "conflict", None))
                except Refused as exc:
                    outcomes.append((key, exc.code, None))
        return outcomes

    _guard(index, results, work)


def test_eight_processes_hammering_one_exchange_keep_every_invariant(home: Path) -> None:
    """Spends, contributions, awards, commits, pool spends and a dissolution, each keyed
    operation sent by all eight processes at once, and a doctor run in each mid-load (it
    sees a consistent ledger): each applied once, every replay answered with the first
    result, and the ledger consistent and within every limit afterwards."""
    with open_exchange(home, clock=SimulatedClock()) as ex:
        ex.pool_create("shared", "claude", 100, open=True)
        for agent in ("builder", "lambda"):
            ex.pool_join("pool-1", agent)
        ex.pool_contribute("pool-1", "builder", 500)
        ex.pool_contribute("pool-1", "lambda", 500)
        ex.pool_create("second", "claude", 100, open=True)
        for agent in ("builder", "lambda"):
            ex.pool_join("pool-2", agent)
        ex.pool_contribute("pool-2", "builder", 300)

    outcomes = [o for worker in _run_workers(_hammer, [(str(home),)] * WORKERS) for o in worker]

    by_key: dict[str, set[tuple[str, Any]]] = defaultdict(set)
    for key, outcome, seq in outcomes:
        by_key[key].add((outcome, seq))
    for key, seen in by_key.items():
        if key.startswith(("unkeyed", "reuse", "doctor")):
            continue
        assert len(seen) == 1, f"{key} answered differently across replays: {seen}"
    assert [seq for key, _, seq in outcomes if key.startswith("doctor")] == ["healthy"] * 16
    assert all(outcome == "conflict" for key, outcome, _ in outcomes if key.startswith("reuse"))
    assert any(outcome == "ok" for key, outcome, _ in outcomes if key.startswith("spend-"))
    refusals = {outcome for _, outcome, _ in outcomes} - {"ok", "conflict"}
    assert "hourly_limit" in refusals  # the load does reach the limits

    with open_exchange(home, clock=SystemClock()) as ex:
        transfers = stored_transfers(ex)
        by_seq = {t.seq: t for t in transfers}
        assert sum(balance for balance, _, _ in snapshot(ex).values()) == 0  # conservation
        for agent in AGENTS:
            assert ex.balance(agent).tokens >= Decimal(500), agent  # the reserve
        assert ex.pool_show("pool-1").balance >= 0
        assert ex.pool_show("pool-2").balance == 0  # dissolved: everything refunded
        # Each key applied once, at the seq every replay reported (a dissolution's refunds
        # all carry its key).
        keyed = Counter(t.idempotency_key for t in transfers if t.idempotency_key)
        shas = {args[1] for op, args in _operations() if op == "commit"}
        assert keyed.pop("client:dissolve-2") >= 1
        assert max(keyed.values()) == 1
        for key, seen in by_key.items():
            if key.startswith(("unkeyed", "reuse", "doctor")):
                continue
            ((outcome, seq),) = seen
            if key == "dissolve-2":
                assert outcome == "ok"
            elif key in shas:  # a commit, keyed by its SHA
                assert outcome == "ok"
                assert by_seq[seq].idempotency_key == f"commit:{key}"
            elif outcome == "ok":
                assert by_seq[seq].idempotency_key == f"client:{key}"
            else:
                assert f"client:{key}" not in keyed
        # No rolling hour over its limit, no spend over the burst limit: an agent's own
        # spends and its draws on pool spends.
        at_of = {t.seq: t.at for t in transfers}
        for agent in AGENTS:
            spends = [(t.at, t.amount) for t in transfers
                      if t.kind == Kind.INFERENCE.value and t.source == f"agent:{agent}"]
            spends += [(at_of[c.seq], c.credited) for c in pool_draws(ex)
                       if c.agent == agent and c.consumed and c.credited]
            for at, amount in spends:
                assert amount <= to_micro(500)
                window = sum(a for t_at, a in spends if at - HOUR_US < t_at <= at)
                assert window <= to_micro(1_000), agent
        assert [t.seq for t in transfers] == list(range(1, len(transfers) + 1))
        report = ex.doctor()
        assert report.healthy, report.errors
        assert not [f for f in report.findings if not f.ok], report.findings
