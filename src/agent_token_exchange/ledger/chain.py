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


# One encoder for every hash (json.dumps with options builds a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def canonical(fields: dict[str, Any]) -> bytes:
    """The transfer's fields as compact ASCII JSON, in ``HASHED_FIELDS`` order."""
    return _ENCODE([fields[name] for name in HASHED_FIELDS]).encode("ascii")


def transfer_hash(previous: str, fields: dict[str, Any]) -> str:
    """The hash that chains a transfer (given as a field dict) to ``previous``."""
    digest = hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(fields))
    return digest.hexdigest()

