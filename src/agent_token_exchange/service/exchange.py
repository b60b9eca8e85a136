"""The exchange: a facade over the service's modules by role. Every write is one
operation in one transaction (``operations.Core.operate``) that reads state, asks
``economy.rules`` for a decision and writes through the ledger's repositories; this
package is the only place rules meet storage, and the only writer.

    earning.py    commit, award, pay_issue
    spending.py   llm
    metering.py   the gateway's reserve / capture / release, stale reservations, quote
    pools.py      pool_create, pool_invite, pool_join, pool_contribute, pool_spend,
                  pool_leave, pool_dissolve
    loans.py      loan_offer, loan_cancel, loan_take, loan_repay, settle (via loans_facade)
    settle.py     settle (the facade's part: settle_facade.py)
    governance_facade.py  stake, unstake, propose, vote, proposals, parameters (a mixin)
    queries.py    every read
    provision.py  open_accounts: the accounts the config names but the ledger lacks
    doctor.py     doctor (and ``--fix``, which rebuilds derived figures)

    ex = open_exchange("/tmp/team")
    ex.llm("zero", "coding", 5000)
    ex.balance("zero").tokens
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Self

from ..clock import Clock, SystemClock
from . import provision
from .earning import Earning
from .futures_facade import FutureMethods
from .governance_facade import GovernanceMethods
from .loans_facade import LoanMethods
from .market_facade import MarketReads
from .operations import Core
from .settle_facade import SettleMethods

if TYPE_CHECKING:
    from ..economy.config import Config
    from ..economy.records import (
        AgentStatus,
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
    from ..ledger import Store
    from ..ledger.dump import LedgerImage
    from .api_keys import KeyRing
    from .audit import AuditReport
    from .metering import Metering
    from .pools import PoolOperations
    from .queries import Queries
    from .spending import Spending
    from .writer import Writer


class Exchange(FutureMethods, LoanMethods, SettleMethods, GovernanceMethods, MarketReads):
    """The token exchange over one store. Methods mirror the CLI's commands.

    Constructing one writes nothing: ``open_accounts()`` creates what the config names
    but the ledger lacks (see service/provision.py for who calls it).

    ``write_lock``, when given, is held around each write transaction: exchanges that
    share one (a server's, one per request in flight) queue their writes on it before
    they meet the database's own lock. ``writer``, when given, is the process's writer
    (service/writer.py): operations queue to it and commit in batches."""

    def __init__(self, store: Store, config: Config, clock: Clock | None = None, *,
                 write_lock: AbstractContextManager[object] | None = None,
                 writer: Writer | None = None) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self._core = Core(store, config, self.clock, write_lock=write_lock, writer=writer)
        self._earning = Earning(self._core)

    @property
    def config(self) -> Config:
        """The rules in force: config.toml with the parameter changes governance enacted
        (``parameters()`` shows which)."""
        return self._core.config

    # The roles a quick command may not need are loaded when first used.
    @cached_property
    def _spending(self) -> Spending:
        from .spending import Spending

        return Spending(self._core)

    @cached_property
    def _pools(self) -> PoolOperations:
        from .pools import PoolOperations

        return PoolOperations(self._core)

    @cached_property
    def _queries(self) -> Queries:
        from .queries import Queries

        return Queries(self._core)

    @cached_property
    def _keys(self) -> KeyRing:
        from .api_keys import KeyRing

        return KeyRing(self._core)

    @cached_property
    def metering(self) -> Metering:
        """The gateway's write path: ``reserve``, ``capture``, ``release``,
        ``close_stale_reservations`` (for ``settle``) and ``retry_after``. Server-side
        only: a client meters through the gateway's routes, not these calls."""
        from .metering import Metering

        return Metering(self._core)

    @property
    def write_lock(self) -> AbstractContextManager[object]:
        """The lock held around each of this exchange's write transactions."""
        return self._core.write_lock

    @property
    def keys(self) -> KeyRing:
        """The HTTP service's API keys: create, list, revoke, authenticate. Local only,
        so not part of ``ExchangeAPI``."""
        return self._keys

    def open_accounts(self) -> list[str]:
        """Create the accounts the config names but the ledger lacks (start grants and
        contract budgets included); returns their names. Safe to call every time."""
        return provision.open_accounts(self._core)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- checking ---------------------------------------------------------------------------

    def doctor(self, fix: bool = False) -> DoctorReport:
        """Check every invariant; with ``fix`` rebuild what is derived (never a transfer)."""
        from .doctor import run_doctor

        if not fix:  # one consistent view, blocking no writer
            with self.store.snapshot():
                return run_doctor(self.store, self.config)
        # Rebuilding: every account held still meanwhile, through the one write path.
        return self._core.write(
            lambda now: run_doctor(self.store, self.config, fix=True),
            lock=lambda: [a.name for a in self.store.accounts.all()])

    def audit(self, expect_head: str | None = None) -> AuditReport:
        """Recompute the transfer log's hash chain; names the first altered transfer."""
        return self._queries.audit(expect_head)

    # -- earning --------------------------------------------------------------------------

    def commit(
        self, author_email: str, project: str, message: str, sha: str | None = None,
        *, idempotency_key: str | None = None, patch_id: str | None = None,
        replaces: str | None = None,
    ) -> Payment:
        """Pay a git commit (see ``Earning.commit``)."""
        return self._earning.commit(author_email, project, message, sha,
                                    idempotency_key=idempotency_key, patch_id=patch_id,
                                    replaces=replaces)

    def award(
        self, agent: str, amount: Decimal | str | int, source: str, description: str,
        *, idempotency_key: str | None = None,
    ) -> Payment:
        """Mint tokens straight into an agent's wallet (for integrations)."""
        return self._earning.award(agent, amount, source, description,
                                   idempotency_key=idempotency_key)

    def pay_issue(
        self, issue_id: str, agent: str, *, priority: int | None, issue_type: str | None,
        labels: tuple[str, ...] = (), close_reason: str | None = None,
        tombstoned: bool = False, title: str = "",
    ) -> Payment:
        """Pay for a closed issue, once (see ``Earning.pay_issue``)."""
        return self._earning.pay_issue(
            issue_id, agent, priority=priority, issue_type=issue_type, labels=labels,
            close_reason=close_reason, tombstoned=tombstoned, title=title)

    # -- spending -------------------------------------------------------------------------

    def llm(
        self, agent: str, task_type: str, token_count: int | str, model: str | None = None,
        *, idempotency_key: str | None = None,
    ) -> Charge:
        """Spend on one LLM request, under the burst, reserve, hourly and daily limits."""
        return self._spending.llm(agent, task_type, token_count, model,
                                  idempotency_key=idempotency_key)

    # -- metered inference (the gateway) -------------------------------------------------

    def quote(self, agent: str, model: str, input_tokens: int = 0,
              max_output_tokens: int | None = None) -> Quote:
        """What a request to ``model`` (or ``task:<type>``) would reserve now, whether it
        would pass, and the largest max_tokens that fits."""
        return self.metering.quote(agent, model, input_tokens, max_output_tokens)

    # -- pools ----------------------------------------------------------------------------

    def pool_create(
        self, name: str, creator: str, min_contribution: Decimal | str | int,
        *, open: bool = False, idempotency_key: str | None = None,
    ) -> PoolView:
        """A pool with ``creator`` as its first member: invite-only, or ``open`` to all."""
        return self._pools.create(name, creator, min_contribution, open=open,
                                  idempotency_key=idempotency_key)

    def pool_invite(
        self, pool_id: str, agent: str, *, by: str | None = None,
        idempotency_key: str | None = None,
    ) -> PoolView:
        """Invite ``agent`` to join, as ``by`` (the creator, the default); anyone else is
        refused (NotAllowed)."""
        return self._pools.invite(pool_id, agent, by=by, idempotency_key=idempotency_key)

    def pool_join(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolView:
        """Join an open pool, or one whose creator invited ``agent``."""
        return self._pools.join(pool_id, agent, idempotency_key=idempotency_key)

    def pool_leave(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolLeave:
        """``agent`` leaves the pool with its stake (its creator dissolves it instead)."""
        return self._pools.leave(pool_id, agent, idempotency_key=idempotency_key)

    def pool_contribute(
        self, pool_id: str, agent: str, amount: Decimal | str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolContribution:
        """Move tokens from a member's wallet into the pool (an outflow: reserve applies)."""
        return self._pools.contribute(pool_id, agent, amount, idempotency_key=idempotency_key)

    def pool_spend(
        self, pool_id: str, model: str, token_count: int | str, description: str,
        *, agent: str | None = None, idempotency_key: str | None = None,
    ) -> PoolSpend:
        """Spend pool tokens on inference as ``agent``, a member with a stake (by default
        the pool's creator); anyone else is refused (NotAllowed). The cost is drawn from
        the stakes pro rata, each draw within its member's own limits (RateLimited names
        the member whose draw does not fit)."""
        return self._pools.spend(pool_id, model, token_count, description, agent=agent,
                                 idempotency_key=idempotency_key)

    def pool_dissolve(
        self, pool_id: str, *, agent: str | None = None, idempotency_key: str | None = None
    ) -> PoolDissolution:
        """Close a pool as ``agent`` (its creator, the default) and return every member its
        stake; anyone else is refused (NotAllowed)."""
        return self._pools.dissolve(pool_id, agent=agent, idempotency_key=idempotency_key)

    # -- reads ----------------------------------------------------------------------------

    def agents(self) -> list[str]:
        return self._queries.agents()

    def balance(self, agent: str) -> Wallet:
        return self._queries.balance(agent)

    def history(self, agent: str, limit: int = 20) -> list[HistoryEntry]:
        return self._queries.history(agent, limit)

    def status(self) -> list[AgentStatus]:
        return self._queries.status()

    def limits(self, agent: str) -> Limits:
        return self._queries.limits(agent)

    def refusals(self, agent: str | None = None, limit: int = 100) -> list[RefusalEvent]:
        return self._queries.refusals(agent, limit)

    def pool_show(self, pool_id: str, *, agent: str | None = None) -> PoolView:
        """A pool; with ``agent``, only if that agent may see it (else Forbidden)."""
        return self._queries.pool_show(pool_id, agent=agent)

    def pool_list(self, *, agent: str | None = None) -> list[PoolView]:
        """Every pool; with ``agent``, those it belongs to, is invited to, or may join."""
        return self._queries.pool_list(agent=agent)

    def transfers_since(self, after_seq: int = 0, limit: int = 500, *,
                        agent: str | None = None) -> list[LedgerTransfer]:
        """Transfers above ``after_seq``, oldest first; with ``agent``, only its own."""
        return self._queries.transfers_since(after_seq, limit, agent=agent)

    def recent_transfers(self, limit: int = 200, *,
                         agent: str | None = None) -> list[LedgerTransfer]:
        """The newest ``limit`` transfers, oldest first; with ``agent``, its own."""
        return self._queries.recent_transfers(limit, agent=agent)

    def refusals_since(self, after_seq: int = 0, limit: int = 500, *,
                       agent: str | None = None) -> list[RefusalEvent]:
        """Refusals above ``after_seq``, oldest first; with ``agent``, only its own."""
        return self._queries.refusals_since(after_seq, limit, agent=agent)

    def preview_commit(self, agent: str, project: str, message: str) -> RewardPreview:
        return self._queries.preview_commit(agent, project, message)

    def export_image(self, *, since: int | None = None, agent: str | None = None) -> LedgerImage:
        return self._queries.export_image(since=since, agent=agent)

    def commit_paid(self, sha: str, *, patch_id: str | None = None,
                    author_email: str | None = None, replaces: str | None = None) -> bool:
        return self._queries.commit_paid(sha, patch_id=patch_id, author_email=author_email,
                                         replaces=replaces)

    def issue_settled(self, issue_id: str) -> bool:
        return self._queries.issue_settled(issue_id)

    def budget_left(self, contract: str) -> Decimal:
        return self._queries.budget_left(contract)


__all__ = ["Exchange"]
