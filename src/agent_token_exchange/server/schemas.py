"""The HTTP API's JSON shapes (what /openapi.json publishes). Each response model is the
``to_json()`` of a record in ``records.py``; amounts are decimal strings, times ISO-8601."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Amount = Annotated[str, Field(description="Tokens as a decimal string, e.g. '450' or '0.5'",
                              examples=["450"])]
AmountIn = Annotated[str, Field(min_length=1, max_length=40,
                                description="Tokens as a decimal string", examples=["100"])]
Name = Annotated[str, Field(min_length=1, max_length=64, examples=["claude"])]
Text = Annotated[str, Field(min_length=1, max_length=500)]
# Strict: JSON true is not the count 1 (nor 1.0 a count at all).
Count = Annotated[StrictInt | Annotated[str, Field(max_length=40)], Field(
    description="Inference tokens: an integer (or its decimal string)", examples=[5000])]
Time = Annotated[str, Field(description="ISO-8601 UTC", examples=["2026-01-01T00:00:00Z"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ---------------------------------------------------------------------------


class LlmRequest(_In):
    task_type: Annotated[str, Field(min_length=1, max_length=32, examples=["coding"])]
    token_count: Count
    model: Annotated[str | None, Field(max_length=64)] = None


class CommitRequest(_In):
    author_email: Annotated[str, Field(min_length=1, max_length=320,
                                       examples=["claude@aygp-dr.ai"])]
    project: Text
    message: Annotated[str, Field(min_length=1, max_length=10_000)]
    sha: Annotated[str | None, Field(max_length=64)] = None
    patch_id: Annotated[str | None, Field(max_length=64)] = None
    replaces: Annotated[str | None, Field(max_length=64)] = None


class AwardRequest(_In):
    agent: Name
    amount: AmountIn
    source: Annotated[str, Field(min_length=1, max_length=100)]
    description: Text


class IssueRequest(_In):
    issue_id: Annotated[str, Field(min_length=1, max_length=200)]
    agent: Name
    priority: Annotated[int | None, Field(ge=0, le=9)] = None
    issue_type: Annotated[str | None, Field(max_length=64)] = None
    labels: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=50)] = []
    close_reason: Annotated[str | None, Field(max_length=500)] = None
    tombstoned: bool = False
    title: Annotated[str, Field(max_length=500)] = ""


class PoolCreateRequest(_In):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    creator: Name
    min_contribution: AmountIn


class PoolMemberRequest(_In):
    agent: Name


class PoolContributeRequest(_In):
    agent: Name
    amount: AmountIn


class PoolSpendRequest(_In):
    model: Annotated[str, Field(min_length=1, max_length=64)]
    token_count: Count
    description: Text


class DoctorRequest(_In):
    fix: bool = False


# -- responses --------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    kind: str | None = None
    used: Amount | None = None
    limit: Amount | None = None
    needed: Amount | None = None


class ErrorBody(BaseModel):
    ok: bool = False
    error: ErrorDetail


class Health(BaseModel):
    status: str
    schema_version: int


class Wallet(BaseModel):
    agent: str
    tokens: Amount
    earned: Amount
    spent: Amount


class AgentStatus(BaseModel):
    agent: str
    level: int
    tokens: Amount
    earned: Amount
    spent: Amount
    hourly_used: Amount
    hourly_limit: Amount
    daily_used: Amount
    daily_limit: Amount


class AgentList(BaseModel):
    agents: list[AgentStatus]


class HistoryEntry(BaseModel):
    seq: int
    at: Time
    type: str
    amount: Amount
    description: str
    project: str | None
    model: str | None
    counterparty: str


class History(BaseModel):
    agent: str
    transactions: list[HistoryEntry]


class RefusalEvent(BaseModel):
    seq: int
    at: Time
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: Amount | None


class RefusalList(BaseModel):
    refusals: list[RefusalEvent]


class Limits(BaseModel):
    agent: str
    tokens: Amount
    hourly_used: Amount
    hourly_limit: Amount
    daily_used: Amount
    daily_limit: Amount
    burst_limit: Amount
    reserve: Amount
    headroom: Amount
    refusals_last_hour: int
    refusals_last_day: int
    recent_refusals: list[RefusalEvent]


class Charge(BaseModel):
    agent: str
    task_type: str
    model: str
    inference_tokens: int
    amount: Amount
    tokens: Amount
    seq: int | None


class Payment(BaseModel):
    operation: str
    agent: str
    amount: Amount
    tokens: Amount
    seq: int
    source: str
    description: str
    project: str | None
    reward: Amount | None
    note: str


class PoolMember(BaseModel):
    agent: str
    contributed: Amount
    share_percent: str


class PoolView(BaseModel):
    id: str
    name: str
    creator: str
    min_contribution: Amount
    balance: Amount
    total_contributed: Amount
    total_spent: Amount
    created_at: Time
    dissolved_at: Time | None
    members: list[PoolMember]


class PoolList(BaseModel):
    pools: list[PoolView]


class PoolContribution(BaseModel):
    pool_id: str
    agent: str
    amount: Amount
    tokens: Amount
    pool_balance: Amount
    seq: int


class Credit(BaseModel):
    agent: str
    contributed: Amount
    credited: Amount
    share_percent: str


class PoolSpend(BaseModel):
    pool_id: str
    model: str
    inference_tokens: int
    amount: Amount
    pool_balance: Amount
    description: str
    seq: int
    credits: list[Credit]


class Refund(BaseModel):
    agent: str
    amount: Amount
    tokens: Amount


class PoolDissolution(BaseModel):
    pool_id: str
    amount: Amount
    refunds: list[Refund]


class RewardPreview(BaseModel):
    agent: str
    project: str
    contract: str
    base_rate: Amount
    project_multiplier: str
    bonus_multiplier: str
    bonus_class: str | None
    reward: Amount
    budget_left: Amount
    amount: Amount


class LedgerTransfer(BaseModel):
    seq: int
    at: Time
    kind: str
    source: str
    destination: str
    amount: Amount
    description: str
    project: str | None
    model: str | None
    inference_tokens: int | None
    pool_id: str | None


class TransferList(BaseModel):
    transfers: list[LedgerTransfer]


class Finding(BaseModel):
    check: str
    ok: bool
    severity: str
    message: str
    fixed: bool


class DoctorReport(BaseModel):
    healthy: bool
    findings: list[Finding]


class WhoAmI(BaseModel):
    key_id: str
    agent: str | None
    admin: bool


class AuditReport(BaseModel):
    intact: bool
    transfers: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str


class CommitPaid(BaseModel):
    sha: str
    paid: bool


class IssueSettled(BaseModel):
    issue_id: str
    settled: bool


class BudgetLeft(BaseModel):
    contract: str
    budget_left: Amount


class ConfigView(BaseModel):
    """The economy's rules as the server loaded them (config.toml as JSON)."""

    model_config = ConfigDict(extra="allow")
