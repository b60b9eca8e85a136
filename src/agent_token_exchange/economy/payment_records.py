"""Tokens earned and spent: a payment, a charge, what a commit would earn, what is left of a
contract's budget. Part of ``records.py``'s catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Payment:
    """Tokens paid into an agent's wallet: a commit, an award or a closed issue."""

    operation: str
    agent: str
    amount: Decimal
    tokens: Decimal
    seq: int
    source: str
    description: str
    project: str | None = None
    reward: Decimal | None = None  # before a contract budget cap
    note: str = ""
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class Charge:
    """Tokens an agent burnt on one LLM request."""

    agent: str
    task_type: str
    model: str
    inference_tokens: int
    amount: Decimal
    tokens: Decimal
    seq: int | None
    note: str = ""  # why this model, when the task type named none
    replayed: bool = False  # see the module docstring


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


__all__ = ["Payment", "Charge", "RewardPreview", "BudgetLeft"]
