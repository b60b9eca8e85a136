"""The audit chain: each transfer's hash covers the previous transfer's hash and a
canonical encoding of its own fields, so changing any stored transfer (or dropping one)
breaks every hash after it.

    hash(n) = sha256( hash(n-1) + "\\n" + canonical(transfer n) )      hash(0) = GENESIS

``canonical`` is compact JSON of the fields in a fixed order, ASCII-escaped, so the
digest is the same on every platform and backend. The newest (seq, hash) lives in the
one-row ``ledger_head`` table: a writer reads it with one primary-key lookup, and on a
server database the row lock on it keeps the chain linear under concurrent writers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64

# The order of fields in the canonical encoding. Appending a field needs a new chain
# version; never reorder.
HASHED_FIELDS = (
    "seq", "at", "kind", "source", "destination", "amount", "description", "project",
    "model", "inference_tokens", "pool_id", "idempotency_key",
)


def canonical(fields: dict[str, Any]) -> bytes:
    """The transfer's fields as compact ASCII JSON, in ``HASHED_FIELDS`` order."""
    values = [fields[name] for name in HASHED_FIELDS]
    return json.dumps(values, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def transfer_hash(previous: str, fields: dict[str, Any]) -> str:
    """The hash that chains a transfer (given as a field dict) to ``previous``."""
    digest = hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(fields))
    return digest.hexdigest()


def fill_missing_hashes(store: Any) -> int:
    """Backfill the chain of a ledger written before migration 3 (run by the migration).

    Walks every transfer in order, chains each one whose hash is NULL to the one before
    (the triggers allow setting a NULL hash once, nothing else), and sets the head.
    Returns how many hashes it wrote. The backfill vouches only for what the ledger held
    when it ran: an edit made before the upgrade cannot be told apart afterwards."""
    previous, last_seq, written = GENESIS, 0, 0
    columns = ", ".join(HASHED_FIELDS)
    rows = store._all(f"SELECT {columns}, hash FROM transfers ORDER BY seq")
    for row in rows:
        fields = dict(zip(HASHED_FIELDS, row[:-1], strict=True))
        stored = row[-1]
        if stored is None:
            stored = transfer_hash(previous, fields)
            store._execute("UPDATE transfers SET hash = ? WHERE seq = ?", (stored, fields["seq"]))
            written += 1
        previous, last_seq = stored, int(fields["seq"])
    store._execute(
        "UPDATE ledger_head SET last_seq = ?, last_hash = ? WHERE id = 1", (last_seq, previous)
    )
    return written
