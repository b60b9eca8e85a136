"""One simulated run's figures: each agent's day, the refusals, model use, the
time-of-day blocks, and the run's result as the reports read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..economy.config import Config
from ..economy.records import LedgerTransfer

RATE_LIMIT_KINDS = ("burst", "hourly", "daily")


@dataclass(frozen=True)
class AgentFigures:
    """One agent's day, in micro-tokens."""

    name: str
    template: str
    level: int
    strategy: str
    start: int
    earned: int
    spent: int
    final: int
    reserve: int
    min_balance: int
    commits: int
    issues: int
    requests: int
    refusals: dict[str, int]

    @property
    def net(self) -> int:
        return self.final - self.start


@dataclass(frozen=True)
class RefusalLog:
    """One refused operation, with the seed's log line for it."""

    at: int
    agent: str
    kind: str  # burst | hourly | daily | reserve | funds | budget | not_allowed
    message: str
    log: str


@dataclass
class ModelUse:
    agent: str
    model: str
    pooled: bool
    requests: int = 0
    inference_tokens: int = 0
    spent: int = 0


@dataclass
class BlockFigures:
    name: str
    label: str
    commits: int = 0
    issues: int = 0
    requests: int = 0
    refused: int = 0
    earned: int = 0
    spent: int = 0


@dataclass
class RunResult:
    scenario: str
    seed: int
    hours: int
    start_us: int
    config: Config
    agents: list[AgentFigures]
    refusals: list[RefusalLog]
    model_usage: list[ModelUse]
    blocks: list[BlockFigures]
    transfers: list[LedgerTransfer]
    balance_series: dict[str, list[tuple[int, int]]]
    pools: list[dict[str, Any]] = field(default_factory=list)
    credit: dict[str, Any] = field(default_factory=dict)  # the credit market's day, if any

    @property
    def rate_limit_events(self) -> list[RefusalLog]:
        return [r for r in self.refusals if r.kind in RATE_LIMIT_KINDS]
