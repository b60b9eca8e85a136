"""What the exchange shows: balances, history, limits, pools, previews, audit and
export. Reads only; ``Exchange`` (service/exchange.py) delegates its reads here. Reads
that a caller may see only part of take the agent they are for and filter in SQL,
before the limit, so a page holds that agent's rows.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..clock import DAY_US, HOUR_US
from ..economy import pool_rules, rules
from ..economy.accounts import contract_account, pool_account, wallet
from ..economy.records import (
    AgentStatus,
    HistoryEntry,
    LedgerTransfer,
    Limits,
    PoolMember,
    PoolView,
    RefusalEvent,
    RewardPreview,
    Wallet,
)
from ..economy.validation import NAME_PATTERN, hex_id, project_name, text_field, whole_number
from ..errors import Forbidden, InvalidInput
from ..ledger.dump import LedgerImage, read_image
from ..ledger.refusals import refusal_event
from ..ledger.reservations import ReservationRow
from ..ledger.transfers import Transfer, transfer_record
from ..money import tokens
from . import access, idempotency
from .audit import AuditReport, verify_chain
from .operations import Core

if TYPE_CHECKING:
    from ..economy.config import Config


class Queries:
    """Read-only operations over the exchange's store, config and clock."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self.store = core.store
        self.clock = core.clock

    @property
    def config(self) -> Config:
        return self._core.config

    def agents(self) -> list[str]:
        return list(self.config.agents)

    def balance(self, agent: str) -> Wallet:
        agent = self._agent(agent)
        with self.store.snapshot():
            account = self.store.accounts.get(wallet(agent))
            assert account is not None
            grants = self.store.transfers.grants_to(wallet(agent))
        # Every transfer a wallet takes part in is a grant, earned, spent or the credit
        # market's (economy/accounts.py), so the market's net is what the rest leaves.
        market = account.balance - grants - account.earned + account.spent
        return Wallet(agent, tokens(account.balance), tokens(account.earned),
                      tokens(account.spent), tokens(market))

    def history(self, agent: str, limit: int = 20) -> list[HistoryEntry]:
        agent = self._agent(agent)
        limit = whole_number(limit, "limit", 1, 100_000)
        mine = wallet(agent)
        entries = []
        with self.store.snapshot():
            rows = self.store.transfers.touching(mine, limit)
            metered = self.store.reservations.by_charge([t.seq for t in rows])
        for t in rows:
            incoming = t.destination == mine
            request = metered.get(t.seq)
            entries.append(
                HistoryEntry(
                    seq=t.seq, at=t.at, type=t.kind,
                    amount=tokens(t.amount if incoming else -t.amount),
                    description=t.description, project=t.project, model=t.model,
                    counterparty=t.source if incoming else t.destination, pool_id=t.pool_id,
                    **_metered_fields(request),
                )
            )
        return entries

    def status(self) -> list[AgentStatus]:
        out = []
        with self.store.snapshot():
            for agent in self.config.agents:
                account = self.store.accounts.get(wallet(agent))
                assert account is not None
                hourly, daily = self._window_usage(agent, self.clock.now_us())
                limits = self.config.limits_for(agent)
                out.append(
                    AgentStatus(
                        agent, self.config.agents[agent].level, tokens(account.balance),
                        tokens(account.earned), tokens(account.spent), tokens(hourly),
                        tokens(limits.hourly), tokens(daily), tokens(limits.daily),
                    )
                )
        return out

    def limits(self, agent: str) -> Limits:
        agent = self._agent(agent)
        now = self.clock.now_us()
        with self.store.snapshot():
            account = self.store.accounts.get(wallet(agent))
            assert account is not None
            hourly, daily = self._window_usage(agent, now)
            spec = self.config.limits_for(agent)
            held = self._core.held(agent)  # open gateway reservations
            headroom = rules.consumption_headroom(
                spec, balance=account.balance, hourly_used=hourly + held,
                daily_used=daily + held)
            recent = tuple(refusal_event(r) for r in self.store.refusals.newest(agent, limit=10))
            return Limits(
                agent=agent, tokens=tokens(account.balance),
                hourly_used=tokens(hourly), hourly_limit=tokens(spec.hourly),
                daily_used=tokens(daily), daily_limit=tokens(spec.daily),
                burst_limit=tokens(spec.burst), reserve=tokens(spec.reserve),
                headroom=tokens(headroom),
                refusals_last_hour=self.store.refusals.count_since(agent, now - HOUR_US),
                refusals_last_day=self.store.refusals.count_since(agent, now - DAY_US),
                recent_refusals=recent,
            )

    def refusals(self, agent: str | None = None, limit: int = 100) -> list[RefusalEvent]:
        """The newest ``limit`` refusals (only ``agent``'s when named), newest first."""
        if agent is not None:
            agent = self._agent(agent)
        limit = whole_number(limit, "limit", 1, 100_000)
        return [refusal_event(r) for r in self.store.refusals.newest(agent, limit)]

    def pool_show(self, pool_id: str, *, agent: str | None = None) -> PoolView:
        """A pool; with ``agent``, only one that agent may see (service/access.py), else
        Forbidden."""
        pool_id = self._pool_id(pool_id)
        viewer = None if agent is None else self._agent(agent)
        with self.store.snapshot():
            if viewer is not None and not self.store.pools.is_visible(pool_id, viewer):
                raise Forbidden(access.pool_hidden_message(pool_id, viewer))
            return self._pool_view(pool_id)

    def pool_list(self, *, agent: str | None = None) -> list[PoolView]:
        """Every pool by number; with ``agent``, those it may see, chosen in SQL."""
        viewer = None if agent is None else self._agent(agent)
        with self.store.snapshot():
            rows = self.store.pools.all() if viewer is None else (
                self.store.pools.visible_to(viewer))
            return [self._pool_view(p.id) for p in rows]

    def transfers_since(self, after_seq: int = 0, limit: int = 500, *,
                        agent: str | None = None) -> list[LedgerTransfer]:
        """Transfers with ``seq`` above ``after_seq``, oldest first (the live event feed);
        with ``agent``, only those touching its wallet."""
        account = None if agent is None else wallet(self._agent(agent))
        with self.store.snapshot():
            return self._ledger_transfers(
                self.store.transfers.after(after_seq, limit, account=account))

    def recent_transfers(self, limit: int = 200, *,
                         agent: str | None = None) -> list[LedgerTransfer]:
        """The newest ``limit`` transfers (touching ``agent``'s wallet), oldest first."""
        if agent is None:
            start = max(0, self.store.transfers.last_seq() - limit)
            return self.transfers_since(start, limit)
        with self.store.snapshot():
            newest = self.store.transfers.touching(wallet(self._agent(agent)), limit)
            return self._ledger_transfers(list(reversed(newest)))

    def _ledger_transfers(self, rows: list[Transfer]) -> list[LedgerTransfer]:
        """Transfers as records, each gateway charge with what its provider reported."""
        metered = self.store.reservations.by_charge(
            [t.seq for t in rows if t.kind in _CHARGE_KINDS])
        return [_ledger_transfer(t, metered.get(t.seq)) for t in rows]

    def refusals_since(self, after_seq: int = 0, limit: int = 500, *,
                       agent: str | None = None) -> list[RefusalEvent]:
        """Refusals with ``seq`` above ``after_seq``, oldest first (the live event feed);
        with ``agent``, only its own."""
        if agent is not None:
            agent = self._agent(agent)
        return [refusal_event(r)
                for r in self.store.refusals.after(after_seq, limit, agent=agent)]

    def preview_commit(self, agent: str, project: str, message: str) -> RewardPreview:
        """What a commit by ``agent`` to ``project`` with ``message`` would earn now."""
        agent = self._agent(agent)
        project = project_name(project)
        message = text_field(message, "commit message", limit=10_000)
        reward = rules.commit_reward(self.config, agent, project, message)
        left = self._balance(contract_account(reward.contract))
        return RewardPreview(
            agent, project, reward.contract, tokens(reward.base_rate),
            str(reward.project_multiplier), str(reward.bonus_multiplier), reward.bonus_class,
            tokens(reward.amount), tokens(left),
            tokens(rules.capped_commit_reward(reward, left).amount),
        )

    def audit(self, expect_head: str | None = None) -> AuditReport:
        """Recompute the transfer log's hash chain; names the first altered transfer."""
        if expect_head is not None and (not isinstance(expect_head, str)
                                        or not re.fullmatch(r"[0-9a-f]{64}", expect_head)):
            raise InvalidInput("an audit head is 64 lowercase hexadecimal digits, got "
                               f"{str(expect_head)[:80]!r}")
        with self.store.snapshot():
            return verify_chain(self.store, expect_head=expect_head)

    def export_image(self, *, since: int | None = None, agent: str | None = None) -> LedgerImage:
        """Every row of the ledger (or those at/after ``since`` touching ``agent``)."""
        if since is not None:
            since = whole_number(since, "since (microseconds since the epoch)", 0, 2**62)
        if agent is not None and (not isinstance(agent, str) or not re.match(NAME_PATTERN, agent)):
            raise InvalidInput(f"agent name {str(agent)[:40]!r} is not valid: use lowercase "
                               "letters, digits, - and _")
        with self.store.snapshot():
            return read_image(self.store, since=since, agent=agent)

    def commit_paid(self, sha: str, *, patch_id: str | None = None,
                    author_email: str | None = None, replaces: str | None = None) -> bool:
        """Whether the work of this commit was already settled (by SHA, amend or patch id):
        what a dry run asks before counting a commit."""
        keys = [idempotency.commit_key(hex_id(sha, "commit SHA"))]
        if replaces:
            keys.append(idempotency.commit_key(hex_id(replaces, "replaced commit SHA")))
        agent = rules.agent_for_email(self.config, author_email) if author_email else None
        if patch_id and agent:
            keys.append(idempotency.commit_work_key(hex_id(patch_id, "patch id"), agent))
        with self.store.snapshot():
            return any((r := self.store.idempotency.get(k)) is not None and r.outcome == "ok"
                       for k in keys)

    def issue_settled(self, issue_id: str) -> bool:
        """Whether a closed issue was already paid (or settled at zero)."""
        with self.store.snapshot():
            record = self.store.idempotency.get(idempotency.issue_key(issue_id))
        return record is not None and record.outcome == "ok"

    def budget_left(self, contract: str) -> Decimal:
        """What is left of a contract's budget, in tokens."""
        return tokens(self._balance(contract_account(contract)))

    def _agent(self, name: str) -> str:
        return self._core.agent(name)

    def _pool_id(self, pool_id: str) -> str:
        return self._core.pool_id(pool_id)

    def _balance(self, account: str) -> int:
        return self._core.balance(account)

    def _window_usage(self, agent: str, at: int) -> tuple[int, int]:
        return self._core.window_usage(agent, at)

    def _pool_view(self, pool_id: str) -> PoolView:
        return pool_view(self._core, pool_id)


def pool_view(core: Core, pool_id: str) -> PoolView:
    """A pool as it stands: its members with what each put in and its stake (members who
    left are counted in what was contributed, not listed), and who is invited."""
    store = core.store
    pool = store.pools.get(pool_id)
    assert pool is not None
    everyone = store.pools.members(pool_id, with_former=True)
    members = [m for m in everyone if m.left_at is None]
    staked = sum(m.stake for m in members)
    account = store.accounts.get(pool_account(pool_id))
    return PoolView(
        id=pool.id, name=pool.name, creator=pool.creator,
        min_contribution=tokens(pool.min_contribution),
        balance=tokens(account.balance if account else 0),
        total_contributed=tokens(sum(m.contributed for m in everyone)),
        total_spent=tokens(account.spent if account else 0),
        created_at=pool.created_at, dissolved_at=pool.dissolved_at,
        members=tuple(
            PoolMember(m.agent, tokens(m.contributed), tokens(m.stake),
                       str(pool_rules.share_percent(m.stake, staked)) if staked else "0.00")
            for m in members
        ),
        open=pool.is_open,
        invited=tuple(store.pools.invited(pool_id)),
    )


def _ledger_transfer(t: Transfer, request: ReservationRow | None = None) -> LedgerTransfer:
    record = transfer_record(t)
    return replace(record, **_metered_fields(request)) if request is not None else record


_CHARGE_KINDS = frozenset({"inference", "pool_spend"})


def _metered_fields(request: ReservationRow | None) -> dict[str, Any]:
    """What the provider reported for a gateway charge (nothing for other transfers)."""
    if request is None:
        return {}
    return {"input_tokens": request.input_tokens, "output_tokens": request.output_tokens,
            "provider_request_id": request.provider_request_id,
            "latency_ms": request.latency_ms}
