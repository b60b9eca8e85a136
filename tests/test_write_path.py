"""The write path: a lean spend (statements counted with sqlite3's trace callback) and
group commit (a batch of operations in one transaction, each decided in order, a refused
one changing nothing, every caller answered with its own outcome)."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from agent_token_exchange import InvalidInput, RateLimited, open_exchange
from agent_token_exchange.economy.records import Charge
from agent_token_exchange.service.writer import Job, apply_batch

from .ledger_checks import assert_invariants


def _statements(ex, action) -> list[str]:
    seen: list[str] = []
    ex.store.conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        ex.store.conn.set_trace_callback(None)
    return [s for s in seen if not s.startswith("--")]  # "-- TRIGGER …" lines are not ours


@pytest.mark.sqlite_only
def test_a_spend_is_at_most_eight_statements_begin_and_commit_included(home, clock):
    """A durable spend on SQLite runs at most 8 statements (BEGIN IMMEDIATE and COMMIT
    included) and reads nothing twice; with an idempotency key, two more."""
    with open_exchange(home, clock=clock) as ex:
        ex.llm("zero", "coding", 100)  # the first spend may create its window's rows
        clock.advance(micros=1000)
        plain = _statements(ex, lambda: ex.llm("zero", "coding", 100))
        clock.advance(micros=1000)
        keyed = _statements(ex, lambda: ex.llm("zero", "coding", 100, idempotency_key="a"))
    assert plain[0] == "BEGIN IMMEDIATE" and plain[-1] == "COMMIT"
    assert len(plain) <= 8, plain
    assert sum(s.startswith("SELECT") for s in plain) == 2, plain  # position, chain head
    assert not any("SAVEPOINT" in s for s in plain)
    assert len(keyed) <= 10, keyed


class _Collect:
    """Stands in for the writer's queue so a test can hand a batch to ``apply_batch``
    itself (the batching is what is under test; the database is real)."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def submit(self, job: Job) -> None:
        self.jobs.append(job)


def _queued(ex, calls) -> list[Job]:
    collect = _Collect()
    ex._core.writer = collect
    try:
        for call in calls:
            call()
    finally:
        ex._core.writer = None
    return collect.jobs


def test_a_batch_decides_in_order_and_a_refusal_in_it_changes_nothing(exchange, clock):
    """Four spends in one transaction are decided in order against the hourly limit: the
    ones that fit are charged, the one that does not is refused (and recorded) without
    undoing the others, and a replayed key answers its first outcome."""
    ex = exchange
    big = 4_000_000  # 400 tokens of llama3.2: under the burst (500), two fit the hour (1000)
    jobs = _queued(ex, [
        lambda: ex.llm("zero", "coding", big, "llama3.2", idempotency_key="one"),
        lambda: ex.llm("zero", "coding", big, "llama3.2", idempotency_key="two"),
        lambda: ex.llm("zero", "coding", big, "llama3.2", idempotency_key="three"),
        lambda: ex.llm("zero", "coding", big, "llama3.2", idempotency_key="one"),
    ])
    before = ex.balance("zero").tokens
    apply_batch(ex.store, jobs)
    first, second, third, replay = jobs
    assert isinstance(first.outcome(), Charge) and isinstance(second.outcome(), Charge)
    assert second.outcome().seq == first.outcome().seq + 1
    with pytest.raises(RateLimited):
        third.outcome()
    now = before - 2 * first.outcome().amount
    assert ex.balance("zero").tokens == now
    # The replay is the first charge, marked as a replay, with the balance as it is now.
    assert replay.outcome().replayed and replay.outcome().tokens == now
    assert replace(replay.outcome(), replayed=False, tokens=first.outcome().tokens) \
        == first.outcome()
    assert [r.code for r in ex.refusals("zero")] == ["hourly_limit"]
    assert ex.doctor().healthy and ex.audit().intact


def test_the_writer_answers_each_caller_only_after_its_batch_committed(home, clock):
    """Callers queued to one writer each get their own charge, and a new connection sees
    every one of them as soon as its caller has been answered."""
    from agent_token_exchange.service.lifecycle import exchange_opener

    opener = exchange_opener(home, clock=clock)
    exchanges = [opener() for _ in range(16)]
    problems: list[str] = []

    def spend(ex, n: int) -> None:
        charge = ex.llm("zero", "coding", 100, "llama3.2", idempotency_key=f"w{n}")
        with open_exchange(home, clock=clock) as fresh:  # its own connection
            if fresh.store.transfers.get(charge.seq) is None:
                problems.append(f"seq {charge.seq} answered before it was committed")

    try:
        threads = [threading.Thread(target=spend, args=(ex, n))
                   for n, ex in enumerate(exchanges)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for ex in exchanges:
            ex.close()
        opener.close()
    assert problems == []


def test_a_database_error_in_a_batch_fails_its_own_job_only(exchange):
    """An award the database itself rejects (a balance past 64 bits), between two that fit
    in one batch: it alone fails, with the ledger's one-line error, and the others are
    charged. On PostgreSQL the batch is pipelined, so the error comes back after later
    statements were sent: it must still land on its own job, and the transaction go on."""
    ex = exchange
    for _ in range(9):  # 9e18 micro-tokens: the next trillion overflows
        ex.award("zero", "1000000000000", "test", "huge")
    before = {agent: ex.balance(agent).tokens for agent in ("claude", "zero", "builder")}
    jobs = _queued(ex, [
        lambda: ex.award("claude", "5", "test", "fits", idempotency_key="a"),
        lambda: ex.award("zero", "1000000000000", "test", "overflows", idempotency_key="b"),
        lambda: ex.award("builder", "7", "test", "fits", idempotency_key="c"),
    ])
    apply_batch(ex.store, jobs)
    first, overflow, last = jobs
    with pytest.raises(InvalidInput, match="largest balance the ledger can hold"):
        overflow.outcome()
    assert (first.outcome().amount, last.outcome().amount) == (5, 7)
    after = {agent: ex.balance(agent).tokens for agent in before}
    assert after == {"claude": before["claude"] + 5, "zero": before["zero"],
                     "builder": before["builder"] + 7}
    assert_invariants(ex)
