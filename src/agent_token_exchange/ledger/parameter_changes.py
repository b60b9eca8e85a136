"""The parameter changes enacted proposals made (``parameter_changes``, append-only): what
every process lays over config.toml (service/parameters.py). Apart from the rest of
governance (``governance.py``, whose repository includes this one) because every operation
looks at the newest change's id, the post-commit hook's included."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store


@dataclass(frozen=True)
class ChangeRow:
    id: int
    parameter: str
    value: Decimal
    proposal_id: str
    applied_at: int


class ParameterChanges:
    """The ``parameter_changes`` table."""

    def __init__(self, db: Store) -> None:
        self._db = db

    def record_change(self, parameter: str, value: Decimal, proposal_id: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO parameter_changes (parameter, value, proposal_id, applied_at) "
            "VALUES (?, ?, ?, ?)", (parameter, str(value), proposal_id, at))

    def changes_version(self) -> int:
        """The newest change's id: what a process compares to know its overrides are
        current (one primary-key lookup)."""
        return self._db.number("SELECT COALESCE(MAX(id), 0) FROM parameter_changes")

    def changes(self) -> list[ChangeRow]:
        """Every enacted change, oldest first (a later change of a parameter wins)."""
        return [ChangeRow(int(i), p, Decimal(v), prop, int(at)) for i, p, v, prop, at in
                self._db.all("SELECT id, parameter, value, proposal_id, applied_at "
                             "FROM parameter_changes ORDER BY id")]


__all__ = ["ChangeRow", "ParameterChanges"]
