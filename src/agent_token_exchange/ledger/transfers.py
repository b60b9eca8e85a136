"""Transfers: the append-only, hash-chained log every balance is derived from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..economy.accounts import Kind
from ..money import micro, tokens
from .chain import GENESIS, HASHED_FIELDS, transfer_hash

if TYPE_CHECKING:
    from ..economy.records import LedgerTransfer
    from .store import Store


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


_COLUMNS = (
    "seq, at, kind, source, destination, amount, description, project, model, "
    "inference_tokens, pool_id, idempotency_key, hash"
)


_INSERT = (f"INSERT INTO transfers ({', '.join(HASHED_FIELDS)}, hash) "
           f"VALUES ({', '.join('?' * (len(HASHED_FIELDS) + 1))})")


class Transfers:
    """The ``transfers`` table and the chain's head (``ledger_head``)."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def post(
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

        The transaction's head (``Store.chain_head``: read once, with the head row locked
        on a server database, so the chain stays linear and seq has no gaps) gives the
        next seq and the previous hash; the head is written once, at commit."""
        last_seq, previous = self._db.chain_head()
        seq = last_seq + 1
        fields = {
            "seq": seq, "at": at, "kind": kind.value, "source": source,
            "destination": destination, "amount": amount, "description": description,
            "project": project, "model": model, "inference_tokens": inference_tokens,
            "pool_id": pool_id, "idempotency_key": idempotency_key,
        }
        self.append(fields, transfer_hash(previous, fields))
        self._db.accounts.move(kind, source, destination, amount)
        return seq

    def append(self, fields: dict[str, Any], digest: str) -> None:
        """Insert one transfer whose seq and hash are already known, and move the head to
        it. Balances are the caller's (``post``, or an import that moves them itself)."""
        self._db.execute(_INSERT, (*(fields[name] for name in HASHED_FIELDS), digest))
        self._db.advance_head(int(fields["seq"]), digest)

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest transfer; (0, GENESIS) for an empty ledger."""
        txn = self._db._txn
        if txn is not None and txn.head is not None:
            return txn.head
        return self._db._read_head(lock=False)

    def touching(self, account: str, limit: int) -> list[Transfer]:
        """The newest ``limit`` transfers touching an account, newest first."""
        rows = self._db.all(
            f"SELECT {_COLUMNS} FROM ("
            f" SELECT {_COLUMNS} FROM transfers WHERE source = ?"
            f" UNION ALL"
            f" SELECT {_COLUMNS} FROM transfers WHERE destination = ?"
            f") AS both_sides ORDER BY seq DESC LIMIT ?",
            (account, account, limit),
        )
        return [Transfer(*row) for row in rows]

    def after(self, after_seq: int = 0, limit: int | None = None, *,
              account: str | None = None) -> list[Transfer]:
        """Transfers with seq above ``after_seq``, oldest first; with ``account``, only
        those touching it (filtered before the limit)."""
        if account is None:
            sql = f"SELECT {_COLUMNS} FROM transfers WHERE seq > ? ORDER BY seq"
            params: tuple[Any, ...] = (after_seq,)
        else:
            sql = (f"SELECT {_COLUMNS} FROM ("
                   f" SELECT {_COLUMNS} FROM transfers WHERE source = ? AND seq > ?"
                   f" UNION ALL"
                   f" SELECT {_COLUMNS} FROM transfers WHERE destination = ? AND seq > ?"
                   f") AS both_sides ORDER BY seq")
            params = (account, after_seq, account, after_seq)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [Transfer(*row) for row in self._db.all(sql, params)]

    def grants_to(self, account: str) -> int:
        """The start grants minted to ``account`` (migration 11 indexes them)."""
        return self._db.number(
            "SELECT COALESCE(SUM(amount), 0) FROM transfers"
            " WHERE destination = ? AND kind = 'grant'", (account,))

    def get(self, seq: int) -> Transfer | None:
        row = self._db.one(f"SELECT {_COLUMNS} FROM transfers WHERE seq = ?", (seq,))
        return Transfer(*row) if row else None

    def last_seq(self) -> int:
        return self._db.number("SELECT COALESCE(MAX(seq), 0) FROM transfers")

    def count(self) -> int:
        return self._db.number("SELECT COUNT(*) FROM transfers")

    def fill_missing_hashes(self) -> int:
        """Backfill the chain of a ledger written before migration 3 (run by that
        migration, inside its transaction).

        Walks every transfer in order, chains each one whose hash is NULL to the one
        before (the triggers allow setting a NULL hash once, nothing else), and sets the
        head. Returns how many hashes it wrote. The backfill vouches only for what the
        ledger held when it ran: an edit made before the upgrade cannot be told apart
        afterwards."""
        previous, last_seq, written = GENESIS, 0, 0
        columns = ", ".join(HASHED_FIELDS)
        for row in self._db.all(f"SELECT {columns}, hash FROM transfers ORDER BY seq"):
            fields = dict(zip(HASHED_FIELDS, row[:-1], strict=True))
            stored = row[-1]
            if stored is None:
                stored = transfer_hash(previous, fields)
                self._db.execute("UPDATE transfers SET hash = ? WHERE seq = ?",
                                 (stored, fields["seq"]))
                written += 1
            previous, last_seq = stored, int(fields["seq"])
        self._db.execute("UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1",
                         (last_seq, previous))
        return written


def transfer_record(row: Transfer) -> LedgerTransfer:
    """A stored transfer as the record the service returns and the export writes."""
    from ..economy.records import LedgerTransfer  # reads only: the write path needs none

    return LedgerTransfer(row.seq, row.at, row.kind, row.source, row.destination,
                          tokens(row.amount), row.description, row.project, row.model,
                          row.inference_tokens, row.pool_id, row.idempotency_key, row.hash)


def transfer_row(record: LedgerTransfer) -> Transfer:
    """A transfer record (from an import) as the row the ledger stores."""
    return Transfer(record.seq, record.at, record.kind, record.source, record.destination,
                    micro(record.amount), record.description, record.project, record.model,
                    record.inference_tokens, record.pool_id, record.idempotency_key,
                    record.hash)
