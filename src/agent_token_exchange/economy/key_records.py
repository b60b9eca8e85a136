"""The HTTP service's API keys. Part of ``records.py``'s catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass

from .records import Moment


@dataclass(frozen=True)
class ApiKey:
    """A key as ``keys list`` shows it: never the secret."""

    key_id: str
    agent: str | None
    admin: bool
    label: str
    created_at: Moment
    revoked_at: Moment | None
    replayed: bool = False  # revoke: the key was revoked already; nothing changed

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    """A new key with its secret, shown exactly once."""

    key_id: str
    key: str
    agent: str | None
    admin: bool


__all__ = ["ApiKey", "IssuedKey"]
