"""Spends run on the event loop and wait for their batch without holding a thread
(server/inline_writes.py): each caller still gets its own answer, only once committed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agent_token_exchange import RateLimited, open_exchange
from agent_token_exchange.server.inline_writes import run_inline
from agent_token_exchange.service.lifecycle import exchange_opener


def test_concurrent_inline_spends_share_batches_and_each_gets_its_own_charge(home, clock):
    """Twenty spends started at once on one loop: every call runs on the loop's thread,
    the writer commits them in fewer batches than spends, each caller gets its own
    charge, and each charge is in the ledger when its caller hears of it."""
    opener = exchange_opener(home, clock=clock)
    exchanges = [opener() for _ in range(20)]
    threads: set[int] = set()
    unseen: list[int] = []

    def spend(ex, n: int):
        threads.add(threading.get_ident())
        return ex.llm("zero", "coding", 100 + n, "llama3.2")

    async def main():
        charges = await asyncio.gather(*(run_inline(lambda ex=ex, n=n: spend(ex, n))
                                         for n, ex in enumerate(exchanges)))
        with open_exchange(home, clock=clock) as fresh:  # its own connection
            unseen.extend(c.seq for c in charges if fresh.store.transfers.get(c.seq) is None)
        return charges, threading.get_ident()

    try:
        charges, loop_thread = asyncio.run(main())
        assert threads == {loop_thread}
        assert sorted(c.inference_tokens for c in charges) == list(range(100, 120))
        assert len({c.seq for c in charges}) == 20 and unseen == []
        assert opener.writer is not None and opener.writer.jobs == 20
        assert opener.writer.batches < 20
    finally:
        for ex in exchanges:
            ex.close()
        opener.close()


def test_a_refusal_inline_raises_in_its_caller_only(home, clock):
    """A spend over the burst limit, run inline beside one that fits, raises the exchange's
    own refusal for its caller while the other is charged."""
    opener = exchange_opener(home, clock=clock)
    first, second = opener(), opener()

    async def main():
        return await asyncio.gather(
            run_inline(lambda: first.llm("zero", "coding", 100, "llama3.2")),
            run_inline(lambda: second.llm("zero", "coding", 10**9, "llama3.2")),
            return_exceptions=True)

    try:
        charge, refusal = asyncio.run(main())
        assert charge.inference_tokens == 100
        assert isinstance(refusal, RateLimited) and refusal.code == "burst_limit"
    finally:
        first.close()
        second.close()
        opener.close()


def test_a_cancelled_request_still_finishes_its_write_then_is_cancelled(home, clock):
    """A request cancelled while its spend waits for the batch: the spend is committed and
    the call runs to its end (nothing left half-done in a greenlet), and the request
    then ends cancelled."""
    opener = exchange_opener(home, clock=clock)
    ex = opener()
    finished: list[int] = []

    def spend():
        charge = ex.llm("zero", "coding", 100, "llama3.2")
        finished.append(charge.seq)
        return charge

    async def main():
        task = asyncio.create_task(run_inline(spend))
        await asyncio.sleep(0)  # the call runs until it waits for its batch
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        before = ex.balance("zero").spent
        asyncio.run(main())
        assert len(finished) == 1
        with open_exchange(home, clock=clock) as fresh:
            assert fresh.balance("zero").spent > before
            assert fresh.store.transfers.get(finished[0]) is not None
    finally:
        ex.close()
        opener.close()
