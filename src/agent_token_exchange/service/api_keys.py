"""API keys for the HTTP service: who may call it, and as whom.

A key is ``atx_<key id>_<secret>``: 256 random bits shown once when it is created.
Only its SHA-256 is stored; a plain hash is enough for a key that cannot be guessed,
and it lets every request be checked with one indexed lookup. An agent's key acts as
that agent only; an admin key may do anything. Keys are credentials, not money: they
live in the ledger database but never touch an account.

    issued = ex.keys.create(agent="claude")     # ex: a local Exchange
    ex.keys.authenticate(issued.key).agent      # "claude"
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..economy.records import ApiKey, IssuedKey
from ..errors import Forbidden, InvalidInput, Unauthenticated
from ..ledger.credentials import ApiKeyRow
from .operations import Core

if TYPE_CHECKING:
    pass

_KEY = re.compile(r"^atx_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: an agent, or an admin (``agent`` None)."""

    key_id: str
    agent: str | None
    admin: bool

    def require_admin(self) -> None:
        if not self.admin:
            raise Forbidden("this needs an admin key")

    def require_agent(self, agent: str) -> None:
        """Only ``agent`` itself (or an admin) may act on its wallet."""
        if not self.admin and self.agent != agent:
            raise Forbidden(f"a key for {self.agent} cannot act as {agent}")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """Create, list, revoke and check API keys kept in the exchange's ledger. An
    ``Exchange`` hands out its own as ``ex.keys``: writes go through its write path."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self.store = core.store
        self.config = core.config

    def create(
        self, *, agent: str | None = None, admin: bool = False, label: str = ""
    ) -> IssuedKey:
        if admin == (agent is not None):
            raise InvalidInput("a key is either for one agent or --admin, not both or neither")
        if agent is not None and agent not in self.config.agents:
            raise InvalidInput(
                f"unknown agent {agent!r} (known: {', '.join(self.config.agents)})"
            )
        if len(label) > 100 or any(ord(ch) < 32 for ch in label):
            raise InvalidInput("label must be at most 100 printable characters")
        key_id = secrets.token_hex(6)
        key = f"atx_{key_id}_{secrets.token_urlsafe(32)}"
        self._core.write(lambda now: self.store.credentials.create(
            key_id, hash_key(key), agent, admin, label, now))
        return IssuedKey(key_id, key, agent, admin)

    def list(self) -> list[ApiKey]:
        with self.store.snapshot():
            return [_api_key(row) for row in self.store.credentials.all()]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key at once; a key revoked already comes back ``replayed``."""
        if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
            raise InvalidInput(f"key id must be 12 hexadecimal digits, got {str(key_id)[:40]!r}")
        credentials = self.store.credentials

        def revoke(now: int) -> ApiKey:
            before = credentials.get(key_id)
            if before is None:
                raise InvalidInput(f"unknown key {key_id!r}; `token-exchange keys list` shows them")
            if before.revoked_at is not None:  # revoked already: say so, change nothing
                return dataclasses.replace(_api_key(before), replayed=True)
            credentials.revoke(key_id, now)
            row = credentials.get(key_id)
            assert row is not None
            return _api_key(row)

        return self._core.write(revoke)

    def authenticate(self, key: str | None) -> Principal:
        """The caller behind a key; ``Unauthenticated`` for no, a malformed, an unknown or
        a revoked key (one message for all, so a caller learns nothing from it)."""
        if not key or not _KEY.match(key):
            raise Unauthenticated("a valid API key is needed: Authorization: Bearer atx_…")
        with self.store.snapshot():
            row = self.store.credentials.by_hash(hash_key(key))
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("a valid API key is needed: Authorization: Bearer atx_…")
        return Principal(row.key_id, row.agent, row.admin)

    def active(self, key_id: str) -> bool:
        """Whether the key ``key_id`` still exists and is not revoked (a long request, such
        as an event stream, asks again as it runs)."""
        with self.store.snapshot():
            row = self.store.credentials.get(key_id)
        return row is not None and row.revoked_at is None


def _api_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.key_id, row.agent, row.admin, row.label, row.created_at, row.revoked_at)


__all__ = ["ApiKey", "Forbidden", "IssuedKey", "KeyRing", "Principal", "Unauthenticated"]
