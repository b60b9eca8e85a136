"""Governance: staked agents propose a change of one parameter, vote with the stake they
held when it was proposed, and a proposal that passes takes effect after a timelock, for
every process (service/parameters.py). The rules are economy/governance.py's.

- ``propose`` needs ``governance.proposal_threshold`` staked. It snapshots every staker's
  stake (``proposal_stakes``): that is each one's voting power, and their total the base
  of the quorum. The quorum and timelock in force are kept with the proposal.
- ``vote`` is yes, no or abstain, until the vote ends; voting again replaces the vote.
- ``close_due`` (a settle step) closes each vote that has ended (passed, rejected or
  no_quorum) and enacts each passed proposal whose timelock is over: its value goes to
  ``parameter_changes``, which every process lays over config.toml.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..clock import iso_utc
from ..economy import governance as rules
from ..economy.accounts import stake_account
from ..economy.governance_records import Parameter, Proposal, Vote
from ..economy.settle_records import SettledItem
from ..economy.validation import text_field
from ..errors import InvalidInput, NotAllowed, NotFound
from ..ledger.governance import ProposalRow
from ..money import display_amount, micro, tokens
from .operations import Core, client_key

PROPOSAL_ID = re.compile(r"^prop-[1-9][0-9]{0,17}$")


class GovernanceOperations:
    """Propose, vote, close votes and enact; and the reads over them."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def propose(self, agent: str, parameter: str, value: Decimal | str | int, *, reason: str,
                idempotency_key: str | None = None) -> Proposal:
        """Propose ``parameter`` = ``value``, as an agent with at least the proposal
        threshold staked; the vote runs ``governance.voting_hours`` from now."""
        core, store = self._core, self._core.store
        agent = core.agent(agent)
        checked = rules.validate_value(core.config, parameter, value)  # the name too
        reason = text_field(reason, "reason", limit=500)
        key = client_key(idempotency_key)
        request = {"agent": agent, "parameter": parameter, "value": str(checked),
                   "reason": reason}

        def propose(now: int) -> Proposal:
            rules_now = core.config.governance
            refused = rules.proposer_refusal(store.governance.staked(agent),
                                             micro(rules_now.proposal_threshold), agent)
            if refused is not None:
                raise NotAllowed(refused)
            stakes = {a: s for a, s in store.governance.all_stakes().items() if s > 0}
            number = store.governance.next_number()
            row = ProposalRow(
                f"prop-{number}", number, agent, parameter, checked, reason, now,
                now + rules.hours_us(rules_now.voting_hours),
                rules.hours_us(rules_now.timelock_hours), rules_now.quorum,
                sum(stakes.values()), "voting", None, None)
            store.governance.create_proposal(row)
            store.governance.snapshot_stakes(row.id, stakes)
            return proposal_view(core, row)

        return core.operate("propose", request, key, propose, Proposal, agent=agent,
                            accounts=[stake_account(agent)])

    def vote(self, agent: str, proposal_id: str, choice: str, *,
             idempotency_key: str | None = None) -> Proposal:
        """Vote on an open proposal with the stake ``agent`` held when it was made; a
        second vote replaces the first."""
        core, store = self._core, self._core.store
        agent = core.agent(agent)
        proposal_id = self._known(proposal_id)
        picked = rules.choice(choice)
        key = client_key(idempotency_key)

        def vote(now: int) -> Proposal:
            row = store.governance.proposal(proposal_id, lock=True)
            assert row is not None
            if row.status != "voting" or now >= row.voting_ends_at:
                raise NotAllowed(f"{proposal_id}'s vote ended at {iso_utc(row.voting_ends_at)}")
            power = store.governance.power(proposal_id, agent)
            if power <= 0:
                raise NotAllowed(f"{agent} had nothing staked when {proposal_id} was made: "
                                 "only stake held then votes on it")
            store.governance.cast(proposal_id, agent, picked, power, now)
            return proposal_view(core, row)

        return core.operate("vote", {"agent": agent, "proposal": proposal_id,
                                     "choice": picked}, key, vote, Proposal, agent=agent)

    # -- settle ---------------------------------------------------------------------------

    def close_due(self) -> list[SettledItem]:
        """Close every vote that has ended, then enact every passed proposal whose
        timelock is over. Idempotent; one indexed lookup when nothing is due."""
        core, store = self._core, self._core.store
        if not store.governance.any_due(core.clock.now_us()):
            return []
        items = [item for pid in store.governance.closing_due(core.clock.now_us())
                 if (item := core.write(lambda now, pid=pid: self._close(pid, now)))]
        enacted = [item for pid in store.governance.enacting_due(core.clock.now_us())
                   if (item := core.write(lambda now, pid=pid: self._enact(pid, now)))]
        if enacted:
            core.parameters.forget()  # this process sees the change at once
        return items + enacted

    def _close(self, proposal_id: str, now: int) -> SettledItem | None:
        store = self._core.store
        row = store.governance.proposal(proposal_id, lock=True)
        if row is None or row.status != "voting" or row.voting_ends_at > now:
            return None  # another process closed it first
        result = _tally(self._core, row)
        status = rules.outcome(result, row.quorum)
        store.governance.set_status(proposal_id, status, closed_at=now)
        detail = {
            "passed": f"passed: {row.parameter} = {row.value} from "
                      f"{iso_utc(row.effective_at)}",
            "rejected": f"rejected: {display_amount(result.no)} no against "
                        f"{display_amount(result.yes)} yes",
            "no_quorum": f"no quorum: {result.turnout * 100:.2f}% of stake voted, "
                         f"{row.quorum * 100:.2f}% needed",
        }[status]
        return SettledItem("proposal", proposal_id, status, Decimal(0), detail)

    def _enact(self, proposal_id: str, now: int) -> SettledItem | None:
        store = self._core.store
        row = store.governance.proposal(proposal_id, lock=True)
        if row is None or row.status != "passed" or row.effective_at > now:
            return None
        store.governance.record_change(row.parameter, row.value, proposal_id, now)
        store.governance.set_status(proposal_id, "enacted", enacted_at=now)
        return SettledItem("proposal", proposal_id, "enacted", Decimal(0),
                           f"{row.parameter} = {row.value} in effect")

    # -- reads ----------------------------------------------------------------------------

    def proposals(self) -> list[Proposal]:
        core = self._core
        with core.store.snapshot():
            return [proposal_view(core, row) for row in core.store.governance.proposals()]

    def proposal_show(self, proposal_id: str) -> Proposal:
        core = self._core
        proposal_id = self._known(proposal_id)
        with core.store.snapshot():
            row = core.store.governance.proposal(proposal_id)
            assert row is not None
            return proposal_view(core, row)

    def parameters(self) -> list[Parameter]:
        """Each parameter a proposal may change: its effective value and its source."""
        core = self._core
        effective = core.parameters.refresh()
        base = core.parameters.base
        latest = {c.parameter: c for c in core.store.governance.changes()}
        found = []
        for name in rules.allowed_parameters(base):
            change = latest.get(name)
            found.append(Parameter(name, rules.config_value(effective, name),
                                   rules.config_value(base, name),
                                   "config" if change is None else change.proposal_id,
                                   None if change is None else change.applied_at))
        return found

    def _known(self, proposal_id: str) -> str:
        if not isinstance(proposal_id, str) or not PROPOSAL_ID.match(proposal_id):
            raise InvalidInput(f"proposal id must look like prop-1, got "
                               f"{str(proposal_id)[:40]!r}")
        if self._core.store.governance.proposal(proposal_id) is None:
            raise NotFound(f"unknown proposal {proposal_id!r}; `token-exchange proposal list` "
                           "shows them")
        return proposal_id


def settle_proposals(core: Core) -> list[SettledItem]:
    """The settle step (service/settle.py): close ended votes, then enact passed
    proposals whose timelock is over."""
    return GovernanceOperations(core).close_due()


def _tally(core: Core, row: ProposalRow) -> rules.Tally:
    votes = {a: (c, p) for a, c, p, _ in core.store.governance.votes(row.id)}
    return rules.tally(votes, row.total_stake)


def proposal_view(core: Core, row: ProposalRow) -> Proposal:
    """A proposal as the API shows it, with its tally and votes read now."""
    votes = core.store.governance.votes(row.id)
    result = rules.tally({a: (c, p) for a, c, p, _ in votes}, row.total_stake)
    return Proposal(
        row.id, row.proposer, row.parameter, row.value, row.reason, row.status, row.created_at,
        row.voting_ends_at, row.effective_at, tokens(row.total_stake), row.quorum,
        tokens(result.yes), tokens(result.no), tokens(result.abstain), result.turnout,
        tuple(Vote(a, c, tokens(p), at) for a, c, p, at in votes), row.closed_at,
        row.enacted_at)


__all__ = ["PROPOSAL_ID", "GovernanceOperations", "proposal_view", "settle_proposals"]
