"""A member's own spends and its draws on pool spends share one hourly limit, exactly, under
concurrency (on both stores): the pool spend locks each drawing member's wallet, so a
member's check and write cannot interleave with another's."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent_token_exchange import Refused, SystemClock, open_exchange

from .ledger_checks import assert_invariants
from .test_concurrency import DEADLINE_S, WORKERS, _guard, _run_workers


def _claudes_share(index: int, barrier: Any, results: Any, home: str) -> None:
    """Three times: claude's own spend of 150 (even workers), or builder spending 300 from
    the pool, which draws 150 from claude's stake and 150 from builder's (odd workers)."""
    def work() -> list[str]:
        with open_exchange(home, clock=SystemClock(), durable=False) as ex:
            barrier.wait(timeout=DEADLINE_S)
            outcomes = []
            for _ in range(3):
                try:
                    if index % 2:
                        ex.pool_spend("pool-1", "claude-opus", 20_000, "shared", agent="builder")
                    else:
                        ex.llm("claude", "coding", 10_000, "claude-opus")
                    outcomes.append("admitted")
                except Refused as exc:
                    outcomes.append(exc.code)
            return outcomes

    _guard(index, results, work)


def test_own_spends_and_pool_draws_admit_exactly_six_of_150_under_an_hourly_1000(home: Path):
    """Eight processes, 24 requests each costing claude 150 (12 its own, 12 as its draw on
    a pool spend), all at once: exactly 6 are admitted, 18 refused by claude's hourly
    limit, and claude's hour holds exactly 900."""
    with open_exchange(home, clock=SystemClock()) as ex:
        ex.pool_create("shared", "claude", "1", open=True)
        ex.pool_join("pool-1", "builder")
        ex.pool_contribute("pool-1", "claude", 3_000)
        ex.pool_contribute("pool-1", "builder", 3_000)
    outcomes = Counter(o for worker in _run_workers(_claudes_share, [(str(home),)] * WORKERS)
                       for o in worker)
    assert outcomes == {"admitted": 6, "hourly_limit": 18}
    with open_exchange(home, clock=SystemClock()) as ex:
        assert ex.limits("claude").hourly_used == Decimal(900)
        view = ex.pool_show("pool-1")
        assert sum(m.stake for m in view.members) == view.balance
        assert_invariants(ex)
