"""Futures on work: one row per future (``futures``), with the two lookups the market
needs cheap: what has fallen due (by status and deadline) and a seller's accepted futures
(by seller and status), which every paid commit and issue asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class FutureRow:
    id: str
    number: int
    buyer: str
    work: str
    work_kind: str
    work_target: str
    price: int
    collateral: int
    deadline: int
    named_seller: str | None
    seller: str | None
    status: str
    created_at: int
    accepted_at: int | None
    closed_at: int | None
    proof: str | None


_COLUMNS = ("id, number, buyer, work, work_kind, work_target, price, collateral, deadline, "
            "named_seller, seller, status, created_at, accepted_at, closed_at, proof")


def _row(row: tuple) -> FutureRow:
    (fid, number, buyer, work, kind, target, price, collateral, deadline, named, seller,
     status, created, accepted, closed, proof) = row
    return FutureRow(fid, int(number), buyer, work, kind, target, int(price), int(collateral),
                     int(deadline), named, seller, status, int(created),
                     None if accepted is None else int(accepted),
                     None if closed is None else int(closed), proof)


class Futures:
    """The ``futures`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def next_number(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(number), 0) + 1 FROM futures")

    def create(self, row: FutureRow) -> None:
        self._db.execute(
            f"INSERT INTO futures ({_COLUMNS}) VALUES ({', '.join('?' * 16)})",
            (row.id, row.number, row.buyer, row.work, row.work_kind, row.work_target,
             row.price, row.collateral, row.deadline, row.named_seller, row.seller,
             row.status, row.created_at, row.accepted_at, row.closed_at, row.proof))

    def get(self, future_id: str) -> FutureRow | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM futures WHERE id = ?", (future_id,))
        return _row(row) if row else None

    def all(self) -> list[FutureRow]:
        return [_row(r) for r in self._db.all(f"SELECT {_COLUMNS} FROM futures ORDER BY number")]

    def involving(self, agent: str) -> list[FutureRow]:
        """The futures ``agent`` bought, sold, or is the named seller of, by number."""
        return [_row(r) for r in self._db.all(
            f"SELECT {_COLUMNS} FROM futures WHERE buyer = ? OR seller = ? OR named_seller = ? "
            "ORDER BY number", (agent, agent, agent))]

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM futures")

    def due(self, now: int, limit: int = 500) -> list[FutureRow]:
        """Open or accepted futures whose deadline is at or before ``now``, oldest deadline
        first (the ``futures_due`` index: nothing due is one index probe per status)."""
        rows = self._db.all(
            f"SELECT {_COLUMNS} FROM futures WHERE status IN ('open', 'accepted') "
            "AND deadline <= ? ORDER BY deadline, number LIMIT ?", (now, limit))
        return [_row(r) for r in rows]

    def accepted_by(self, seller: str, work_kind: str) -> list[FutureRow]:
        """The seller's accepted futures on work of one kind (``futures_by_seller``)."""
        rows = self._db.all(
            f"SELECT {_COLUMNS} FROM futures WHERE seller = ? AND status = 'accepted' "
            "AND work_kind = ? ORDER BY number", (seller, work_kind))
        return [_row(r) for r in rows]

    def accept(self, future_id: str, seller: str, at: int) -> None:
        self._db.execute(
            "UPDATE futures SET status = 'accepted', seller = ?, accepted_at = ? "
            "WHERE id = ? AND status = 'open'", (seller, at, future_id))

    def close(self, future_id: str, status: str, at: int, proof: str | None = None) -> None:
        """Move a live future to its final ``status``."""
        self._db.execute(
            "UPDATE futures SET status = ?, closed_at = ?, proof = ? "
            "WHERE id = ? AND status IN ('open', 'accepted')", (status, at, proof, future_id))
