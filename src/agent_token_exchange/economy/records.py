"""One frozen record per concept: what the exchange returns, what the JSON codec
(``formats/json_codec.py``) writes and reads, what the HTTP schemas are generated from,
what the client decodes into.

Amounts are ``Decimal`` tokens with six decimal places (``money.tokens``); micro-token
integers stay inside the ledger and the service. Times (``Moment``) are integer
microseconds since the epoch, UTC; JSON shows them as ISO-8601 at second precision.

Every record a write returns has ``replayed``: False when this call did the write, True
when it only returned what an earlier call with the same identity (an idempotency key, a
commit SHA, an issue id) did. A replayed record keeps the first call's amounts and seq,
but its balances (``tokens``, ``pool_balance``, a pool's figures) are read now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated


class _MomentMark:
    """Marks an ``int`` field as a point in time (microseconds since the epoch, UTC)."""

    def __repr__(self) -> str:
        return "MOMENT"


MOMENT = _MomentMark()
Moment = Annotated[int, MOMENT]


@dataclass(frozen=True)
class Wallet:
    agent: str
    tokens: Decimal
    earned: Decimal
    spent: Decimal
    # The credit market's net flows (loans taken less repaid and lent, futures, stakes):
    # neither earned nor spent, so tokens = start grant + earned - spent + market.
    market: Decimal = Decimal(0)


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: Moment
    type: str
    amount: Decimal  # signed from the agent's side: + in, - out
    description: str
    project: str | None
    model: str | None
    counterparty: str
    # A request metered by the gateway: what the provider reported, and how long it took.
    pool_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    provider_request_id: str | None = None
    latency_ms: int | None = None


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
class PoolMember:
    """A member: ``contributed`` is all it ever put in, ``stake`` what of the pool's
    balance is its own (what leaving returns), ``share_percent`` its stake's share, which
    is its share of the next spend."""

    agent: str
    contributed: Decimal
    stake: Decimal
    share_percent: str


@dataclass(frozen=True)
class PoolView:
    """A pool: ``open`` when anyone may join (else its creator invites, and ``invited``
    names who may join); ``balance`` is the sum of the members' stakes."""

    id: str
    name: str
    creator: str
    min_contribution: Decimal
    balance: Decimal
    total_contributed: Decimal
    total_spent: Decimal
    created_at: Moment
    dissolved_at: Moment | None
    members: tuple[PoolMember, ...]
    open: bool = False
    invited: tuple[str, ...] = ()
    replayed: bool = False  # from pool create/invite/join; reads are never replays


@dataclass(frozen=True)
class PoolContribution:
    pool_id: str
    agent: str
    amount: Decimal
    tokens: Decimal
    pool_balance: Decimal
    seq: int
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class Credit:
    """One member's draw on a pool spend: ``stake`` before the spend, ``credited`` what
    the spend drew from it (its own consumption), ``share_percent`` its share of it."""

    agent: str
    stake: Decimal
    credited: Decimal
    share_percent: str


@dataclass(frozen=True)
class PoolSpend:
    pool_id: str
    model: str
    inference_tokens: int
    amount: Decimal
    pool_balance: Decimal
    description: str
    seq: int
    credits: tuple[Credit, ...]
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class Refund:
    agent: str
    amount: Decimal
    tokens: Decimal


@dataclass(frozen=True)
class PoolLeave:
    """A member left a pool and took its stake back (``seq`` None when it held none)."""

    pool_id: str
    agent: str
    amount: Decimal
    tokens: Decimal
    pool_balance: Decimal
    seq: int | None
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class PoolDissolution:
    pool_id: str
    amount: Decimal
    refunds: tuple[Refund, ...]
    replayed: bool = False  # see the module docstring


@dataclass(frozen=True)
class RefusalEvent:
    """A refusal, or ``count`` identical ones (same agent, operation, code and pool) from
    ``first_at`` to ``at``: repeats within a minute are one event with a count."""

    seq: int
    at: Moment
    agent: str | None
    pool_id: str | None
    operation: str
    code: str
    message: str
    amount: Decimal | None
    count: int = 1
    first_at: Moment | None = None


@dataclass(frozen=True)
class Limits:
    """An agent's rate-limit position now."""

    agent: str
    tokens: Decimal
    hourly_used: Decimal
    hourly_limit: Decimal
    daily_used: Decimal
    daily_limit: Decimal
    burst_limit: Decimal
    reserve: Decimal
    headroom: Decimal  # the largest inference spend that would pass right now
    refusals_last_hour: int
    refusals_last_day: int
    recent_refusals: tuple[RefusalEvent, ...]


@dataclass(frozen=True)
class AgentStatus:
    agent: str
    level: int
    tokens: Decimal
    earned: Decimal
    spent: Decimal
    hourly_used: Decimal
    hourly_limit: Decimal
    daily_used: Decimal
    daily_limit: Decimal


@dataclass(frozen=True)
class Finding:
    """One doctor check: ``ok`` False with severity error means an invariant is broken."""

    check: str
    ok: bool
    severity: str
    message: str
    fixed: bool = False


@dataclass(frozen=True)
class DoctorReport:
    """Every check doctor ran; ``healthy`` when no error is left unfixed."""

    healthy: bool = field(init=False)
    findings: tuple[Finding, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "healthy", not self.errors)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok and f.severity == "error" and not f.fixed]


@dataclass(frozen=True)
class AuditReport:
    """``intact`` is False when a transfer no longer matches the chain; ``first_bad_seq``
    names the first such transfer and ``problem`` says what is wrong with it."""

    intact: bool
    transfers: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class ImportSummary:
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
class LedgerTransfer:
    """One transfer of the ledger, as the live event stream, the dashboard and the export
    see it: with the idempotency key it was applied under and its audit-chain hash."""

    seq: int
    at: Moment
    kind: str
    source: str
    destination: str
    amount: Decimal
    description: str
    project: str | None
    model: str | None
    inference_tokens: int | None
    pool_id: str | None
    idempotency_key: str | None = None
    hash: str | None = None
    # A request metered by the gateway: what the provider reported, and how long it took.
    input_tokens: int | None = None
    output_tokens: int | None = None
    provider_request_id: str | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class Reservation:
    """A gateway request's worst case, held before the provider is called."""

    id: int
    agent: str
    model: str
    pool_id: str | None
    amount: Decimal
    input_estimate: int
    max_output_tokens: int
    estimator: str
    reserved_at: Moment


@dataclass(frozen=True)
class MeteredRequest:
    """How a gateway request settled: ``captured`` at the provider's reported usage,
    ``released`` (the provider failed: nothing charged) or ``expired`` (left open past
    the timeout: charged the reserved amount). ``overrun`` is what the charge exceeded
    the reservation by; ``seq`` the charge's transfer (None when nothing was charged)."""

    reservation_id: int
    agent: str
    model: str
    pool_id: str | None
    outcome: str
    reserved: Decimal
    charged: Decimal
    overrun: Decimal
    input_tokens: int | None
    output_tokens: int | None
    provider_request_id: str | None
    latency_ms: int | None
    seq: int | None


@dataclass(frozen=True)
class Quote:
    """What a request to a model would reserve now, and whether it would pass."""

    agent: str
    model: str
    input_tokens: int
    max_output_tokens: int
    cost: Decimal  # the worst case the gateway would reserve
    allowed: bool
    code: str | None
    message: str
    largest_max_tokens: int | None  # the most output that fits now (None: output is free)
    headroom: Decimal


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


@dataclass(frozen=True)
class ApiKey:
    """A key as ``keys list`` shows it: never the secret."""

    key_id: str
    agent: str | None
    admin: bool
    label: str
    created_at: Moment
    revoked_at: Moment | None
    replayed: bool = False  # revoke: the key was revoked already; nothing changed

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    """A new key with its secret, shown exactly once."""

    key_id: str
    key: str
    agent: str | None
    admin: bool
