"""The exchange: each operation is one database transaction that reads state, asks
``rules`` for a decision and writes transfers. This is the only place rules meet storage.

    ex = open_exchange("/tmp/team")
    ex.llm("zero", "coding", 5000)
    ex.balance("zero").tokens
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any, TypeVar

from . import rules
from .audit import AuditReport, verify_chain
from .clock import DAY_US, HOUR_US, Clock, SystemClock
from .config import NAME_PATTERN, Config, default_config_text, load_config
from .doctor import run_doctor
from .errors import (
    BudgetExhausted,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    RateLimited,
    Refused,
)
from .home import ExchangePaths, paths_for
from .ledger import Kind, Store, is_postgres_url, open_store
from .ledger.image import LedgerImage, ledger_is_empty, load_image, read_image
from .ledger.kinds import INFERENCE, MINT, contract_account, pool_account, wallet
from .ledger.store import RefusalRow
from .money import display_amount, parse_amount, parse_count, to_micro
from .records import (
    AgentStatus,
    Charge,
    Credit,
    DoctorReport,
    HistoryEntry,
    ImportSummary,
    LedgerTransfer,
    Limits,
    Payment,
    PoolContribution,
    PoolDissolution,
    PoolMember,
    PoolSpend,
    PoolView,
    Refund,
    RefusalEvent,
    RewardPreview,
    Wallet,
)

R = TypeVar("R")

_TASK_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_POOL_ID = re.compile(r"^pool-[1-9][0-9]{0,17}$")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,200}$")
MAX_TEXT = 500
# How often an operation runs again after the database aborted it (serialization failure,
# a deadlock it broke, two first uses of one key racing). Operations are idempotent.
MAX_ATTEMPTS = 20


class Exchange:
    """The token exchange over one store. Methods mirror the CLI's commands."""

    def __init__(self, store: Store, config: Config, clock: Clock | None = None) -> None:
        self.store = store
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._open_accounts()

    # -- set-up ---------------------------------------------------------------------------

    def _open_accounts(self) -> None:
        """Create what the config names but the ledger lacks: system accounts, each
        agent's wallet with its start grant, each contract's funded budget."""
        wanted = [MINT, INFERENCE]
        wanted += [wallet(a) for a in self.config.agents]
        wanted += [contract_account(c.name) for c in self.config.contracts]
        with self.store.snapshot():
            missing = [name for name in wanted if self.store.account(name) is None]
        if not missing:
            return
        with self.store.transaction():  # only whoever creates an account grants or funds it
            now = self.clock.now_us()
            for name in (MINT, INFERENCE):
                self.store.create_account(name, "system", now)
            for agent in self.config.agents:
                if self.store.create_account(wallet(agent), "agent", now):
                    start = to_micro(self.config.start_balance)
                    if start > 0:
                        self.store.post_transfer(
                            at=now, kind=Kind.GRANT, source=MINT, destination=wallet(agent),
                            amount=start, description="start balance",
                        )
            for contract in self.config.contracts:
                name = contract_account(contract.name)
                if self.store.create_account(name, "contract", now):
                    budget = to_micro(contract.budget)
                    if budget > 0:
                        self.store.post_transfer(
                            at=now, kind=Kind.FUND, source=MINT, destination=name,
                            amount=budget, description=f"budget of contract {contract.name}",
                        )

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ----------------------------------------------------------------------------

    def agents(self) -> list[str]:
        return list(self.config.agents)

    def balance(self, agent: str) -> Wallet:
        agent = self._agent(agent)
        account = self.store.account(wallet(agent))
        assert account is not None
        return Wallet(agent, account.balance, account.earned, account.spent)

    def history(self, agent: str, limit: int = 20) -> list[HistoryEntry]:
        agent = self._agent(agent)
        limit = _whole(limit, "limit", 1, 100_000)
        mine = wallet(agent)
        entries = []
        for t in self.store.transfers_for(mine, limit):
            incoming = t.destination == mine
            entries.append(
                HistoryEntry(
                    seq=t.seq, at=t.at, type=t.kind,
                    amount=t.amount if incoming else -t.amount,
                    description=t.description, project=t.project, model=t.model,
                    counterparty=t.source if incoming else t.destination,
                )
            )
        return entries

    def status(self) -> list[AgentStatus]:
        out = []
        with self.store.snapshot():
            for agent in self.config.agents:
                account = self.store.account(wallet(agent))
                assert account is not None
                hourly, daily = self._window_usage(agent, self.clock.now_us())
                limits = self.config.limits_for(agent)
                out.append(
                    AgentStatus(
                        agent, self.config.agents[agent].level, account.balance,
                        account.earned, account.spent, hourly, limits.hourly, daily, limits.daily,
                    )
                )
        return out

    def limits(self, agent: str) -> Limits:
        agent = self._agent(agent)
        now = self.clock.now_us()
        with self.store.snapshot():
            account = self.store.account(wallet(agent))
            assert account is not None
            hourly, daily = self._window_usage(agent, now)
            spec = self.config.limits_for(agent)
            headroom = max(
                0,
                min(spec.hourly - hourly, spec.daily - daily, spec.burst,
                    account.balance - spec.reserve),
            )
            recent = tuple(_refusal_event(r) for r in self.store.refusals(agent, limit=10))
            return Limits(
                agent=agent, tokens=account.balance,
                hourly_used=hourly, hourly_limit=spec.hourly,
                daily_used=daily, daily_limit=spec.daily,
                burst_limit=spec.burst, reserve=spec.reserve, headroom=headroom,
                refusals_last_hour=self.store.refusal_count(agent, now - HOUR_US),
                refusals_last_day=self.store.refusal_count(agent, now - DAY_US),
                recent_refusals=recent,
            )

    def refusals(self, agent: str | None = None, limit: int = 100) -> list[RefusalEvent]:
        if agent is not None:
            agent = self._agent(agent)
        limit = _whole(limit, "limit", 1, 100_000)
        return [_refusal_event(r) for r in self.store.refusals(agent, limit)]

    def pool_show(self, pool_id: str) -> PoolView:
        pool_id = self._pool_id(pool_id)
        with self.store.snapshot():
            return self._pool_view(pool_id)

    def pool_list(self) -> list[PoolView]:
        with self.store.snapshot():
            return [self._pool_view(p.id) for p in self.store.pools()]

    def transfers_since(self, after_seq: int = 0, limit: int = 500) -> list[LedgerTransfer]:
        """Transfers with ``seq`` above ``after_seq``, oldest first (the live event feed)."""
        return [_ledger_transfer(t) for t in self.store.transfers(after_seq, limit)]

    def recent_transfers(self, limit: int = 200) -> list[LedgerTransfer]:
        """The newest ``limit`` transfers, oldest first."""
        start = max(0, self.store.last_seq() - limit)
        return self.transfers_since(start, limit)

    def refusals_since(self, after_seq: int = 0, limit: int = 500) -> list[RefusalEvent]:
        """Refusals with ``seq`` above ``after_seq``, oldest first (the live event feed)."""
        return [RefusalEvent(*r.__dict__.values())
                for r in self.store.refusals_after(after_seq, limit)]

    def preview_commit(self, agent: str, project: str, message: str) -> RewardPreview:
        """What a commit by ``agent`` to ``project`` with ``message`` would earn now."""
        agent = self._agent(agent)
        project = _text(project, "project")
        message = _text(message, "commit message", limit=10_000)
        reward = rules.commit_reward(self.config, agent, project, message)
        left = self._balance(contract_account(reward.contract))
        return RewardPreview(
            agent, project, reward.contract, reward.base_rate, str(reward.project_multiplier),
            str(reward.bonus_multiplier), reward.bonus_class, reward.amount, left,
            max(0, min(reward.amount, left)),
        )

    def doctor(self, fix: bool = False) -> DoctorReport:
        """Check every invariant; with ``fix`` rebuild what is derived (never a transfer)."""
        if not fix:  # one consistent view, blocking no writer
            with self.store.snapshot():
                return run_doctor(self.store, self.config)
        with self.store.transaction():  # rebuilding: hold every account still meanwhile
            self.store.lock_accounts(a.name for a in self.store.accounts())
            return run_doctor(self.store, self.config, fix=True)

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
            since = _whole(since, "since (microseconds since the epoch)", 0, 2**62)
        if agent is not None and (not isinstance(agent, str) or not re.match(NAME_PATTERN, agent)):
            raise InvalidInput(f"agent name {str(agent)[:40]!r} is not valid: use lowercase "
                               "letters, digits, - and _")
        with self.store.snapshot():
            return read_image(self.store, since=since, agent=agent)

    # -- earning --------------------------------------------------------------------------

    def commit(
        self, author_email: str, project: str, message: str, sha: str | None = None,
        *, idempotency_key: str | None = None, patch_id: str | None = None,
        replaces: str | None = None,
    ) -> Payment:
        """Pay a git commit: base rate × project multiplier × message bonus, from the
        project's contract budget. With a SHA, a commit pays once however often it is sent.

        The payment follows the work, not only the SHA: a commit that ``replaces`` one
        already paid (an amend) or carries the ``patch_id`` of a change the same agent was
        already paid for (a rebase or cherry-pick replaying it) settles at zero."""
        author_email = _text(author_email, "author email", limit=320)
        project = _text(project, "project")
        message = _text(message, "commit message", limit=10_000)
        agent = rules.agent_for_email(self.config, author_email)
        if agent is None:
            raise InvalidInput(
                f"unknown commit author {author_email!r}: not a configured agent's email "
                "and its local part is no agent's name; nothing paid"
            )
        key = None
        if sha is not None:
            if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha):
                raise InvalidInput(f"commit SHA must be hexadecimal, got {str(sha)[:80]!r}")
            key = f"commit:{sha.lower()}"
        else:
            key = self._client_key(idempotency_key)
        replaced_key = (f"commit:{_hex(replaces, 'replaced commit SHA').lower()}"
                        if replaces else None)
        work_key = (f"commit-work:{_hex(patch_id, 'patch id').lower()}:{agent}"
                    if patch_id else None)
        reward = rules.commit_reward(self.config, agent, project, message)
        request = {"agent": agent, "project": project, "message": message}
        subject = message.splitlines()[0][:200]

        def pay(now: int) -> Payment:
            already = self._work_already_paid(replaced_key, work_key)
            if already is not None:
                if work_key is not None and self.store.idempotency_record(work_key) is None:
                    self._remember_work(work_key, already, now)
                return Payment("commit", agent, 0, self._tokens(agent), 0,
                               contract_account(reward.contract), subject, project, 0,
                               f"already paid: {already['why']}")
            budget_account = contract_account(reward.contract)
            account = self.store.account(budget_account)
            left = account.balance if account else 0
            if left <= 0:
                raise BudgetExhausted(
                    f"Contract '{reward.contract}' budget exhausted: the commit earns nothing"
                )
            amount = min(reward.amount, left)
            note = "" if amount == reward.amount else (
                f"capped at what is left of contract '{reward.contract}'s budget"
            )
            seq = self.store.post_transfer(
                at=now, kind=Kind.COMMIT, source=budget_account, destination=wallet(agent),
                amount=amount, description=subject, project=project,
                idempotency_key=key,
            )
            if work_key is not None and self.store.idempotency_record(work_key) is None:
                self._remember_work(work_key, {"sha": sha, "seq": seq}, now)
            return Payment(
                "commit", agent, amount, self._tokens(agent), seq, budget_account,
                subject, project, reward.amount, note,
            )

        return self._operate("commit", request, key, pay, Payment, agent=agent,
                             accounts=[contract_account(reward.contract), wallet(agent)])

    def commit_paid(self, sha: str, *, patch_id: str | None = None,
                    author_email: str | None = None, replaces: str | None = None) -> bool:
        """Whether the work of this commit was already settled (by SHA, amend or patch id):
        what a dry run asks before counting a commit."""
        keys = [f"commit:{_hex(sha, 'commit SHA').lower()}"]
        if replaces:
            keys.append(f"commit:{_hex(replaces, 'replaced commit SHA').lower()}")
        agent = rules.agent_for_email(self.config, author_email) if author_email else None
        if patch_id and agent:
            keys.append(f"commit-work:{_hex(patch_id, 'patch id').lower()}:{agent}")
        with self.store.snapshot():
            return any((r := self.store.idempotency_record(k)) is not None and r.outcome == "ok"
                       for k in keys)

    def issue_settled(self, issue_id: str) -> bool:
        """Whether a closed issue was already paid (or settled at zero)."""
        with self.store.snapshot():
            record = self.store.idempotency_record(f"issue:{issue_id}")
        return record is not None and record.outcome == "ok"

    def budget_left(self, contract: str) -> int:
        """What is left of a contract's budget, in micro-tokens."""
        return self._balance(contract_account(contract))

    def _work_already_paid(self, replaced_key: str | None,
                           work_key: str | None) -> dict[str, Any] | None:
        """The earlier settlement this commit's work belongs to, if any, with a reason."""
        if replaced_key is not None:
            previous = self.store.idempotency_record(replaced_key)
            if previous is not None and previous.outcome == "ok":
                sha = replaced_key.removeprefix("commit:")
                return {"sha": sha, "seq": previous.result.get("seq"),
                        "why": f"it replaces commit {sha[:12]} (amend)"}
        if work_key is not None:
            previous = self.store.idempotency_record(work_key)
            if previous is not None:
                sha = str(previous.result.get("sha") or "")
                return {**previous.result,
                        "why": f"same change as commit {sha[:12]} (matching patch id)"}
        return None

    def _remember_work(self, work_key: str, settled: dict[str, Any], now: int) -> None:
        """Record which commit a change (patch id + agent) was settled by. No transfer
        carries this key, so it keeps no sequence number."""
        record = {"sha": settled.get("sha"), "seq": settled.get("seq")}
        self.store.save_idempotency(work_key, _request_hash("commit-work", record), "ok",
                                    record, None, now)

    def award(
        self, agent: str, amount: str | int, source: str, description: str,
        *, idempotency_key: str | None = None, kind: Kind = Kind.AWARD,
        project: str | None = None,
    ) -> Payment:
        """Mint tokens straight into an agent's wallet (integrations, issue payouts)."""
        agent = self._agent(agent)
        micro = parse_amount(amount)
        source = _text(source, "source", limit=100)
        description = _text(description, "description")
        key = self._client_key(idempotency_key) if kind is Kind.AWARD else idempotency_key
        request = {"agent": agent, "amount": micro, "source": source, "description": description}

        def pay(now: int) -> Payment:
            seq = self.store.post_transfer(
                at=now, kind=kind, source=MINT, destination=wallet(agent), amount=micro,
                description=f"{source}: {description}", project=project, idempotency_key=key,
            )
            return Payment(kind.value, agent, micro, self._tokens(agent), seq, MINT,
                           description, project, micro)

        return self._operate(kind.value, request, key, pay, Payment, agent=agent,
                             accounts=[wallet(agent)])

    def pay_issue(
        self, issue_id: str, agent: str, *, priority: int | None, issue_type: str | None,
        labels: tuple[str, ...] = (), close_reason: str | None = None,
        tombstoned: bool = False, title: str = "",
    ) -> Payment:
        """Pay for a closed issue: priority base × type multiplier (rules.issue_reward).
        An issue pays once, however often it is closed; one that earns nothing (a
        failure close, an infrastructure type, a tombstone) is settled at zero."""
        agent = self._agent(agent)
        issue_id = _text(issue_id, "issue id", limit=200)
        _issue_fields(priority, issue_type, labels, close_reason, tombstoned, title)
        reward = rules.issue_reward(
            self.config, priority=priority, issue_type=issue_type, labels=labels,
            close_reason=close_reason, tombstoned=tombstoned,
        )
        key = f"issue:{issue_id}"
        description = f"closed {issue_id}" + (f": {title[:150]}" if title else "")
        request = {"issue": issue_id}

        def pay(now: int) -> Payment:
            if reward.amount == 0:
                return Payment("issue", agent, 0, self._tokens(agent), 0, MINT, description,
                               None, 0, reward.reason)
            seq = self.store.post_transfer(
                at=now, kind=Kind.ISSUE, source=MINT, destination=wallet(agent),
                amount=reward.amount, description=description, idempotency_key=key,
            )
            return Payment("issue", agent, reward.amount, self._tokens(agent), seq, MINT,
                           description, None, reward.amount, reward.reason)

        return self._operate("issue", request, key, pay, Payment, agent=agent,
                             accounts=[wallet(agent)])

    # -- spending -------------------------------------------------------------------------

    def llm(
        self, agent: str, task_type: str, token_count: int | str, model: str | None = None,
        *, idempotency_key: str | None = None,
    ) -> Charge:
        """Spend on one LLM request, under the burst, reserve, hourly and daily limits."""
        agent = self._agent(agent)
        if not isinstance(task_type, str) or not _TASK_TYPE.match(task_type):
            raise InvalidInput(
                f"task type must be a short lowercase word like coding, got {str(task_type)[:40]!r}"
            )
        count = parse_count(token_count)
        model = (_model(model) if model is not None
                 else rules.preferred_llm(self.config, agent, task_type))
        cost = rules.llm_cost(self.config, model, count)
        key = self._client_key(idempotency_key)
        request = {"agent": agent, "task_type": task_type, "count": count, "model": model}

        def spend(now: int) -> Charge:
            if cost == 0:
                return Charge(agent, task_type, model, count, 0, self._tokens(agent), None)
            last_at, cumulative = self.store.latest_consumption(agent)
            at = max(now, last_at)  # windows need time to move forward per agent
            hourly, daily = self._window_usage(agent, at, latest=(last_at, cumulative))
            decision = rules.check_consumption(
                self.config.limits_for(agent), amount=cost, balance=self._tokens(agent),
                hourly_used=hourly, daily_used=daily,
            )
            _raise_if_refused(decision)
            seq = self.store.post_transfer(
                at=at, kind=Kind.INFERENCE, source=wallet(agent), destination=INFERENCE,
                amount=cost, description=f"{model} for {task_type}", model=model,
                inference_tokens=count, idempotency_key=key,
            )
            self.store.record_consumption(agent, at, cost, cumulative + cost, seq)
            return Charge(agent, task_type, model, count, cost, self._tokens(agent), seq)

        return self._operate("llm", request, key, spend, Charge, agent=agent, amount=cost,
                             accounts=[wallet(agent)])

    # -- pools ----------------------------------------------------------------------------

    def pool_create(
        self, name: str, creator: str, min_contribution: str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolView:
        name = _text(name, "pool name", limit=100)
        creator = self._agent(creator)
        minimum = parse_amount(min_contribution, what="minimum contribution")
        key = self._client_key(idempotency_key)
        request = {"name": name, "creator": creator, "min": minimum}

        def create(now: int) -> PoolView:
            number = self.store.next_pool_number()
            pool_id = f"pool-{number}"
            self.store.create_account(pool_account(pool_id), "pool", now)
            self.store.create_pool(pool_id, number, name, creator, minimum, now)
            self.store.add_pool_member(pool_id, creator, now)
            return self._pool_view(pool_id)

        return self._operate("pool_create", request, key, create, PoolView, agent=creator,
                             accounts=[wallet(creator)])

    def pool_join(
        self, pool_id: str, agent: str, *, idempotency_key: str | None = None
    ) -> PoolView:
        pool_id = self._pool_id(pool_id)
        agent = self._agent(agent)
        key = self._client_key(idempotency_key)

        def join(now: int) -> PoolView:
            self._open_pool(pool_id)
            self.store.add_pool_member(pool_id, agent, now)
            return self._pool_view(pool_id)

        return self._operate("pool_join", {"pool": pool_id, "agent": agent}, key, join,
                             PoolView, agent=agent, pool_id=pool_id,
                             accounts=[pool_account(pool_id)])

    def pool_contribute(
        self, pool_id: str, agent: str, amount: str | int,
        *, idempotency_key: str | None = None,
    ) -> PoolContribution:
        """Move tokens from a member's wallet into the pool (an outflow: reserve applies)."""
        pool_id = self._pool_id(pool_id)
        agent = self._agent(agent)
        micro = parse_amount(amount)
        key = self._client_key(idempotency_key)
        request = {"pool": pool_id, "agent": agent, "amount": micro}

        def contribute(now: int) -> PoolContribution:
            pool = self._open_pool(pool_id)
            if agent not in {m.agent for m in self.store.pool_members(pool_id)}:
                raise NotAllowed(f"{agent} is not a member of {pool_id}; join it first")
            if micro < pool.min_contribution:
                raise NotAllowed(
                    f"Contribution {display_amount(micro)} is below {pool_id}'s minimum "
                    f"{display_amount(pool.min_contribution)}"
                )
            _raise_if_refused(rules.check_outflow(
                self.config.limits_for(agent), amount=micro, balance=self._tokens(agent)))
            seq = self.store.post_transfer(
                at=now, kind=Kind.POOL_CONTRIBUTION, source=wallet(agent),
                destination=pool_account(pool_id), amount=micro,
                description=f"contribution to {pool_id} ({pool.name})", pool_id=pool_id,
                idempotency_key=key,
            )
            self.store.add_contribution(pool_id, agent, micro)
            return PoolContribution(pool_id, agent, micro, self._tokens(agent),
                                    self._balance(pool_account(pool_id)), seq)

        return self._operate("pool_contribute", request, key, contribute, PoolContribution,
                             agent=agent, pool_id=pool_id, amount=micro,
                             accounts=[wallet(agent), pool_account(pool_id)])

    def pool_spend(
        self, pool_id: str, model: str, token_count: int | str, description: str,
        *, idempotency_key: str | None = None,
    ) -> PoolSpend:
        """Spend pool tokens on inference; every contributor is credited pro rata."""
        pool_id = self._pool_id(pool_id)
        count = parse_count(token_count)
        cost = rules.llm_cost(self.config, _model(model), count)
        description = _text(description, "description")
        key = self._client_key(idempotency_key)
        request = {"pool": pool_id, "model": model, "count": count, "description": description}

        def spend(now: int) -> PoolSpend:
            self._open_pool(pool_id)
            contributions = {m.agent: m.contributed for m in self.store.pool_members(pool_id)
                             if m.contributed > 0}
            needed = self.config.pools.min_members
            if len(contributions) < needed:
                raise NotAllowed(
                    f"{pool_id} needs {needed} contributing members to spend, "
                    f"has {len(contributions)}"
                )
            balance = self._balance(pool_account(pool_id))
            if cost > balance:
                raise InsufficientFunds(
                    f"Insufficient funds in {pool_id} ({display_amount(balance)} available, "
                    f"need {display_amount(cost)})"
                )
            if cost == 0:
                raise InvalidInput("that request costs nothing; there is nothing to spend")
            seq = self.store.post_transfer(
                at=now, kind=Kind.POOL_SPEND, source=pool_account(pool_id), destination=INFERENCE,
                amount=cost, description=description, model=model, inference_tokens=count,
                pool_id=pool_id, idempotency_key=key,
            )
            shares = rules.proportional_split(cost, contributions)
            total = sum(contributions.values())
            credits = []
            for agent in sorted(contributions):
                self.store.record_pool_credit(seq, agent, contributions[agent], shares[agent])
                credits.append(Credit(agent, contributions[agent], shares[agent],
                                      str(rules.share_percent(contributions[agent], total))))
            return PoolSpend(pool_id, model, count, cost, balance - cost, description, seq,
                             tuple(credits))

        return self._operate("pool_spend", request, key, spend, PoolSpend, pool_id=pool_id,
                             amount=cost, accounts=[pool_account(pool_id)])

    def pool_dissolve(
        self, pool_id: str, *, idempotency_key: str | None = None
    ) -> PoolDissolution:
        """Close a pool and refund what is left pro rata, remainder to the largest share."""
        pool_id = self._pool_id(pool_id)
        key = self._client_key(idempotency_key)

        def dissolve(now: int) -> PoolDissolution:
            self._open_pool(pool_id)
            balance = self._balance(pool_account(pool_id))
            contributions = {m.agent: m.contributed for m in self.store.pool_members(pool_id)
                             if m.contributed > 0}
            refunds = []
            if balance > 0:
                shares = rules.proportional_split(balance, contributions)
                for agent in sorted(shares):
                    if shares[agent] == 0:
                        continue
                    self.store.post_transfer(
                        at=now, kind=Kind.POOL_REFUND, source=pool_account(pool_id),
                        destination=wallet(agent), amount=shares[agent],
                        description=f"refund from dissolved {pool_id}", pool_id=pool_id,
                        idempotency_key=key,
                    )
                    refunds.append(Refund(agent, shares[agent], self._tokens(agent)))
            self.store.mark_pool_dissolved(pool_id, now)
            return PoolDissolution(pool_id, balance, tuple(refunds))

        def refunded() -> list[str]:  # read, then locked, then read again (see _operate)
            return [pool_account(pool_id)] + [wallet(m.agent) for m in
                                              self.store.pool_members(pool_id) if m.contributed]

        return self._operate("pool_dissolve", {"pool": pool_id}, key, dissolve,
                             PoolDissolution, pool_id=pool_id, accounts=refunded)

    # -- the transaction around every write -------------------------------------------------

    def _operate(
        self, operation: str, request: dict[str, Any], key: str | None,
        body: Callable[[int], R], record_type: Any, *, agent: str | None = None,
        pool_id: str | None = None, amount: int | None = None,
        accounts: Iterable[str] | Callable[[], list[str]] = (),
    ) -> R:
        """Run ``body`` in one transaction, applying each idempotency key at most once.

        A refusal rolls back whatever ``body`` wrote, then records the refusal event (and,
        under a key, the refusal as the key's first result) before it is raised.

        Concurrency: the transaction first locks ``accounts``, every agent, pool or contract
        account the operation may touch, in one fixed order (by name), so the checks that
        follow (balance, windows, pool members, the key) read state no other writer can
        change before this one commits. The system accounts (mint, inference) are never
        checked, so they are not locked up front: the store touches them only after the
        chain's head row (ledger_head), which comes after every account lock and is held
        to commit.
        So every lock is taken in one global order and no two operations wait on each other
        in a cycle. Where the database still aborts a transaction (a serialization failure,
        a deadlock it broke, two first uses of one key racing), the whole operation runs
        again; it is idempotent, so a retry never applies anything twice."""
        request_hash = _request_hash(operation, request)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._operate_once(operation, request_hash, key, body, record_type,
                                          agent, pool_id, amount, accounts)
            except Exception as exc:
                again = isinstance(exc, _LockSetMoved) or self.store.should_retry(exc)
                if attempt == MAX_ATTEMPTS or not again:
                    raise
                time.sleep(random.uniform(0, 0.001 * attempt))  # de-synchronise the racers
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _operate_once(
        self, operation: str, request_hash: str, key: str | None, body: Callable[[int], R],
        record_type: Any, agent: str | None, pool_id: str | None, amount: int | None,
        accounts: Iterable[str] | Callable[[], list[str]],
    ) -> R:
        refusal: Refused | None = None
        with self.store.transaction():
            if callable(accounts):
                # The set depends on data (a pool's contributors): lock what was read, and
                # start over if it moved before the locks were held.
                locked = accounts()
                self.store.lock_accounts(locked)
                if set(accounts()) != set(locked):
                    raise _LockSetMoved
            else:
                self.store.lock_accounts(accounts)
            now = self.clock.now_us()
            if key is not None:
                previous = self.store.idempotency_record(key)
                if previous is not None:
                    if previous.request_hash != request_hash:
                        raise Conflict(
                            f"idempotency key {key!r} was already used for a different request"
                        )
                    if previous.outcome == "refused":
                        raise _refusal_from(previous.result)
                    return record_type.from_dict(previous.result)  # type: ignore[no-any-return]
            self.store.savepoint("operation")
            try:
                result = body(now)
            except Refused as exc:
                self.store.rollback_to("operation")
                refusal = exc
                self.store.record_refusal(
                    at=now, agent=agent, pool_id=pool_id, operation=operation,
                    code=exc.code, message=exc.message, amount=amount,
                )
                if key is not None:
                    self.store.save_idempotency(
                        key, request_hash, "refused", _refusal_record(exc), None, now)
            else:
                self.store.release("operation")
                if key is not None:
                    self.store.save_idempotency(
                        key, request_hash, "ok", asdict(result),  # type: ignore[call-overload]
                        getattr(result, "seq", None) or None, now,
                    )
                return result
        assert refusal is not None
        raise refusal

    # -- helpers --------------------------------------------------------------------------

    def _agent(self, name: str) -> str:
        if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
            raise InvalidInput(
                f"agent name {str(name)[:40]!r} is not valid: use lowercase letters, digits, "
                "- and _ (known agents: " + ", ".join(self.config.agents) + ")"
            )
        if name not in self.config.agents:
            raise InvalidInput(
                f"unknown agent {name!r} (known: {', '.join(self.config.agents)})"
            )
        return name

    def _pool_id(self, pool_id: str) -> str:
        if not isinstance(pool_id, str) or not _POOL_ID.match(pool_id):
            raise InvalidInput(f"pool id must look like pool-1, got {str(pool_id)[:40]!r}")
        if self.store.pool(pool_id) is None:
            raise InvalidInput(f"unknown pool {pool_id!r}; `token-exchange pool list` shows them")
        return pool_id

    def _open_pool(self, pool_id: str) -> Any:
        pool = self.store.pool(pool_id)
        assert pool is not None
        if pool.dissolved_at is not None:
            raise NotAllowed(f"{pool_id} is dissolved")
        return pool

    @staticmethod
    def _client_key(key: str | None) -> str | None:
        if key is None:
            return None
        if not isinstance(key, str) or not _IDEMPOTENCY_KEY.match(key):
            raise InvalidInput(
                "idempotency key must be 1-200 characters of letters, digits and ._:@/+=-"
            )
        return f"client:{key}"

    def _balance(self, account: str) -> int:
        found = self.store.account(account)
        return found.balance if found else 0

    def _tokens(self, agent: str) -> int:
        return self._balance(wallet(agent))

    def _window_usage(
        self, agent: str, at: int, latest: tuple[int, int] | None = None
    ) -> tuple[int, int]:
        """(last 60 minutes, last 24 hours) of consumption ending at ``at``: exact, and two
        indexed lookups whatever the agent's history."""
        _, cumulative = latest if latest is not None else self.store.latest_consumption(agent)
        hourly = cumulative - self.store.cumulative_at(agent, at - HOUR_US)
        daily = cumulative - self.store.cumulative_at(agent, at - DAY_US)
        return hourly, daily

    def _pool_view(self, pool_id: str) -> PoolView:
        pool = self.store.pool(pool_id)
        assert pool is not None
        members = self.store.pool_members(pool_id)
        total = sum(m.contributed for m in members)
        account = self.store.account(pool_account(pool_id))
        return PoolView(
            id=pool.id, name=pool.name, creator=pool.creator,
            min_contribution=pool.min_contribution,
            balance=account.balance if account else 0,
            total_contributed=total, total_spent=account.spent if account else 0,
            created_at=pool.created_at, dissolved_at=pool.dissolved_at,
            members=tuple(
                PoolMember(m.agent, m.contributed,
                           str(rules.share_percent(m.contributed, total)) if total else "0.00")
                for m in members
            ),
        )


# -- module helpers ---------------------------------------------------------------------


def _ledger_transfer(t: Any) -> LedgerTransfer:
    return LedgerTransfer(t.seq, t.at, t.kind, t.source, t.destination, t.amount,
                          t.description, t.project, t.model, t.inference_tokens, t.pool_id)


class _LockSetMoved(Exception):
    """The accounts an operation must lock changed while it was locking them."""


def _text(value: str, what: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({len(value)} characters, at most {limit})")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value) or "\x7f" in value:
        raise InvalidInput(f"{what} contains control characters")
    # Lone surrogates cannot be stored as UTF-8; bidirectional overrides would let a
    # description display as something other than what it says.
    if any("\ud800" <= ch <= "\udfff" or ch in _BIDI_CONTROLS for ch in value):
        raise InvalidInput(f"{what} contains invalid or direction-changing characters")
    return value.strip()


def _refusal_event(row: RefusalRow) -> RefusalEvent:
    return RefusalEvent(row.seq, row.at, row.agent, row.pool_id, row.operation, row.code,
                        row.message, row.amount)


def _hex(value: str, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{4,64}", value):
        raise InvalidInput(f"{what} must be hexadecimal, got {str(value)[:80]!r}")
    return value


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _whole(value: Any, what: str, low: int, high: int) -> int:
    """A whole number in [low, high], or InvalidInput (never a TypeError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}, "
                           f"got {str(value)[:40]!r}")
    return value


def _model(model: Any) -> str:
    if not isinstance(model, str) or not 0 < len(model) <= 100:
        raise InvalidInput(f"model must be a model name from config.toml, got "
                           f"{str(model)[:40]!r}")
    return model


def _issue_fields(priority: Any, issue_type: Any, labels: Any, close_reason: Any,
                  tombstoned: Any, title: Any) -> None:
    """The shape of an issue's fields, checked before any rule reads them."""
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)
                                 or not 0 <= priority <= 9):
        raise InvalidInput(f"issue priority must be 0-9 or missing, got {str(priority)[:20]!r}")
    for value, what in ((issue_type, "issue type"), (close_reason, "close reason")):
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            raise InvalidInput(f"{what} must be text of at most 500 characters")
    if not isinstance(labels, tuple | list) or len(labels) > 100 or not all(
            isinstance(label, str) and len(label) <= 100 for label in labels):
        raise InvalidInput("issue labels must be a list of at most 100 short strings")
    if not isinstance(tombstoned, bool):
        raise InvalidInput("tombstoned must be true or false")
    if not isinstance(title, str) or len(title) > 10_000:
        raise InvalidInput("issue title must be text of at most 10000 characters")


def _tokens_text(micro: int) -> str:
    return display_amount(micro)


def _raise_if_refused(decision: rules.SpendDecision) -> None:
    if decision.allowed:
        return
    code = decision.code or "refused"
    if code.endswith("_limit"):
        raise RateLimited(
            decision.message, kind=code.removesuffix("_limit"), used=decision.used,
            limit=decision.limit, needed=decision.needed,
        )
    raise InsufficientFunds(decision.message, code=code)


def _refusal_record(exc: Refused) -> dict[str, Any]:
    record: dict[str, Any] = {"class": type(exc).__name__, "code": exc.code,
                              "message": exc.message}
    if isinstance(exc, RateLimited):
        record.update(kind=exc.kind, used=exc.used, limit=exc.limit, needed=exc.needed)
    return record


def _refusal_from(record: dict[str, Any]) -> Refused:
    if record["class"] == "RateLimited":
        return RateLimited(record["message"], kind=record["kind"], used=record["used"],
                           limit=record["limit"], needed=record["needed"])
    classes: dict[str, type[Refused]] = {
        "InsufficientFunds": InsufficientFunds, "BudgetExhausted": BudgetExhausted,
        "NotAllowed": NotAllowed,
    }
    return classes.get(record["class"], Refused)(record["message"], code=record["code"])


def _request_hash(operation: str, request: dict[str, Any]) -> str:
    canonical = json.dumps({"op": operation, **request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# -- opening an exchange ----------------------------------------------------------------


def init_exchange(
    home: str | os.PathLike[str], *, clock: Clock | None = None, database: str | None = None,
) -> ExchangePaths:
    """Create ``<home>/.exchange`` with the commented default config and the database
    (SQLite in the home, or the PostgreSQL ``database`` URL, which the home then records).
    Leaves an existing config untouched."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    if url is not None and paths.database.exists():
        raise InvalidInput(
            f"{paths.home} keeps its ledger in {paths.database}; an exchange does not move "
            "to PostgreSQL by init (export it and import it into a new PostgreSQL home)"
        )
    paths.state.mkdir(parents=True, exist_ok=True)
    if not paths.config.exists():
        # Written aside and linked in: a concurrent init never reads a half-written config.
        draft = paths.state / f".config.toml.{os.getpid()}"
        draft.write_text(default_config_text(), "utf-8")
        try:
            os.link(draft, paths.config)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    open_exchange(paths.home, clock=clock, create=True, database=url).close()
    if url is not None:
        paths.record_database_url(url)
    return paths


def import_exchange(
    home: str | os.PathLike[str], image: LedgerImage, *, clock: Clock | None = None,
    database: str | None = None,
) -> ImportSummary:
    """Load a ledger image (an export, or a migrated Scheme exchange) into an exchange
    that holds nothing yet, keeping every seq number and time, in one transaction.

    The home gets the default config unless it has one. The image must hold together
    (hashes chain, stated balances equal what its transfers give, doctor finds no error);
    otherwise nothing is written and the files this call created are removed. With a
    PostgreSQL ``database`` URL (or one the home names), the ledger goes there."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    created_dir = not paths.state.exists()
    created_config = not paths.config.exists()
    created_db = url is None and not paths.database.exists()
    paths.state.mkdir(parents=True, exist_ok=True)
    if created_config:
        paths.config.write_text(default_config_text(), "utf-8")
    try:
        config = load_config(paths.config)
        store = open_store(url or paths.database, create=True)
    except BaseException:
        _remove_created(paths, created_dir, created_config, created_db)
        raise
    try:
        with store.transaction():
            empty, holding = ledger_is_empty(store)
            if not empty:
                raise InvalidInput(
                    f"the exchange at {paths.state} already holds {holding}; import needs "
                    "an empty exchange (pass --home with a new directory)")
            head = load_image(store, image)
            report = run_doctor(store, config)
            if not report.healthy:
                raise InvalidInput("the import does not hold together: "
                                   + report.errors[0].message + "; nothing was imported")
        exchange = Exchange(store, config, clock)  # opens accounts config adds beyond it
    except BaseException:
        store.close()
        if created_db:
            _remove_created(paths, created_dir, created_config, created_db)
        raise
    if url is not None:
        paths.record_database_url(url)
    with exchange:
        wallets = {a.name.removeprefix("agent:") for a in image.accounts if a.kind == "agent"}
        return ImportSummary(
            str(paths.home), len(image.transfers), len(image.accounts), len(image.pools),
            len(image.refusals), len(image.idempotency), head,
            tuple(sorted(wallets - set(config.agents))))


def _remove_created(paths: ExchangePaths, state: bool, config: bool, database: bool) -> None:
    for made, path in ((database, paths.database), (config, paths.config)):
        if made:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    if state:
        with contextlib.suppress(OSError):
            paths.state.rmdir()


def open_exchange(
    home: str | os.PathLike[str], *, clock: Clock | None = None, durable: bool = True,
    create: bool = False, database: str | None = None,
) -> Exchange:
    """Open the exchange kept at ``<home>/.exchange``; its ledger is at ``database`` (a
    ``postgresql://`` URL), else ``$TOKEN_EXCHANGE_DATABASE_URL``, else the URL the home
    recorded at init, else ``<home>/.exchange/exchange.db``."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    config = load_config(paths.config)
    store = open_store(url or paths.database, durable=durable, create=create)
    try:
        return Exchange(store, config, clock)
    except BaseException:
        store.close()
        raise


def _database_url(paths: ExchangePaths, explicit: str | None) -> str | None:
    url = paths.database_url(explicit)
    if url is not None and not is_postgres_url(url):
        raise InvalidInput(
            f"database must be a postgresql:// URL, got {url[:80]!r} "
            "(leave it out to use SQLite in the exchange home)"
        )
    return url


__all__ = ["Exchange", "import_exchange", "init_exchange", "open_exchange"]
