"""Staking: tokens an agent stakes are its voting power (service/governance.py).

``stake`` moves tokens from the wallet to ``stake:NAME`` (an outflow the agent starts:
the reserve applies). ``unstake`` moves them on to ``unbonding:NAME``, where they wait
``governance.unbonding_hours``; ``release_due`` (a settle step) returns each unbonding
whose time has come to the wallet. The ``stakes`` and ``unbondings`` rows say what each
of those accounts must hold, and doctor checks that they do (``check_stake_accounts``).
"""

from __future__ import annotations

from decimal import Decimal

from ..economy import rules
from ..economy.accounts import Kind, stake_account, unbonding_account, wallet
from ..economy.governance import hours_us
from ..economy.governance_records import StakeChange, Unbonding
from ..economy.records import Finding
from ..economy.settle_records import SettledItem
from ..errors import InsufficientFunds
from ..ledger import Store
from ..ledger.governance import UnbondingRow
from ..money import display_amount, parse_amount, tokens
from .operations import Core, client_key, raise_if_refused


class Staking:
    """Stake, unstake, and release what has waited out its unbonding."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def stake(self, agent: str, amount: Decimal | str | int, *,
              idempotency_key: str | None = None) -> StakeChange:
        """Move ``amount`` from the agent's wallet to its stake (the reserve applies)."""
        core, store = self._core, self._core.store
        agent = core.agent(agent)
        micro = parse_amount(amount)
        key = client_key(idempotency_key)

        def stake(now: int) -> StakeChange:
            raise_if_refused(rules.check_outflow(
                core.config.limits_for(agent), amount=micro, balance=core.tokens(agent)))
            store.accounts.create(stake_account(agent), "stake", now)
            seq = store.transfers.post(
                at=now, kind=Kind.STAKE, source=wallet(agent), destination=stake_account(agent),
                amount=micro, description="staked for governance", idempotency_key=key)
            store.governance.add_stake(agent, micro)
            return self._change(agent, "stake", micro, seq)

        return core.operate("stake", {"agent": agent, "amount": micro}, key, stake,
                            StakeChange, agent=agent, amount=micro,
                            accounts=[wallet(agent), stake_account(agent)])

    def unstake(self, agent: str, amount: Decimal | str | int, *,
                idempotency_key: str | None = None) -> StakeChange:
        """Move ``amount`` of the agent's stake to unbonding; it returns to the wallet
        ``governance.unbonding_hours`` later (``release_due``)."""
        core, store = self._core, self._core.store
        agent = core.agent(agent)
        micro = parse_amount(amount)
        key = client_key(idempotency_key)

        def unstake(now: int) -> StakeChange:
            staked = store.governance.staked(agent)
            if micro > staked:
                raise InsufficientFunds(f"{agent} has {display_amount(staked)} staked, "
                                        f"cannot unstake {display_amount(micro)}")
            store.accounts.create(unbonding_account(agent), "unbonding", now)
            release_at = now + hours_us(core.config.governance.unbonding_hours)
            seq = store.transfers.post(
                at=now, kind=Kind.UNSTAKE, source=stake_account(agent),
                destination=unbonding_account(agent), amount=micro,
                description="unstaked: unbonding until release", idempotency_key=key)
            store.governance.add_stake(agent, -micro)
            store.governance.start_unbonding(agent, micro, now, release_at, seq)
            return self._change(agent, "unstake", micro, seq, release_at)

        return core.operate("unstake", {"agent": agent, "amount": micro}, key, unstake,
                            StakeChange, agent=agent, amount=micro,
                            accounts=[stake_account(agent), unbonding_account(agent)])

    def _change(self, agent: str, action: str, micro: int, seq: int,
                release_at: int | None = None) -> StakeChange:
        core = self._core
        staked = core.store.governance.staked(agent)
        return StakeChange(agent, action, tokens(micro), tokens(staked),
                           tokens(core.balance(unbonding_account(agent))),
                           tokens(core.tokens(agent)), seq, release_at)

    # -- settle ---------------------------------------------------------------------------

    def release_due(self) -> list[SettledItem]:
        """Return every unbonding whose time has come to its agent's wallet (UNBOND).
        Idempotent; one indexed lookup when nothing is due."""
        core, store = self._core, self._core.store
        if not store.governance.any_unbonding_due(core.clock.now_us()):
            return []

        def accounts() -> list[str]:
            agents = sorted({row.agent for row in
                             store.governance.due_unbondings(core.clock.now_us())})
            return [name for a in agents for name in (unbonding_account(a), wallet(a))]

        def release(now: int) -> list[SettledItem]:
            items = []
            for row in store.governance.due_unbondings(now):
                seq = store.transfers.post(
                    at=now, kind=Kind.UNBOND, source=unbonding_account(row.agent),
                    destination=wallet(row.agent), amount=row.amount,
                    description=f"unbonding u{row.id} released")
                if not store.governance.mark_released(row.id, now, seq):
                    raise AssertionError(f"unbonding u{row.id} released twice")
                items.append(SettledItem("unbonding", row.agent, "released", tokens(row.amount),
                                         f"{display_amount(row.amount)} unbonded back to "
                                         f"{row.agent}'s wallet"))
            return items

        return core.operate("unbond", {}, None, release, list, accounts=accounts)

    # -- reads ----------------------------------------------------------------------------

    def unbondings(self, agent: str | None = None) -> list[Unbonding]:
        """Unbondings not yet released (an agent's, or everyone's), soonest first."""
        core = self._core
        rows = core.store.governance.pending(None if agent is None else core.agent(agent))
        return [unbonding_record(row) for row in rows]


def settle_unbondings(core: Core) -> list[SettledItem]:
    """The settle step (service/settle.py): unbondings whose time has come, back to their
    wallets."""
    return Staking(core).release_due()


def unbonding_record(row: UnbondingRow) -> Unbonding:
    return Unbonding(row.id, row.agent, tokens(row.amount), row.started_at, row.release_at,
                     row.released_at)


def check_stake_accounts(store: Store, cached: dict[str, int]) -> list[Finding]:
    """Doctor: each stake:NAME account holds the agent's staked total, and each
    unbonding:NAME the sum of its unreleased unbondings."""
    staked = store.governance.all_stakes()
    pending = store.governance.pending_sums()
    findings = []
    for prefix, expected in (("stake:", staked), ("unbonding:", pending)):
        names = {n for n in cached if n.startswith(prefix)}
        names |= {prefix + agent for agent, amount in expected.items() if amount}
        for name in sorted(names):
            want = expected.get(name.removeprefix(prefix), 0)
            if cached.get(name, 0) != want:
                what = "staked total" if prefix == "stake:" else "unreleased unbondings"
                findings.append(Finding("stakes", False, "error",
                                        f"{name} holds {display_amount(cached.get(name, 0))} "
                                        f"but its {what} come to {display_amount(want)}"))
    if not findings:
        findings.append(Finding("stakes", True, "info", "every stake and unbonding account "
                                "equals its records"))
    return findings


__all__ = ["Staking", "check_stake_accounts", "settle_unbondings", "unbonding_record"]
