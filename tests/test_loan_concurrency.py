"""Concurrent takes of one offer admit exactly one borrower (on both stores): every take
locks the offer's escrow, so only the first to hold it finds the offer open. Processes,
released together by a barrier, on the real clock."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent_token_exchange import Refused, SystemClock, open_exchange

from .ledger_checks import assert_invariants
from .test_concurrency import DEADLINE_S, WORKERS, _guard, _run_workers

BORROWERS = ("claude", "lambda", "spark", "observer", "zero")


def _take_both(index: int, barrier: Any, results: Any, home: str) -> None:
    """Take offer-1, then offer-2 (odd workers the other way round), as one borrower."""
    borrower = BORROWERS[index % len(BORROWERS)]

    def work() -> list[str]:
        with open_exchange(home, clock=SystemClock(), durable=False) as ex:
            barrier.wait(timeout=DEADLINE_S)
            outcomes = []
            for offer in (("offer-1", "offer-2") if index % 2 == 0 else ("offer-2", "offer-1")):
                try:
                    loan = ex.loan_take(offer, borrower)
                    outcomes.append(f"{offer} taken by {loan.borrower}")
                except Refused as exc:
                    outcomes.append(f"{offer} {exc.code}")
            return outcomes

    _guard(index, results, work)


def test_concurrent_takes_of_one_offer_admit_exactly_one(home: Path):
    """Eight processes each try to take both of two offers at once: each offer is taken
    exactly once, the other fourteen attempts are refused (not_allowed), each borrower got
    the whole amount once, and the ledger stays consistent."""
    with open_exchange(home, clock=SystemClock()) as ex:
        ex.loan_offer("builder", 300, rate_per_day="1%", term_hours=24)
        ex.loan_offer("builder", 200, rate_per_day="1%", term_hours=24)
    outcomes = Counter(o for worker in _run_workers(_take_both, [(str(home),)] * WORKERS)
                       for o in worker)
    taken = {o.split(" taken by ")[0]: o.split(" taken by ")[1] for o in outcomes
             if " taken by " in o}
    assert set(taken) == {"offer-1", "offer-2"}
    assert sum(n for o, n in outcomes.items() if " taken by " in o) == 2
    assert outcomes["offer-1 not_allowed"] == outcomes["offer-2 not_allowed"] == WORKERS - 1
    with open_exchange(home, clock=SystemClock()) as ex:
        loans = ex.loans()
        assert sorted((x.offer_id, x.borrower) for x in loans) == sorted(taken.items())
        got = Counter()
        for x in loans:
            got[x.borrower] += x.principal
        for borrower, principal in got.items():
            assert ex.balance(borrower).tokens == Decimal(10000) + principal
        assert_invariants(ex)


def _offer_once(index: int, barrier: Any, results: Any, home: str) -> None:
    lender = BORROWERS[index % len(BORROWERS)]

    def work() -> str:
        with open_exchange(home, clock=SystemClock(), durable=False) as ex:
            barrier.wait(timeout=DEADLINE_S)
            return ex.loan_offer(lender, 10 + index, rate_per_day="1%", term_hours=1).id

    _guard(index, results, work)


def test_concurrent_offers_are_numbered_once_each(home: Path):
    """Eight processes offer at once: eight offers, numbered 1 to 8 without a gap or a
    repeat (a race for a number runs again), each escrowing its own amount."""
    ids = _run_workers(_offer_once, [(str(home),)] * WORKERS)
    assert sorted(ids, key=lambda i: int(i.split("-")[1])) == [
        f"offer-{n}" for n in range(1, WORKERS + 1)]
    with open_exchange(home, clock=SystemClock()) as ex:
        assert sorted(o.amount for o in ex.loan_offers()) == [
            Decimal(10 + i) for i in range(WORKERS)]
        assert_invariants(ex)
