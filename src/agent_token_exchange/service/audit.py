"""Audit: recompute the hash chain over the transfer log and name the first transfer
that no longer matches it.

Each transfer's hash covers the previous hash and the transfer's own fields
(``ledger/chain.py``). Verification walks the log in order, recomputing every hash from
the genesis value; the first transfer whose stored hash differs from the recomputed one
is the first one altered (or the first after a removed one). An editor who rewrites a
transfer *and* every later hash leaves a chain that verifies; to catch that, keep the
head hash that ``audit verify`` prints somewhere the editor cannot reach and pass it
back with ``--expect-head``: it must still be the hash of some transfer in the chain.
"""

from __future__ import annotations

from ..economy.records import AuditReport
from ..ledger import Store
from ..ledger.chain import GENESIS, HASHED_FIELDS, transfer_hash

PAGE = 5_000


def verify_chain(store: Store, *, expect_head: str | None = None) -> AuditReport:
    """Recompute the chain over every transfer (the caller holds a snapshot)."""
    previous, expected_seq, count = GENESIS, 1, 0
    after = 0
    seen: set[str] = {GENESIS}
    while True:
        page = store.transfers.after(after, PAGE)
        if not page:
            break
        for transfer in page:
            count += 1
            if transfer.seq != expected_seq:
                return _broken(count - 1, previous, expected_seq,
                               f"transfer #{expected_seq} is missing (the next is "
                               f"#{transfer.seq}): a transfer was removed")
            if transfer.hash is None:
                return _broken(count, previous, transfer.seq,
                               f"transfer #{transfer.seq} has no hash: it was written "
                               "without the audit chain")
            fields = {name: getattr(transfer, name) for name in HASHED_FIELDS}
            digest = transfer_hash(previous, fields)
            if digest != transfer.hash:
                return _broken(count, previous, transfer.seq,
                               f"transfer #{transfer.seq} was altered: its contents or "
                               "hash no longer match the chain")
            previous, expected_seq = digest, expected_seq + 1
            if digest == expect_head:
                seen.add(digest)
        after = page[-1].seq
    last = expected_seq - 1
    head_seq, head_hash = store.transfers.head()
    if (head_seq, head_hash) != (last, previous):
        return AuditReport(False, count, last, previous, min(head_seq, last) + 1,
                           f"the chain's head says #{head_seq} but the log ends at #{last}: "
                           "transfers were removed or added behind the exchange's back")
    if expect_head is not None and expect_head not in seen:
        return AuditReport(False, count, last, previous, None,
                           f"no transfer carries the expected hash {expect_head[:16]}…: the "
                           "log was rewritten since that hash was noted")
    return AuditReport(True, count, last, previous)


def _broken(count: int, previous: str, seq: int, problem: str) -> AuditReport:
    return AuditReport(False, count, seq - 1, previous, seq, problem)
