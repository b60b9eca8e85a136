"""Figures recomputed from the transfer log alone, for doctor to hold the cached ones
against (``doctor --fix`` then writes them back through ``store.accounts``,
``store.pools`` and ``store.windows``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..economy.accounts import Kind, figures_moved

if TYPE_CHECKING:
    from .store import Store


class Repair:
    """Doctor's reads over the transfer log."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def account_figures(self) -> dict[str, tuple[int, int, int]]:
        """name -> (balance, earned, spent) recomputed from the transfer log alone."""
        figures: dict[str, list[int]] = {}
        for name, kind, incoming in self._db.all(
            "SELECT destination, kind, SUM(amount) FROM transfers GROUP BY destination, kind"
        ):
            _, earned, spent = figures_moved(kind, int(incoming))
            entry = figures.setdefault(name, [0, 0, 0])
            entry[0] += int(incoming)
            entry[1] += earned
            entry[2] += spent
        for name, kind, outgoing in self._db.all(
            "SELECT source, kind, SUM(amount) FROM transfers GROUP BY source, kind"
        ):
            spent, _, _ = figures_moved(kind, int(outgoing))
            entry = figures.setdefault(name, [0, 0, 0])
            entry[0] -= int(outgoing)
            entry[2] += spent
        return {name: (b, e, s) for name, (b, e, s) in figures.items()}

    def contributions(self) -> dict[tuple[str, str], int]:
        """(pool id, agent) -> total contributed, from the transfer log."""
        return {
            (pool_id, source.removeprefix("agent:")): int(total)
            for pool_id, source, total in self._db.all(
                "SELECT pool_id, source, SUM(amount) FROM transfers WHERE kind = ? "
                "GROUP BY pool_id, source",
                (Kind.POOL_CONTRIBUTION.value,),
            )
        }

    def transfer_keys(self) -> dict[str, int]:
        """idempotency key -> first transfer seq carrying it."""
        return {
            key: int(seq)
            for key, seq in self._db.all(
                "SELECT idempotency_key, MIN(seq) FROM transfers "
                "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key"
            )
        }

    def inference_spends(self) -> list[tuple[int, int, str, int]]:
        """(seq, at, agent account, amount) of every direct inference spend, in order."""
        return [
            (int(s), int(a), src, int(m))
            for s, a, src, m in self._db.all(
                "SELECT seq, at, source, amount FROM transfers WHERE kind = ? ORDER BY seq",
                (Kind.INFERENCE.value,),
            )
        ]

    def pool_draws(self) -> list[tuple[int, int, str, int]]:
        """(seq, at, agent account, amount) of every pool draw counted as its member's
        consumption, in order: with ``inference_spends``, every row the windows hold."""
        return [
            (int(s), int(a), f"agent:{agent}", int(m))
            for s, a, agent, m in self._db.all(
                "SELECT t.seq, t.at, c.agent, c.credited FROM pool_credits c "
                "JOIN transfers t ON t.seq = c.transfer_seq "
                "WHERE c.consumed = 1 AND c.credited > 0 ORDER BY t.seq",
            )
        ]
