"""``ExchangeAPI``: what an exchange offers, wherever it runs.

``Exchange`` (this machine's ledger) and ``ExchangeClient`` (an exchange over HTTP) both
implement it, so a caller written against it (the CLI, a script, a test) takes either:

    def top_up(ex: ExchangeAPI, agent: str) -> Decimal:
        return ex.award(agent, Decimal("5"), "ops", "top-up").tokens

Amounts go in as tokens (``Decimal``, ``int`` or a decimal ``str``) and come back as
``Decimal`` tokens inside the records of ``economy/records.py``. Every refusal raises
the same exception from either.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

from .future_api import FutureAPI
from .governance_api import GovernanceAPI
from .loans_api import LoanAPI
from .service.settle_facade import SettleAPI

if TYPE_CHECKING:  # for annotations only: importing this module stays cheap
    from .economy.config import Config
    from .economy.records import (
        AgentStatus,
        AuditReport,
        Charge,
        DoctorReport,
        HistoryEntry,
        LedgerTransfer,
        Limits,
        Payment,
        PoolContribution,
        PoolDissolution,
        PoolLeave,
        PoolSpend,
        PoolView,
        Quote,
        RefusalEvent,
        RewardPreview,
        Wallet,
    )
    from .ledger import LedgerImage


@runtime_checkable
class ExchangeAPI(FutureAPI, LoanAPI, GovernanceAPI, SettleAPI, Protocol):
    """The operations an exchange offers: reads, earning, spending, pools, checking; and
    the credit market: loans (``LoanAPI``), futures (``FutureAPI``), staking and
    governance (``GovernanceAPI``), and ``settle`` (``SettleAPI``)."""

    @property
    def config(self) -> Config:
        """The rules the exchange runs on."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    # -- reads ----------------------------------------------------------------------------

    def agents(self) -> list[str]: ...

    def status(self) -> list[AgentStatus]: ...

    def balance(self, agent: str) -> Wallet: ...

    def history(self, agent: str, limit: int = 20) -> list[HistoryEntry]: ...

    def limits(self, agent: str) -> Limits: ...

    def refusals(self, agent: str | None = None, limit: int = 100) -> list[RefusalEvent]: ...

    def refusals_since(self, after_seq: int = 0, limit: int = 500, *,
                       agent: str | None = None) -> list[RefusalEvent]: ...

    def transfers_since(self, after_seq: int = 0, limit: int = 500, *,
                        agent: str | None = None) -> list[LedgerTransfer]: ...

    def recent_transfers(self, limit: int = 200, *,
                         agent: str | None = None) -> list[LedgerTransfer]: ...

    def pool_show(self, pool_id: str, *, agent: str | None = None) -> PoolView: ...

    def pool_list(self, *, agent: str | None = None) -> list[PoolView]: ...

    def preview_commit(self, agent: str, project: str, message: str) -> RewardPreview: ...

    def commit_paid(self, sha: str, *, patch_id: str | None = None,
                    author_email: str | None = None, replaces: str | None = None) -> bool: ...

    def issue_settled(self, issue_id: str) -> bool: ...

    def budget_left(self, contract: str) -> Decimal: ...

    def audit(self, expect_head: str | None = None) -> AuditReport: ...

    def export_image(self, *, since: int | None = None, agent: str | None = None) -> LedgerImage:
        ...

    def doctor(self, fix: bool = False) -> DoctorReport: ...

    # -- earning --------------------------------------------------------------------------

    def commit(
        self, author_email: str, project: str, message: str, sha: str | None = None,
        *, idempotency_key: str | None = None, patch_id: str | None = None,
        replaces: str | None = None,
    ) -> Payment: ...

    def award(
        self, agent: str, amount: Decimal | str | int, source: str, description: str,
        *, idempotency_key: str | None = None,
    ) -> Payment: ...

    def pay_issue(
        self, issue_id: str, agent: str, *, priority: int | None, issue_type: str | None,
        labels: tuple[str, ...] = (), close_reason: str | None = None,
        tombstoned: bool = False, title: str = "",
    ) -> Payment: ...

    # -- spending -------------------------------------------------------------------------

    def llm(
        self, agent: str, task_type: str, token_count: int | str, model: str | None = None,
        *, idempotency_key: str | None = None,
    ) -> Charge: ...

    def quote(self, agent: str, model: str, input_tokens: int = 0,
              max_output_tokens: int | None = None) -> Quote: ...

    # -- pools ----------------------------------------------------------------------------

    def pool_create(
        self, name: str, creator: str, min_contribution: Decimal | str | int,
        *, open: bool = False, idempotency_key: str | None = None,
    ) -> PoolView: ...

    def pool_invite(
        self, pool_id: str, agent: str, *, by: str | None = None,
        idempotency_key: str | None = None,
    ) -> PoolView: ...

    def pool_join(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolView: ...

    def pool_leave(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolLeave: ...

    def pool_contribute(
        self, pool_id: str, agent: str, amount: Decimal | str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolContribution: ...

    def pool_spend(
        self, pool_id: str, model: str, token_count: int | str, description: str,
        *, agent: str | None = None, idempotency_key: str | None = None,
    ) -> PoolSpend: ...

    def pool_dissolve(
        self, pool_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> PoolDissolution: ...


__all__ = ["ExchangeAPI"]
