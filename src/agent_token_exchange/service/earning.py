"""Earning: what work pays (commits, closed issues, direct awards)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..economy import rules
from ..economy.accounts import MINT, Kind, contract_account, wallet
from ..economy.records import Payment
from ..economy.validation import check_issue_fields, hex_id, project_name, text_field
from ..errors import BudgetExhausted, InvalidInput
from ..money import parse_amount, tokens
from . import idempotency
from .future_delivery import deliver_for_commit, deliver_for_issue
from .operations import Core, client_key


class Earning:
    """Pays agents: from a contract's budget for commits, minted for issues and awards."""

    def __init__(self, core: Core) -> None:
        self._core = core

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
        core, store = self._core, self._core.store
        author_email = text_field(author_email, "author email", limit=320)
        project = project_name(project)
        message = text_field(message, "commit message", limit=10_000)
        agent = rules.agent_for_email(core.config, author_email)
        if agent is None:
            raise InvalidInput(
                f"unknown commit author {author_email!r}: not a configured agent's email "
                "and its local part is no agent's name; nothing paid"
            )
        if sha is not None:
            key = idempotency.commit_key(hex_id(sha, "commit SHA"))
        else:
            key = client_key(idempotency_key)
        replaced_key = (idempotency.commit_key(hex_id(replaces, "replaced commit SHA"))
                        if replaces else None)
        work_key = (idempotency.commit_work_key(hex_id(patch_id, "patch id"), agent)
                    if patch_id else None)
        reward = rules.commit_reward(core.config, agent, project, message)
        request = {"agent": agent, "project": project, "message": message}
        subject = message.splitlines()[0][:200]
        budget_account = contract_account(reward.contract)

        def pay(now: int) -> Payment:
            already = self._work_already_paid(replaced_key, work_key)
            if already is not None:
                if work_key is not None and store.idempotency.get(work_key) is None:
                    self._remember_work(work_key, already, now)
                return Payment("commit", agent, tokens(0), tokens(core.tokens(agent)), 0,
                               budget_account, subject, project, tokens(0),
                               f"already paid: {already['why']}")
            payable = rules.capped_commit_reward(reward, core.balance(budget_account))
            if not payable.allowed:
                raise BudgetExhausted(payable.note)
            amount, note = payable.amount, payable.note
            if amount == 0:  # a reward of nothing (a multiplier of 0): settled, no transfer
                return Payment("commit", agent, tokens(0), tokens(core.tokens(agent)), 0,
                               budget_account, subject, project, tokens(0),
                               "earns nothing under its multipliers")
            seq = store.transfers.post(
                at=now, kind=Kind.COMMIT, source=budget_account, destination=wallet(agent),
                amount=amount, description=subject, project=project, idempotency_key=key,
            )
            deliver_for_commit(core, agent, project, sha, now)  # futures this commit proves
            if work_key is not None and store.idempotency.get(work_key) is None:
                self._remember_work(work_key, {"sha": sha, "seq": seq}, now)
            return Payment("commit", agent, tokens(amount), tokens(core.tokens(agent)), seq,
                           budget_account, subject, project, tokens(reward.amount), note)

        return core.operate("commit", request, key, pay, Payment, agent=agent,
                            accounts=[budget_account, wallet(agent)])

    def _work_already_paid(self, replaced_key: str | None,
                           work_key: str | None) -> dict[str, Any] | None:
        """The earlier settlement this commit's work belongs to, if any, with a reason."""
        records = self._core.store.idempotency
        if replaced_key is not None:
            previous = records.get(replaced_key)
            if previous is not None and previous.outcome == "ok":
                sha = replaced_key.removeprefix("commit:")
                return {"sha": sha, "seq": previous.result.get("seq"),
                        "why": f"it replaces commit {sha[:12]} (amend)"}
        if work_key is not None:
            previous = records.get(work_key)
            if previous is not None:
                sha = str(previous.result.get("sha") or "")
                return {**previous.result,
                        "why": f"same change as commit {sha[:12]} (matching patch id)"}
        return None

    def _remember_work(self, work_key: str, settled: dict[str, Any], now: int) -> None:
        """Record which commit a change (patch id + agent) was settled by. No transfer
        carries this key, so it keeps no sequence number."""
        record = {"sha": settled.get("sha"), "seq": settled.get("seq")}
        self._core.store.idempotency.save(
            work_key, idempotency.request_hash("commit-work", record), "ok", record, None, now)

    def award(
        self, agent: str, amount: Decimal | str | int, source: str, description: str,
        *, idempotency_key: str | None = None,
    ) -> Payment:
        """Mint tokens straight into an agent's wallet (for integrations)."""
        core = self._core
        agent = core.agent(agent)
        micro = parse_amount(amount)
        source = text_field(source, "source", limit=100)
        description = text_field(description, "description")
        key = client_key(idempotency_key)
        request = {"agent": agent, "amount": micro, "source": source, "description": description}

        def pay(now: int) -> Payment:
            seq = core.store.transfers.post(
                at=now, kind=Kind.AWARD, source=MINT, destination=wallet(agent), amount=micro,
                description=f"{source}: {description}", idempotency_key=key,
            )
            return Payment("award", agent, tokens(micro), tokens(core.tokens(agent)), seq, MINT,
                           description, None, tokens(micro))

        return core.operate("award", request, key, pay, Payment, agent=agent,
                            accounts=[wallet(agent)])

    def pay_issue(
        self, issue_id: str, agent: str, *, priority: int | None, issue_type: str | None,
        labels: tuple[str, ...] = (), close_reason: str | None = None,
        tombstoned: bool = False, title: str = "",
    ) -> Payment:
        """Pay for a closed issue: priority base × type multiplier (rules.issue_reward).
        An issue pays once, however often it is closed; one that earns nothing (a
        failure close, an infrastructure type, a tombstone) is settled at zero."""
        core = self._core
        agent = core.agent(agent)
        issue_id = text_field(issue_id, "issue id", limit=200)
        check_issue_fields(priority, issue_type, labels, close_reason, tombstoned, title)
        reward = rules.issue_reward(
            core.config, priority=priority, issue_type=issue_type, labels=labels,
            close_reason=close_reason, tombstoned=tombstoned,
        )
        key = idempotency.issue_key(issue_id)
        description = f"closed {issue_id}" + (f": {title[:150]}" if title else "")

        def pay(now: int) -> Payment:
            if reward.amount == 0:
                return Payment("issue", agent, tokens(0), tokens(core.tokens(agent)), 0, MINT,
                               description, None, tokens(0), reward.reason)
            seq = core.store.transfers.post(
                at=now, kind=Kind.ISSUE, source=MINT, destination=wallet(agent),
                amount=reward.amount, description=description, idempotency_key=key,
            )
            deliver_for_issue(core, agent, issue_id, now)  # futures this issue proves
            return Payment("issue", agent, tokens(reward.amount), tokens(core.tokens(agent)),
                           seq, MINT, description, None, tokens(reward.amount), reward.reason)

        return core.operate("issue", {"issue": issue_id}, key, pay, Payment, agent=agent,
                            accounts=[wallet(agent)])
