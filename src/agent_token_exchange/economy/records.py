"""Immutable records the exchange returns. Amounts are integer micro-tokens.

``to_json()`` turns a record into plain JSON types with amounts as decimal strings;
``from_dict()`` rebuilds one from ``dataclasses.asdict`` output (how an idempotent
replay returns the first result).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from ..clock import iso_utc
from ..money import MICRO, format_amount


class Record:
    """Shared JSON behaviour. ``MONEY`` names the fields that hold micro-tokens."""

    MONEY: ClassVar[frozenset[str]] = frozenset()
    TIMES: ClassVar[frozenset[str]] = frozenset({"at", "created_at", "dissolved_at"})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            out[field.name] = _json_value(field.name, value, self.MONEY, self.TIMES)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        return cls(**data)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Any:
        """The inverse of ``to_json`` (how the HTTP client rebuilds a record). Times come
        back at the second precision ``to_json`` keeps."""
        nested = _NESTED.get(cls, {})
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name not in data:
                continue
            value = data[field.name]
            if field.name in nested:
                value = tuple(nested[field.name].from_json(item) for item in value)
            elif value is not None and field.name in cls.MONEY and isinstance(value, str):
                value = _micro_from_json(value)
            elif value is not None and field.name in cls.TIMES and isinstance(value, str):
                value = _micro_seconds_from_iso(value)
            values[field.name] = value
        return cls(**values)


def _json_value(name: str, value: Any, money: frozenset[str], times: frozenset[str]) -> Any:
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_json_value(name, item, money, times) for item in value]
    if value is None:
        return None
    if name in money and isinstance(value, int):
        return format_amount(value)
    if name in times and isinstance(value, int):
        return iso_utc(value)
    return value


@dataclass(frozen=True)
class Wallet(Record):
    MONEY = frozenset({"tokens", "earned", "spent"})
    agent: str
    tokens: int
    earned: int
    spent: int


@dataclass(frozen=True)
class HistoryEntry(Record):
    MONEY = frozenset({"amount"})
    seq: int
    at: int
    type: str
    amount: int  # signed from the agent's side: + in, - out
    description: str
    project: str | None
    model: str | None
    counterparty: str


@dataclass(frozen=True)
class Payment(Record):
    """Tokens paid into an agent's wallet: a commit, an award or a closed issue."""

    MONEY = frozenset({"amount", "tokens", "reward"})
    operation: str
    agent: str
    amount: int
    tokens: int
    seq: int
    source: str
    description: str
    project: str | None = None
    reward: int | None = None  # before a contract budget cap
    note: str = ""


@dataclass(frozen=True)
class Charge(Record):
    """Tokens an agent burnt on one LLM request."""

    MONEY = frozenset({"amount", "tokens"})
    agent: str
    task_type: str
    model: str
    inference_tokens: int
    amount: int
    tokens: int
    seq: int | None


@dataclass(frozen=True)
class PoolMember(Record):
    MONEY = frozenset({"contributed"})
    agent: str
    contributed: int
    share_percent: str


@dataclass(frozen=True)
class PoolView(Record):
    MONEY = frozenset({"balance", "min_contribution", "total_contributed", "total_spent"})
    id: str
    name: str
    creator: str
    min_contribution: int
    balance: int
    total_contributed: int
    total_spent: int
    created_at: int
    dissolved_at: int | None
    members: tuple[PoolMember, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PoolView:
        members = tuple(PoolMember(**m) for m in data["members"])
        return cls(**{**data, "members": members})


@dataclass(frozen=True)
class PoolContribution(Record):
    MONEY = frozenset({"amount", "tokens", "pool_balance"})
    pool_id: str
    agent: str
    amount: int
    tokens: int
    pool_balance: int
    seq: int


@dataclass(frozen=True)
class Credit(Record):
    """One contributor's credit for a pool spend."""

    MONEY = frozenset({"credited", "contributed"})
    agent: str
    contributed: int
    credited: int
    share_percent: str


@dataclass(frozen=True)
class PoolSpend(Record):
    MONEY = frozenset({"amount", "pool_balance"})
    pool_id: str
    model: str
    inference_tokens: int
    amount: int
    pool_balance: int
    description: str
    seq: int
    credits: tuple[Credit, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PoolSpend:
        credits = tuple(Credit(**c) for c in data["credits"])
        return cls(**{**data, "credits": credits})


@dataclass(frozen=True)
class Refund(Record):
    MONEY = frozenset({"amount", "tokens"})
    agent: str
    amount: int
    tokens: int


@dataclass(frozen=True)
class PoolDissolution(Record):
    MONEY = frozenset({"amount"})
    pool_id: str
    amount: int
    refunds: tuple[Refund, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PoolDissolution:
        refunds = tuple(Refund(**r) for r in data["refunds"])
        return cls(**{**data, "refunds": refunds})


@dataclass(frozen=True)
class RefusalEvent(Record):
    MONEY = frozenset({"amount"})
    seq: int
    at: int
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: int | None


@dataclass(frozen=True)
class Limits(Record):
    """An agent's rate-limit position now."""

    MONEY = frozenset(
        {"tokens", "hourly_used", "hourly_limit", "daily_used", "daily_limit", "burst_limit",
         "reserve", "headroom"}
    )
    agent: str
    tokens: int
    hourly_used: int
    hourly_limit: int
    daily_used: int
    daily_limit: int
    burst_limit: int
    reserve: int
    headroom: int  # the largest inference spend that would pass right now
    refusals_last_hour: int
    refusals_last_day: int
    recent_refusals: tuple[RefusalEvent, ...]


@dataclass(frozen=True)
class AgentStatus(Record):
    MONEY = frozenset({"tokens", "earned", "spent", "hourly_used", "hourly_limit",
                       "daily_used", "daily_limit"})
    agent: str
    level: int
    tokens: int
    earned: int
    spent: int
    hourly_used: int
    hourly_limit: int
    daily_used: int
    daily_limit: int


@dataclass(frozen=True)
class Finding(Record):
    """One doctor check: ``ok`` False with severity error means an invariant is broken."""

    check: str
    ok: bool
    severity: str
    message: str
    fixed: bool = False


@dataclass(frozen=True)
class DoctorReport(Record):
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok and f.severity == "error" and not f.fixed]

    @property
    def healthy(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True)
class ImportSummary(Record):
    """What an import wrote; ``unconfigured`` names wallets whose agent config.toml lacks
    (their history is kept, but the agent cannot act until it is configured)."""

    home: str
    transfers: int
    accounts: int
    pools: int
    refusals: int
    idempotency_keys: int
    head_hash: str
    unconfigured: tuple[str, ...] = ()


@dataclass(frozen=True)
class LedgerTransfer(Record):
    """One transfer of the ledger, as the live event stream and the dashboard see it."""

    MONEY = frozenset({"amount"})
    seq: int
    at: int
    kind: str
    source: str
    destination: str
    amount: int
    description: str
    project: str | None
    model: str | None
    inference_tokens: int | None
    pool_id: str | None


@dataclass(frozen=True)
class RewardPreview(Record):
    """What a commit would earn now, without paying it."""

    MONEY = frozenset({"base_rate", "reward", "budget_left", "amount"})
    agent: str
    project: str
    contract: str
    base_rate: int
    project_multiplier: str
    bonus_multiplier: str
    bonus_class: str | None
    reward: int  # before the contract's budget cap
    budget_left: int
    amount: int  # what it would pay: the reward, capped at the budget left


# Fields holding tuples of records, for from_json.
_NESTED: dict[type, dict[str, type[Record]]] = {
    PoolView: {"members": PoolMember},
    PoolSpend: {"credits": Credit},
    PoolDissolution: {"refunds": Refund},
    Limits: {"recent_refusals": RefusalEvent},
    DoctorReport: {"findings": Finding},
}


def _micro_from_json(text: str) -> int:
    return int(Decimal(text) * MICRO)


def _micro_seconds_from_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000
