"""Figures recomputed from the transfer log alone, for doctor to hold the cached ones
against (and for ``doctor --fix`` to rebuild them from). A part of ``Store``."""

from __future__ import annotations

from typing import Any

from ..economy.accounts import EARNING_SQL, REFUND_SQL, SPENDING_SQL, Kind


class DerivedFigures:
    """Doctor's queries. Mixed into Store, whose ``_all``/``_execute`` they use."""

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        raise NotImplementedError

    def derived_account_figures(self) -> dict[str, tuple[int, int, int]]:
        """name -> (balance, earned, spent) recomputed from the transfer log alone."""
        figures: dict[str, list[int]] = {}
        for name, incoming, earned, refunded in self._all(
            "SELECT destination, SUM(amount), "
            f"SUM(CASE WHEN kind IN ({EARNING_SQL}) THEN amount ELSE 0 END), "
            f"SUM(CASE WHEN kind IN ({REFUND_SQL}) THEN amount ELSE 0 END) "
            "FROM transfers GROUP BY destination"
        ):
            entry = figures.setdefault(name, [0, 0, 0])
            entry[0] += int(incoming)
            entry[1] += int(earned)
            entry[2] -= int(refunded)
        for name, outgoing, spent in self._all(
            "SELECT source, SUM(amount), "
            f"SUM(CASE WHEN kind IN ({SPENDING_SQL}) THEN amount ELSE 0 END) "
            "FROM transfers GROUP BY source"
        ):
            entry = figures.setdefault(name, [0, 0, 0])
            entry[0] -= int(outgoing)
            entry[2] += int(spent)
        return {name: (b, e, s) for name, (b, e, s) in figures.items()}

    def derived_contributions(self) -> dict[tuple[str, str], int]:
        """(pool id, agent) -> total contributed, from the transfer log."""
        return {
            (pool_id, source.removeprefix("agent:")): int(total)
            for pool_id, source, total in self._all(
                "SELECT pool_id, source, SUM(amount) FROM transfers WHERE kind = ? "
                "GROUP BY pool_id, source",
                (Kind.POOL_CONTRIBUTION.value,),
            )
        }

    def all_pool_members(self) -> list[tuple[str, str, int]]:
        return [
            (p, a, int(c))
            for p, a, c in self._all("SELECT pool_id, agent, contributed FROM pool_members")
        ]

    def set_account_figures(self, name: str, balance: int, earned: int, spent: int) -> None:
        self._execute(
            "UPDATE accounts SET balance = ?, earned = ?, spent = ? WHERE name = ?",
            (balance, earned, spent, name),
        )

    def set_contribution(self, pool_id: str, agent: str, contributed: int) -> None:
        self._execute(
            "UPDATE pool_members SET contributed = ? WHERE pool_id = ? AND agent = ?",
            (contributed, pool_id, agent),
        )

    def transfer_keys(self) -> dict[str, int]:
        """idempotency key -> first transfer seq carrying it."""
        return {
            key: int(seq)
            for key, seq in self._all(
                "SELECT idempotency_key, MIN(seq) FROM transfers "
                "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key"
            )
        }

    def inference_transfers(self) -> list[tuple[int, int, str, int]]:
        """(seq, at, agent account, amount) of every direct inference spend, in order."""
        return [
            (int(s), int(a), src, int(m))
            for s, a, src, m in self._all(
                "SELECT seq, at, source, amount FROM transfers WHERE kind = ? ORDER BY seq",
                (Kind.INFERENCE.value,),
            )
        ]

    def rebuild_consumption(self, agent: str, spends: list[tuple[int, int, int]]) -> None:
        """Replace an agent's consumption rows with ones derived from its inference
        transfers, given as (seq, at, amount) in order."""
        self._execute("DELETE FROM consumption WHERE agent = ?", (agent,))
        cumulative = 0
        for seq, at, amount in spends:
            cumulative += amount
            self.record_consumption(agent, at, amount, cumulative, seq)
