"""The exchange: each operation is one database transaction that reads state, asks
``rules`` for a decision and writes transfers. This is the only place rules meet storage.

    ex = open_exchange("/tmp/team")
    ex.llm("zero", "coding", 5000)
    ex.balance("zero").tokens
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from typing import Any, TypeVar

from ..clock import Clock, SystemClock
from ..economy import rules
from ..economy.accounts import INFERENCE, MINT, contract_account, pool_account, wallet
from ..economy.config import Config
from ..economy.records import (
    Charge,
    Credit,
    DoctorReport,
    Payment,
    PoolContribution,
    PoolDissolution,
    PoolSpend,
    PoolView,
    Refund,
)
from ..economy.validation import (
    IDEMPOTENCY_KEY,
    TASK_TYPE,
    check_issue_fields,
    hex_id,
    model_name,
    text_field,
)
from ..errors import (
    BudgetExhausted,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotAllowed,
    RateLimited,
    Refused,
)
from ..ledger import Kind, Store
from ..money import parse_amount, parse_count, to_micro
from . import idempotency
from .doctor import run_doctor
from .idempotency import refusal_from_record, refusal_record
from .queries import ExchangeViews

R = TypeVar("R")

# How often an operation runs again after the database aborted it (serialization failure,
# a deadlock it broke, two first uses of one key racing). Operations are idempotent.
MAX_ATTEMPTS = 20


class Exchange(ExchangeViews):
    """The token exchange over one store. Methods mirror the CLI's commands.

    ``write_lock``, when given, is held around each write transaction: exchanges that
    share one (a server's, one per request in flight) queue their writes on it before
    they meet the database's own lock."""

    def __init__(self, store: Store, config: Config, clock: Clock | None = None, *,
                 write_lock: AbstractContextManager[object] | None = None) -> None:
        self.store = store
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.write_lock: AbstractContextManager[object] = write_lock or nullcontext()
        self._open_accounts()

    # -- set-up ---------------------------------------------------------------------------

    def _open_accounts(self) -> None:
        """Create what the config names but the ledger lacks: system accounts, each
        agent's wallet with its start grant, each contract's funded budget."""
        wanted = [MINT, INFERENCE]
        wanted += [wallet(a) for a in self.config.agents]
        wanted += [contract_account(c.name) for c in self.config.contracts]
        with self.store.snapshot():
            present = {account.name for account in self.store.accounts()}
        if set(wanted) <= present:
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

    # -- checking ---------------------------------------------------------------------------

    def doctor(self, fix: bool = False) -> DoctorReport:
        """Check every invariant; with ``fix`` rebuild what is derived (never a transfer)."""
        if not fix:  # one consistent view, blocking no writer
            with self.store.snapshot():
                return run_doctor(self.store, self.config)
        with self.write_lock, self.store.transaction():  # rebuild, every account held
            self.store.lock_accounts(a.name for a in self.store.accounts())
            return run_doctor(self.store, self.config, fix=True)

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
        author_email = text_field(author_email, "author email", limit=320)
        project = text_field(project, "project")
        message = text_field(message, "commit message", limit=10_000)
        agent = rules.agent_for_email(self.config, author_email)
        if agent is None:
            raise InvalidInput(
                f"unknown commit author {author_email!r}: not a configured agent's email "
                "and its local part is no agent's name; nothing paid"
            )
        key = None
        if sha is not None:
            key = idempotency.commit_key(hex_id(sha, "commit SHA"))
        else:
            key = self._client_key(idempotency_key)
        replaced_key = (idempotency.commit_key(hex_id(replaces, "replaced commit SHA"))
                        if replaces else None)
        work_key = (idempotency.commit_work_key(hex_id(patch_id, "patch id"), agent)
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
            payable = rules.capped_commit_reward(reward, account.balance if account else 0)
            if not payable.allowed:
                raise BudgetExhausted(payable.note)
            amount, note = payable.amount, payable.note
            if amount == 0:  # a reward of nothing (a multiplier of 0): settled, no transfer
                return Payment("commit", agent, 0, self._tokens(agent), 0, budget_account,
                               subject, project, 0, "earns nothing under its multipliers")
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
        self.store.save_idempotency(work_key, idempotency.request_hash("commit-work", record), "ok",
                                    record, None, now)

    def award(
        self, agent: str, amount: str | int, source: str, description: str,
        *, idempotency_key: str | None = None,
    ) -> Payment:
        """Mint tokens straight into an agent's wallet (for integrations)."""
        agent = self._agent(agent)
        micro = parse_amount(amount)
        source = text_field(source, "source", limit=100)
        description = text_field(description, "description")
        key = self._client_key(idempotency_key)
        request = {"agent": agent, "amount": micro, "source": source, "description": description}

        def pay(now: int) -> Payment:
            seq = self.store.post_transfer(
                at=now, kind=Kind.AWARD, source=MINT, destination=wallet(agent), amount=micro,
                description=f"{source}: {description}", idempotency_key=key,
            )
            return Payment("award", agent, micro, self._tokens(agent), seq, MINT,
                           description, None, micro)

        return self._operate("award", request, key, pay, Payment, agent=agent,
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
        issue_id = text_field(issue_id, "issue id", limit=200)
        check_issue_fields(priority, issue_type, labels, close_reason, tombstoned, title)
        reward = rules.issue_reward(
            self.config, priority=priority, issue_type=issue_type, labels=labels,
            close_reason=close_reason, tombstoned=tombstoned,
        )
        key = idempotency.issue_key(issue_id)
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
        if not isinstance(task_type, str) or not TASK_TYPE.match(task_type):
            raise InvalidInput(
                f"task type must be a short lowercase word like coding, got {str(task_type)[:40]!r}"
            )
        count = parse_count(token_count)
        model = (model_name(model) if model is not None
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
        name = text_field(name, "pool name", limit=100)
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
            members = {m.agent for m in self.store.pool_members(pool_id)}
            _raise_if_refused(rules.check_contribution(
                pool_id, agent, is_member=agent in members, amount=micro,
                minimum=pool.min_contribution))
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
        cost = rules.llm_cost(self.config, model_name(model), count)
        description = text_field(description, "description")
        key = self._client_key(idempotency_key)
        request = {"pool": pool_id, "model": model, "count": count, "description": description}

        def spend(now: int) -> PoolSpend:
            self._open_pool(pool_id)
            contributions = {m.agent: m.contributed for m in self.store.pool_members(pool_id)
                             if m.contributed > 0}
            balance = self._balance(pool_account(pool_id))
            _raise_if_refused(rules.check_pool_spend(
                pool_id, contributors=len(contributions),
                min_members=self.config.pools.min_members, cost=cost, balance=balance))
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
        # Only a keyed request is ever compared with an earlier one.
        request_hash = idempotency.request_hash(operation, request) if key is not None else ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.write_lock:
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
                        raise refusal_from_record(previous.result)
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
                        key, request_hash, "refused", refusal_record(exc), None, now)
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
        if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
            raise InvalidInput(
                "idempotency key must be 1-200 characters of letters, digits and ._:@/+=-"
            )
        return idempotency.client_key(key)


# -- module helpers ---------------------------------------------------------------------


class _LockSetMoved(Exception):
    """The accounts an operation must lock changed while it was locking them."""


def _raise_if_refused(decision: rules.SpendDecision) -> None:
    if decision.allowed:
        return
    code = decision.code or "refused"
    if code.endswith("_limit"):
        raise RateLimited(
            decision.message, kind=code.removesuffix("_limit"), used=decision.used,
            limit=decision.limit, needed=decision.needed,
        )
    if code == "not_allowed":
        raise NotAllowed(decision.message)
    raise InsufficientFunds(decision.message, code=code)


__all__ = ["Exchange"]
