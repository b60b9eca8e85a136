"""The ledger's storage: one small interface over a SQL database.

Every method runs inside a transaction that ``exchange.py`` opens with
``store.transaction()``; the store never decides anything, it reads and writes rows.
SQL here is plain enough for SQLite and PostgreSQL; placeholders are written ``?``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..economy.accounts import (
    EARNING_KINDS,
    REFUND_KINDS,
    SPENDING_KINDS,
    Kind,
)
from ..errors import InvalidInput
from .api_keys import ApiKeyQueries
from .chain import HASHED_FIELDS, transfer_hash
from .derived import DerivedFigures


@dataclass(frozen=True)
class Account:
    name: str
    kind: str
    balance: int
    earned: int
    spent: int


@dataclass(frozen=True)
class Transfer:
    seq: int
    at: int
    kind: str
    source: str
    destination: str
    amount: int
    description: str
    project: str | None
    model: str | None
    inference_tokens: int | None
    pool_id: str | None
    idempotency_key: str | None
    hash: str | None = None  # the audit chain's hash (ledger/chain.py)


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    request_hash: str
    outcome: str
    result: dict[str, Any]


@dataclass(frozen=True)
class PoolRow:
    id: str
    number: int
    name: str
    creator: str
    min_contribution: int
    created_at: int
    dissolved_at: int | None


@dataclass(frozen=True)
class MemberRow:
    agent: str
    joined_at: int
    contributed: int


@dataclass(frozen=True)
class RefusalRow:
    seq: int
    at: int
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: int | None


# The largest figure a 64-bit column holds. Single amounts are far smaller (money.MAX_MICRO),
# but a balance or the mint's running total could still reach it after enough of them.
MAX_LEDGER_INT = 2**63 - 1
OVERFLOW_MESSAGE = (
    "this would take {account} past the largest balance the ledger can hold "
    "(about 9.2 trillion tokens); nothing was changed"
)

_TRANSFER_COLUMNS = (
    "seq, at, kind, source, destination, amount, description, project, model, "
    "inference_tokens, pool_id, idempotency_key, hash"
)


class Store(DerivedFigures, ApiKeyQueries):
    """SQL shared by every backend. Subclasses provide the connection and transactions."""

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        raise NotImplementedError

    # Each backend names how it begins a write (serialised against other writers) and a
    # read (one consistent view), and how it rolls back.
    BEGIN_WRITE = "BEGIN"
    BEGIN_READ = "BEGIN"
    _in_transaction = False

    def _rollback(self) -> None:
        """Roll back, tolerating a transaction the database has already ended."""
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: commit on success, roll back on any exception."""
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        self._execute(self.BEGIN_WRITE)
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self._execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        finally:
            self._in_transaction = False

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A consistent read across several queries (inside a transaction: that one)."""
        if self._in_transaction:
            yield
            return
        self._execute(self.BEGIN_READ)
        self._in_transaction = True
        try:
            yield
        finally:
            self._in_transaction = False
            self._rollback()  # nothing was written: ending a read is a rollback

    def close(self) -> None:
        raise NotImplementedError

    # Concurrency. SQLite's BEGIN IMMEDIATE already admits one writer at a time, so these
    # are no-ops there; PostgreSQL locks rows (see ledger/postgres.py).
    def lock_accounts(self, names: Iterable[str]) -> None:
        """Lock these accounts until the transaction ends, always in the same order."""

    def should_retry(self, exc: BaseException) -> bool:
        """Whether the database aborted a transaction that may simply run again."""
        return False

    # Savepoints let an operation undo its own writes on a refusal and still commit the
    # refusal event in the same transaction.
    def savepoint(self, name: str) -> None:
        self._execute(f"SAVEPOINT {name}")

    def rollback_to(self, name: str) -> None:
        self._execute(f"ROLLBACK TO SAVEPOINT {name}")
        self._execute(f"RELEASE SAVEPOINT {name}")

    def release(self, name: str) -> None:
        self._execute(f"RELEASE SAVEPOINT {name}")

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        return self._execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self._execute(sql, params).fetchall())

    # -- accounts -----------------------------------------------------------------------

    def account(self, name: str) -> Account | None:
        row = self._one(
            "SELECT name, kind, balance, earned, spent FROM accounts WHERE name = ?", (name,)
        )
        return Account(*row) if row else None

    def accounts(self, kind: str | None = None) -> list[Account]:
        if kind is None:
            rows = self._all(
                "SELECT name, kind, balance, earned, spent FROM accounts ORDER BY name"
            )
        else:
            rows = self._all(
                "SELECT name, kind, balance, earned, spent FROM accounts WHERE kind = ? "
                "ORDER BY name",
                (kind,),
            )
        return [Account(*row) for row in rows]

    def create_account(self, name: str, kind: str, at: int) -> bool:
        """Create the account unless it exists; True if this call created it."""
        cursor = self._execute(
            "INSERT INTO accounts (name, kind, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (name, kind, at),
        )
        return bool(cursor.rowcount == 1)

    # -- transfers ----------------------------------------------------------------------

    def post_transfer(
        self,
        *,
        at: int,
        kind: Kind,
        source: str,
        destination: str,
        amount: int,
        description: str = "",
        project: str | None = None,
        model: str | None = None,
        inference_tokens: int | None = None,
        pool_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Append one transfer, chained to the one before, and move both cached balances;
        returns its sequence number.

        The chain's head row gives the next seq and the previous hash in one primary-key
        lookup; updating it first also serialises writers on a server database, so the
        chain stays linear and seq has no gaps."""
        row = self._one(
            "UPDATE ledger_head SET last_seq = last_seq + 1 WHERE id = 1 "
            "RETURNING last_seq, last_hash"
        )
        assert row is not None, "ledger_head is missing: the schema is older than v3"
        fields = {
            "seq": int(row[0]), "at": at, "kind": kind.value, "source": source,
            "destination": destination, "amount": amount, "description": description,
            "project": project, "model": model, "inference_tokens": inference_tokens,
            "pool_id": pool_id, "idempotency_key": idempotency_key,
        }
        self._append_transfer(fields, transfer_hash(row[1], fields))
        self._move_balances(kind, source, destination, amount)
        return int(row[0])

    def _move_balances(self, kind: Kind, source: str, destination: str, amount: int) -> None:
        """Move both cached balances (and earned/spent) for one transfer."""
        spent = amount if kind in SPENDING_KINDS else 0
        earned = amount if kind in EARNING_KINDS else 0
        refunded = amount if kind in REFUND_KINDS else 0
        for name, row in (
            (source, self._one(
                "UPDATE accounts SET balance = balance - ?, spent = spent + ? WHERE name = ? "
                "RETURNING balance, earned, spent", (amount, spent, source))),
            (destination, self._one(
                "UPDATE accounts SET balance = balance + ?, earned = earned + ?, "
                "spent = spent - ? WHERE name = ? RETURNING balance, earned, spent",
                (amount, earned, refunded, destination))),
        ):
            # SQLite turns an integer that overflows 64 bits into a float without a word;
            # refuse the transfer (the caller's transaction rolls back) rather than keep it.
            if row is None or not all(type(v) is int and abs(v) <= MAX_LEDGER_INT for v in row):
                raise InvalidInput(OVERFLOW_MESSAGE.format(account=name))

    def _append_transfer(self, fields: dict[str, Any], digest: str) -> None:
        columns = ", ".join(HASHED_FIELDS)
        self._execute(
            f"INSERT INTO transfers ({columns}, hash) "
            f"VALUES ({', '.join('?' * (len(HASHED_FIELDS) + 1))})",
            (*(fields[name] for name in HASHED_FIELDS), digest),
        )
        self._execute(
            "UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1",
            (fields["seq"], digest),
        )

    def restart_numbering(self) -> None:
        """After rows were written with explicit ids (an import), make the database's own
        numbering continue after them. SQLite's AUTOINCREMENT does so by itself. A backend
        with identity columns overrides this for ``refusals.seq`` (transfers take their
        numbers from ``ledger_head``), e.g. on PostgreSQL:
        ``SELECT setval(pg_get_serial_sequence('refusals', 'seq'), MAX(seq)) FROM refusals``
        when there are refusals."""

    def ledger_head(self) -> tuple[int, str]:
        """(seq, hash) of the newest transfer; (0, GENESIS) for an empty ledger."""
        row = self._one("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1")
        assert row is not None, "ledger_head is missing: the schema is older than v3"
        return int(row[0]), str(row[1])

    def transfers_for(self, account: str, limit: int) -> list[Transfer]:
        """The newest ``limit`` transfers touching an account, newest first."""
        rows = self._all(
            f"SELECT {_TRANSFER_COLUMNS} FROM ("
            f" SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE source = ?"
            f" UNION ALL"
            f" SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE destination = ?"
            f") AS both_sides ORDER BY seq DESC LIMIT ?",
            (account, account, limit),
        )
        return [Transfer(*row) for row in rows]

    def transfers(self, after_seq: int = 0, limit: int | None = None) -> list[Transfer]:
        sql = f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE seq > ? ORDER BY seq"
        params: tuple[Any, ...] = (after_seq,)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [Transfer(*row) for row in self._all(sql, params)]

    def transfer(self, seq: int) -> Transfer | None:
        row = self._one(f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE seq = ?", (seq,))
        return Transfer(*row) if row else None

    def last_seq(self) -> int:
        row = self._one("SELECT COALESCE(MAX(seq), 0) FROM transfers")
        return int(row[0]) if row else 0

    # -- consumption windows --------------------------------------------------------------

    def latest_consumption(self, agent: str) -> tuple[int, int]:
        """(time, cumulative) of the agent's latest consumption, or (0, 0)."""
        row = self._one(
            "SELECT at, cumulative FROM consumption WHERE agent = ? "
            "ORDER BY cumulative DESC LIMIT 1",
            (agent,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def cumulative_at(self, agent: str, at: int) -> int:
        """The agent's cumulative consumption as of time ``at`` (inclusive)."""
        row = self._one(
            "SELECT cumulative FROM consumption WHERE agent = ? AND at <= ? "
            "ORDER BY at DESC, cumulative DESC LIMIT 1",
            (agent, at),
        )
        return int(row[0]) if row else 0

    def record_consumption(
        self, agent: str, at: int, amount: int, cumulative: int, transfer_seq: int
    ) -> None:
        self._execute(
            "INSERT INTO consumption (agent, at, cumulative, amount, transfer_seq) "
            "VALUES (?, ?, ?, ?, ?)",
            (agent, at, cumulative, amount, transfer_seq),
        )

    def consumption_rows(self, agent: str) -> list[tuple[int, int, int]]:
        """(at, amount, cumulative) for every consumption of an agent, oldest first."""
        return [
            (int(a), int(b), int(c))
            for a, b, c in self._all(
                "SELECT at, amount, cumulative FROM consumption WHERE agent = ? "
                "ORDER BY cumulative",
                (agent,),
            )
        ]

    # -- refusals -------------------------------------------------------------------------

    def record_refusal(
        self,
        *,
        at: int,
        agent: str | None,
        pool_id: str | None,
        operation: str,
        code: str,
        message: str,
        amount: int | None,
    ) -> None:
        self._execute(
            "INSERT INTO refusals (at, agent, pool_id, operation, code, message, amount) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, agent, pool_id, operation, code, message, amount),
        )

    def refusals(self, agent: str | None = None, limit: int = 20) -> list[RefusalRow]:
        if agent is None:
            rows = self._all(
                "SELECT seq, at, agent, pool_id, operation, code, message, amount "
                "FROM refusals ORDER BY seq DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = self._all(
                "SELECT seq, at, agent, pool_id, operation, code, message, amount "
                "FROM refusals WHERE agent = ? ORDER BY seq DESC LIMIT ?",
                (agent, limit),
            )
        return [RefusalRow(*row) for row in rows]

    def refusal_count(self, agent: str, since: int) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM refusals WHERE agent = ? AND at > ?", (agent, since)
        )
        return int(row[0]) if row else 0

    # -- idempotency ----------------------------------------------------------------------

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        row = self._one(
            "SELECT key, request_hash, outcome, result FROM idempotency WHERE key = ?", (key,)
        )
        if row is None:
            return None
        return IdempotencyRecord(row[0], row[1], row[2], json.loads(row[3]))

    def save_idempotency(
        self,
        key: str,
        request_hash: str,
        outcome: str,
        result: dict[str, Any],
        first_seq: int | None,
        at: int,
    ) -> None:
        self._execute(
            "INSERT INTO idempotency (key, request_hash, outcome, result, first_seq, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key, request_hash, outcome, json.dumps(result, sort_keys=True), first_seq, at),
        )

    def idempotency_keys(self) -> list[tuple[str, str, int | None]]:
        return [
            (k, o, s)
            for k, o, s in self._all("SELECT key, outcome, first_seq FROM idempotency ORDER BY key")
        ]

    # -- pools ----------------------------------------------------------------------------

    def next_pool_number(self) -> int:
        row = self._one("SELECT COALESCE(MAX(number), 0) + 1 FROM pools")
        return int(row[0]) if row else 1

    def create_pool(
        self, pool_id: str, number: int, name: str, creator: str, min_contribution: int, at: int
    ) -> None:
        self._execute(
            "INSERT INTO pools (id, number, name, creator, min_contribution, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (pool_id, number, name, creator, min_contribution, at),
        )

    def pool(self, pool_id: str) -> PoolRow | None:
        row = self._one(
            "SELECT id, number, name, creator, min_contribution, created_at, dissolved_at "
            "FROM pools WHERE id = ?",
            (pool_id,),
        )
        return PoolRow(*row) if row else None

    def pools(self) -> list[PoolRow]:
        rows = self._all(
            "SELECT id, number, name, creator, min_contribution, created_at, dissolved_at "
            "FROM pools ORDER BY number"
        )
        return [PoolRow(*row) for row in rows]

    def pool_members(self, pool_id: str) -> list[MemberRow]:
        rows = self._all(
            "SELECT agent, joined_at, contributed FROM pool_members WHERE pool_id = ? "
            "ORDER BY joined_at, agent",
            (pool_id,),
        )
        return [MemberRow(*row) for row in rows]

    def add_pool_member(self, pool_id: str, agent: str, at: int) -> None:
        self._execute(
            "INSERT INTO pool_members (pool_id, agent, joined_at) VALUES (?, ?, ?) "
            "ON CONFLICT (pool_id, agent) DO NOTHING",
            (pool_id, agent, at),
        )

    def add_contribution(self, pool_id: str, agent: str, amount: int) -> None:
        self._execute(
            "UPDATE pool_members SET contributed = contributed + ? WHERE pool_id = ? AND agent = ?",
            (amount, pool_id, agent),
        )

    def record_pool_credit(self, seq: int, agent: str, contributed: int, credited: int) -> None:
        self._execute(
            "INSERT INTO pool_credits (transfer_seq, agent, contributed, credited) "
            "VALUES (?, ?, ?, ?)",
            (seq, agent, contributed, credited),
        )

    def pool_credits(self, pool_id: str) -> list[tuple[int, str, int, int]]:
        """(transfer seq, agent, contributed then, credited) for every spend of a pool."""
        return [
            (int(s), a, int(c), int(cr))
            for s, a, c, cr in self._all(
                "SELECT c.transfer_seq, c.agent, c.contributed, c.credited "
                "FROM pool_credits c JOIN transfers t ON t.seq = c.transfer_seq "
                "WHERE t.pool_id = ? ORDER BY c.transfer_seq, c.agent",
                (pool_id,),
            )
        ]

    def mark_pool_dissolved(self, pool_id: str, at: int) -> None:
        self._execute("UPDATE pools SET dissolved_at = ? WHERE id = ?", (at, pool_id))

    # -- refusals as a stream (live events) ---------------------------------------------

    def refusals_after(self, after_seq: int, limit: int) -> list[RefusalRow]:
        rows = self._all(
            "SELECT seq, at, agent, pool_id, operation, code, message, amount "
            "FROM refusals WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        return [RefusalRow(*row) for row in rows]

    def last_refusal_seq(self) -> int:
        row = self._one("SELECT COALESCE(MAX(seq), 0) FROM refusals")
        return int(row[0]) if row else 0
