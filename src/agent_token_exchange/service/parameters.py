"""The effective config: config.toml with the parameter changes enacted proposals made
laid over it (economy/governance.py ``overlay``), the same in every process.

The changes live in the database (``parameter_changes``, append-only), so every process
on the ledger sees them. Reading them on every operation would cost the spend path a
query, so each exchange keeps the overlaid config and the newest change's id, and looks
at that id again only when ``RECHECK_SECONDS`` have passed since it last did (one
primary-key lookup; the server's API keys are rechecked the same way). The process that
enacts a change refreshes at once; every other sees it within that time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..economy.config import Config
    from ..ledger import Store

RECHECK_SECONDS = 1.0


class EffectiveConfig:
    """``current()``: the base config with the enacted changes over it."""

    def __init__(self, store: Store, base: Config) -> None:
        self._store = store
        self.base = base
        self._config = base
        self._version = 0
        self._checked = -float("inf")

    def current(self) -> Config:
        if time.monotonic() - self._checked >= RECHECK_SECONDS:
            self.refresh()
        return self._config

    def refresh(self) -> Config:
        """Look at the newest change now, and lay the changes over again if it moved."""
        store = self._store
        version = store.parameter_changes.changes_version()
        if version != self._version:
            from ..economy.governance import overlay  # only once a change was enacted

            changes = {c.parameter: c.value for c in store.parameter_changes.changes()}
            self._config = overlay(self.base, changes) if changes else self.base
            self._version = version
        self._checked = time.monotonic()
        return self._config

    def forget(self) -> None:
        """Look again at the next use (after this process enacted a change)."""
        self._checked = -float("inf")


__all__ = ["RECHECK_SECONDS", "EffectiveConfig"]
