"""Tokens earned and spent: a payment, a charge. Part of ``records.py``'s catalogue (see
its docstring)."""

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


__all__ = ["Charge", "Payment"]
