"""The HTTP API's JSON shapes (what /openapi.json publishes).

Request bodies are pydantic models written here. Response models are generated from the
records in ``economy/records.py`` by the same field plan the JSON codec writes them with
(``formats/json_codec.plan``): amounts are decimal strings, times ISO-8601, nested records
objects. Only the envelopes (lists, health, whoami) are written here."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, create_model

from ..economy import records
from ..formats.json_codec import AMOUNT, MOMENT_FIELD, RECORD, RECORDS, plan

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
    open: Annotated[StrictBool, Field(
        description="anyone may join (default: only agents the creator invites)")] = False


class PoolMemberRequest(_In):
    agent: Name


class PoolInviteRequest(_In):
    agent: Annotated[str, Field(min_length=1, max_length=64, description="who is invited")]
    by: Annotated[str | None, Field(
        max_length=64, description="who invites: the creator (default: the key's agent, for "
        "an admin key the pool's creator)")] = None


class PoolContributeRequest(_In):
    agent: Name
    amount: AmountIn


class PoolSpendRequest(_In):
    model: Annotated[str, Field(min_length=1, max_length=64)]
    token_count: Count
    description: Text
    agent: Annotated[str | None, Field(
        max_length=64, description="the member spending (default: the key's agent, for "
        "an admin key the pool's creator)")] = None


class DoctorRequest(_In):
    fix: bool = False


# -- responses: generated from the records -----------------------------------------------


@cache
def response_model(record: type) -> type[BaseModel]:
    """The pydantic model of ``to_json(record)``, named as the record is."""
    fields: dict[str, Any] = {}
    for spec in plan(record):
        if spec.kind == AMOUNT:
            annotation: Any = Amount
        elif spec.kind == MOMENT_FIELD:
            annotation = Time
        elif spec.kind == RECORD and spec.nested is not None:
            annotation = response_model(spec.nested)
        elif spec.kind == RECORDS and spec.nested is not None:
            annotation = _list_of(response_model(spec.nested))
        else:
            annotation = spec.hint
        if spec.optional:
            annotation = annotation | None
        fields[spec.name] = (annotation, ...)
    doc = record.__doc__ or ""
    described = not doc.startswith(f"{record.__name__}(")  # not dataclass's own signature
    return create_model(record.__name__, __doc__=doc if described else None, **fields)


def _list_of(item: Any) -> Any:
    return list[item]


def envelope(name: str, field: str, record: type) -> type[BaseModel]:
    """A response holding one list of records, e.g. ``{"pools": [...]}``."""
    return create_model(name, **{field: (_list_of(response_model(record)), ...)})


Wallet = response_model(records.Wallet)
AgentStatus = response_model(records.AgentStatus)
HistoryEntry = response_model(records.HistoryEntry)
RefusalEvent = response_model(records.RefusalEvent)
Limits = response_model(records.Limits)
Charge = response_model(records.Charge)
Payment = response_model(records.Payment)
PoolView = response_model(records.PoolView)
PoolContribution = response_model(records.PoolContribution)
PoolSpend = response_model(records.PoolSpend)
PoolDissolution = response_model(records.PoolDissolution)
PoolLeave = response_model(records.PoolLeave)
RewardPreview = response_model(records.RewardPreview)
LedgerTransfer = response_model(records.LedgerTransfer)
DoctorReport = response_model(records.DoctorReport)
AuditReport = response_model(records.AuditReport)
BudgetLeft = response_model(records.BudgetLeft)
Quote = response_model(records.Quote)


# -- envelopes and server-only answers -----------------------------------------------------


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


AgentList = envelope("AgentList", "agents", records.AgentStatus)


History = create_model("History", agent=(str, ...),
                       transactions=(_list_of(HistoryEntry), ...))


RefusalList = envelope("RefusalList", "refusals", records.RefusalEvent)


PoolList = envelope("PoolList", "pools", records.PoolView)


TransferList = envelope("TransferList", "transfers", records.LedgerTransfer)


class WhoAmI(BaseModel):
    key_id: str
    agent: str | None
    admin: bool


class CommitPaid(BaseModel):
    sha: str
    paid: bool


class IssueSettled(BaseModel):
    issue_id: str
    settled: bool


class ConfigView(BaseModel):
    """The economy's rules as the server loaded them (config.toml as JSON)."""

    model_config = ConfigDict(extra="allow")
