"""Accounts: each one's cached balance and derived figures (earned, spent), moved in the
same transaction as the transfer that moves them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..economy.accounts import Kind, figures_moved
from ..errors import InvalidInput

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class Account:
    name: str
    kind: str
    balance: int
    earned: int
    spent: int


@dataclass(frozen=True)
class AccountRow:
    """An account with when it was opened, as a ledger dump holds it."""

    name: str
    kind: str
    created_at: int
    balance: int
    earned: int
    spent: int


# The largest figure a 64-bit column holds. Single amounts are far smaller (money.MAX_MICRO),
# but a balance or the mint's running total could still reach it after enough of them.
MAX_LEDGER_INT = 2**63 - 1
OVERFLOW_MESSAGE = (
    "this would take {account} past the largest balance the ledger can hold "
    "(about 9.2 trillion tokens); nothing was changed"
)

_COLUMNS = "name, kind, balance, earned, spent"

# One transfer's move of both accounts: (source, -amount, amount, source, earned, source,
# source_spent, destination_spent, source, destination).
_MOVE = (
    "UPDATE accounts SET "
    "balance = balance + (CASE WHEN name = ? THEN ? ELSE ? END), "
    "earned = earned + (CASE WHEN name = ? THEN 0 ELSE ? END), "
    "spent = spent + (CASE WHEN name = ? THEN ? ELSE ? END) "
    "WHERE name IN (?, ?) RETURNING name, balance, earned, spent"
)


class Accounts:
    """The ``accounts`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def get(self, name: str) -> Account | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM accounts WHERE name = ?", (name,))
        return Account(*row) if row else None

    def all(self, kind: str | None = None) -> list[Account]:
        if kind is None:
            rows = self._db.all(f"SELECT {_COLUMNS} FROM accounts ORDER BY name")
        else:
            rows = self._db.all(
                f"SELECT {_COLUMNS} FROM accounts WHERE kind = ? ORDER BY name", (kind,))
        return [Account(*row) for row in rows]

    def rows(self) -> list[AccountRow]:
        """Every account with its opening time, sorted by name (by code point)."""
        return sorted((
            AccountRow(n, k, int(c), int(b), int(e), int(s))
            for n, k, c, b, e, s in self._db.all(
                "SELECT name, kind, created_at, balance, earned, spent FROM accounts")
        ), key=lambda a: a.name)

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM accounts")

    def create(self, name: str, kind: str, at: int) -> bool:
        """Create the account unless it exists; True if this call created it."""
        cursor = self._db.execute(
            "INSERT INTO accounts (name, kind, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (name, kind, at),
        )
        return bool(cursor.rowcount == 1)

    def move(self, kind: Kind | str, source: str, destination: str, amount: int) -> None:
        """Move both cached balances (and earned/spent) for one transfer."""
        source_spent, earned, destination_spent = figures_moved(kind, amount)
        # Both sides in one statement (the spend path counts its statements).
        rows = self._db.all(_MOVE, (source, -amount, amount, source, earned, source,
                                    source_spent, destination_spent, source, destination))
        moved = {row[0]: row[1:] for row in rows}
        for name in (source, destination):
            row = moved.get(name)
            # SQLite turns an integer that overflows 64 bits into a float without a word;
            # refuse the transfer (the caller's transaction rolls back) rather than keep it.
            if row is None or not all(type(v) is int and abs(v) <= MAX_LEDGER_INT for v in row):
                raise InvalidInput(OVERFLOW_MESSAGE.format(account=name))

    def set_figures(self, name: str, balance: int, earned: int, spent: int) -> None:
        """Overwrite the cached figures (doctor --fix, after deriving them)."""
        self._db.execute(
            "UPDATE accounts SET balance = ?, earned = ?, spent = ? WHERE name = ?",
            (balance, earned, spent, name),
        )
