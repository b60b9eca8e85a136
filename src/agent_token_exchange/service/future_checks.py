"""Doctor's check of the futures market: each future's escrow account holds exactly what
its status says (open: the price; accepted: the collateral; closed: nothing), and no
escrow of a future the ledger does not know holds anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..economy.accounts import future_escrow
from ..economy.future_rules import escrow_held
from ..economy.records import Finding
from ..money import display_amount

if TYPE_CHECKING:
    from ..ledger import Store

_PREFIX = future_escrow("future-")


def check_futures(store: Store, cached: dict[str, int]) -> list[Finding]:
    """One finding per escrow that disagrees with its future, or one that all agree."""
    findings = []
    known = set()
    rows = store.futures.all()
    for row in rows:
        name = future_escrow(row.id)
        known.add(name)
        expected = escrow_held(row.status, row.price, row.collateral)
        held = cached.get(name, 0)
        if held != expected:
            findings.append(Finding(
                "futures", False, "error",
                f"{name} holds {display_amount(held)} but {row.id} is {row.status} and "
                f"should hold {display_amount(expected)}"))
    for name, held in sorted(cached.items()):
        if name.startswith(_PREFIX) and name not in known and held != 0:
            findings.append(Finding("futures", False, "error",
                                    f"{name} holds {display_amount(held)} but no such future "
                                    "exists"))
    if not findings:
        findings.append(Finding("futures", True, "info",
                                f"{len(rows)} futures' escrows hold what their status says"))
    return findings
