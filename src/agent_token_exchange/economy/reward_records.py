"""What a commit would earn and what a contract's budget has left, read without paying.
Part of ``records.py``'s catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class RewardPreview:
    """What a commit would earn now, without paying it."""

    agent: str
    project: str
    contract: str
    base_rate: Decimal
    project_multiplier: str
    bonus_multiplier: str
    bonus_class: str | None
    reward: Decimal  # before the contract's budget cap
    budget_left: Decimal
    amount: Decimal  # what it would pay: the reward, capped at the budget left


@dataclass(frozen=True)
class BudgetLeft:
    """What is left of a contract's budget."""

    contract: str
    budget_left: Decimal


__all__ = ["BudgetLeft", "RewardPreview"]
