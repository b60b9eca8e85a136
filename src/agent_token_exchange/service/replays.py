"""What a replayed write returns: the first call's record, marked ``replayed``, with the
balances in it read now (a replay must not show a balance that is no longer true).

``Core.operate`` calls ``as_replay`` inside the replay's transaction, so the figures it
reads are consistent with each other. Amounts, seq and notes stay the first call's.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

from ..economy.accounts import pool_account, wallet
from ..money import tokens

if TYPE_CHECKING:
    from .operations import Core

R = TypeVar("R")


def as_replay(core: Core, result: R) -> R:
    """``result`` (a record a write returned before) as a replay returns it."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type) \
            or "replayed" not in _names(result):
        return result
    replay: R = _current(core, dataclasses.replace(result, replayed=True))
    return replay


def _current(core: Core, record: Any) -> Any:
    """``record`` with its balance figures read now: an agent's ``tokens``, a pool's
    ``pool_balance``, a whole pool view, and the same in nested records (refunds)."""
    from ..economy.records import PoolView  # pools' records: loaded when one is replayed

    names = _names(record)
    if isinstance(record, PoolView):  # pool create/join: the pool as it stands now
        from .queries import pool_view  # queries imports operations, which imports this

        return dataclasses.replace(pool_view(core, record.id), replayed=record.replayed)
    changes: dict[str, Any] = {}
    if {"agent", "tokens"} <= names and isinstance(record.agent, str):
        changes["tokens"] = tokens(core.balance(wallet(record.agent)))
    if {"pool_id", "pool_balance"} <= names:
        changes["pool_balance"] = tokens(core.balance(pool_account(record.pool_id)))
    for name in names:
        value = getattr(record, name)
        if isinstance(value, tuple) and value and all(dataclasses.is_dataclass(v)
                                                      for v in value):
            changes[name] = tuple(_current(core, v) for v in value)
    return dataclasses.replace(record, **changes) if changes else record


def _names(record: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(record) if f.init}


__all__ = ["as_replay"]
