"""Gateway reservations: one row per metered LLM request, open while its worst case is
held, closed with what the provider reported and the transfer that charged it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class ReservationRow:
    id: int
    agent: str
    payer: str
    pool_id: str | None
    model: str
    amount: int
    input_estimate: int
    max_output: int
    estimator: str
    reserved_at: int
    hold_seq: int | None
    closed_at: int | None
    outcome: str | None
    charge_seq: int | None
    input_tokens: int | None
    output_tokens: int | None
    charged: int | None
    overrun: int | None
    provider_request_id: str | None
    latency_ms: int | None


# What an agent's draws on open pool-paid reservations hold (one parameter: the agent):
# counted, like its own holds, as consumed by every window check until they settle.
POOL_DRAWS_HELD = (
    "SELECT COALESCE(SUM(c.credited), 0) FROM reservations r "
    "JOIN pool_credits c ON c.transfer_seq = r.hold_seq "
    "WHERE r.closed_at IS NULL AND r.pool_id IS NOT NULL AND c.agent = ?"
)

_COLUMNS = (
    "id, agent, payer, pool_id, model, amount, input_estimate, max_output, estimator, "
    "reserved_at, hold_seq, closed_at, outcome, charge_seq, input_tokens, output_tokens, "
    "charged, overrun, provider_request_id, latency_ms"
)


class Reservations:
    """The ``reservations`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def open(self, *, agent: str, payer: str, pool_id: str | None, model: str, amount: int,
             input_estimate: int, max_output: int, estimator: str, at: int) -> int:
        """A new open reservation; returns its id."""
        row = self._db.one(
            "INSERT INTO reservations (agent, payer, pool_id, model, amount, input_estimate, "
            "max_output, estimator, reserved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (agent, payer, pool_id, model, amount, input_estimate, max_output, estimator, at),
        )
        assert row is not None
        return int(row[0])

    def set_hold(self, reservation_id: int, hold_seq: int) -> None:
        self._db.execute("UPDATE reservations SET hold_seq = ? WHERE id = ?",
                         (hold_seq, reservation_id))

    def get(self, reservation_id: int) -> ReservationRow | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM reservations WHERE id = ?",
                           (reservation_id,))
        return ReservationRow(*row) if row else None

    def close(self, reservation_id: int, *, at: int, outcome: str, charge_seq: int | None,
              input_tokens: int | None, output_tokens: int | None, charged: int,
              overrun: int, provider_request_id: str | None, latency_ms: int | None) -> None:
        self._db.execute(
            "UPDATE reservations SET closed_at = ?, outcome = ?, charge_seq = ?, "
            "input_tokens = ?, output_tokens = ?, charged = ?, overrun = ?, "
            "provider_request_id = ?, latency_ms = ? WHERE id = ? AND closed_at IS NULL",
            (at, outcome, charge_seq, input_tokens, output_tokens, charged, overrun,
             provider_request_id, latency_ms, reservation_id),
        )

    def open_before(self, at: int, limit: int = 1000) -> list[ReservationRow]:
        """Open reservations made at or before ``at``, oldest first."""
        return [ReservationRow(*row) for row in self._db.all(
            f"SELECT {_COLUMNS} FROM reservations WHERE closed_at IS NULL AND reserved_at <= ? "
            "ORDER BY reserved_at, id LIMIT ?", (at, limit))]

    def open_total(self, payer: str) -> int:
        """What a payer's open reservations hold together."""
        row = self._db.one("SELECT COALESCE(SUM(amount), 0) FROM reservations "
                           "WHERE closed_at IS NULL AND payer = ?", (payer,))
        return int(row[0]) if row else 0

    def pool_draws_held(self, agent: str) -> int:
        """What ``agent``'s draws on open pool-paid reservations hold (``POOL_DRAWS_HELD``)."""
        return self._db.number(POOL_DRAWS_HELD, (agent,))

    def hold_draws(self, hold_seq: int) -> dict[str, int]:
        """member -> what a pool-paid reservation's hold (transfer ``hold_seq``) drew from
        its stake."""
        return {str(agent): int(credited) for agent, credited in self._db.all(
            "SELECT agent, credited FROM pool_credits WHERE transfer_seq = ?", (hold_seq,))}

    def open_totals(self) -> dict[str, int]:
        """payer -> what its open reservations hold (doctor holds them to the accounts)."""
        return {str(payer): int(total) for payer, total in self._db.all(
            "SELECT payer, SUM(amount) FROM reservations WHERE closed_at IS NULL "
            "GROUP BY payer")}

    def by_charge(self, seqs: list[int]) -> dict[int, ReservationRow]:
        """The reservations whose charge transfers are ``seqs``, by that seq."""
        if not seqs:
            return {}
        marks = ", ".join("?" * len(seqs))
        rows: list[tuple[Any, ...]] = self._db.all(
            f"SELECT {_COLUMNS} FROM reservations WHERE charge_seq IN ({marks})", tuple(seqs))
        return {int(row[13]): ReservationRow(*row) for row in rows}

    def closed(self, limit: int = 100_000) -> list[ReservationRow]:
        """Closed reservations, newest first (the benchmark and doctor read them)."""
        return [ReservationRow(*row) for row in self._db.all(
            f"SELECT {_COLUMNS} FROM reservations WHERE closed_at IS NOT NULL "
            "ORDER BY id DESC LIMIT ?", (limit,))]

    def all(self) -> list[ReservationRow]:
        """Every reservation, open and closed, by id (an export holds them)."""
        return [ReservationRow(*row) for row in self._db.all(
            f"SELECT {_COLUMNS} FROM reservations ORDER BY id")]

    def restore(self, row: ReservationRow) -> None:
        """Write a reservation as an export holds it, with its own id (an import)."""
        marks = ", ".join("?" * len(_COLUMNS.split(", ")))
        self._db.execute(f"INSERT INTO reservations ({_COLUMNS}) VALUES ({marks})",
                         tuple(getattr(row, name) for name in _COLUMNS.split(", ")))

    def count(self) -> int:
        row = self._db.one("SELECT COUNT(*) FROM reservations")
        return int(row[0]) if row else 0
