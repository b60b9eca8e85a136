"""Delivery of futures by the work itself: called by ``service/earning.py`` inside the
very transaction that pays a seller for a commit or a closed issue, so the payment and the
collateral's return commit together or not at all.

Kept apart from ``service/futures.py`` and light to import: the git hook's path loads it
on every commit. With no accepted future for the payee it costs one indexed query."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..economy import future_rules as fr
from ..economy.accounts import Kind, future_escrow, wallet

if TYPE_CHECKING:
    from ..ledger.futures import FutureRow
    from .operations import Core


def deliver_for_issue(core: Core, seller: str, issue_id: str, now: int) -> list[str]:
    """Deliver the seller's accepted ``bd:<issue_id>`` futures; returns their ids."""
    return _deliver(core, seller, fr.BD, now, f"issue {issue_id} paid to {seller}",
                    lambda row: fr.delivered_by_issue(_work(row), issue_id))


def deliver_for_commit(core: Core, seller: str, project: str, sha: str | None,
                       now: int) -> list[str]:
    """Deliver the seller's accepted ``commit:<pattern>`` futures whose pattern fully
    matches ``project``; returns their ids."""
    commit = f"commit {sha[:12]}" if sha else "a commit"
    return _deliver(core, seller, fr.COMMIT, now, f"{commit} to {project} paid to {seller}",
                    lambda row: fr.delivered_by_commit(_work(row), project))


def _work(row: FutureRow) -> fr.Work:
    return fr.Work(row.work_kind, row.work_target)


def _deliver(core: Core, seller: str, kind: str, now: int, proof: str,
             matches: Callable[[FutureRow], bool]) -> list[str]:
    store = core.store
    found = [row for row in store.futures.accepted_by(seller, kind)
             if fr.can_deliver(row.status, row.deadline, now) and matches(row)]
    if not found:
        return []
    # The escrows, locked now (the payment's own accounts are locked already); then each
    # future read again: a settle that failed it meanwhile has closed it.
    store.lock_accounts(future_escrow(row.id) for row in found)
    delivered = []
    for row in found:
        fresh = store.futures.get(row.id)
        if fresh is None or not fr.can_deliver(fresh.status, fresh.deadline, now):
            continue
        store.transfers.post(
            at=now, kind=Kind.FUTURE_RETURN, source=future_escrow(row.id),
            destination=wallet(seller), amount=fresh.collateral,
            description=f"collateral of {row.id} returned: delivered by {proof}")
        store.futures.close(row.id, fr.DELIVERED, now, proof)
        delivered.append(row.id)
    return delivered
