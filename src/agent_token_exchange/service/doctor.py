"""Doctor: prove every invariant of DESIGN.md against the transfer log.

Transfers are the truth; everything else (cached balances, earned/spent, pool
contributions, consumption windows) is derived from them (and the pool draws each spend
recorded) and can be rebuilt with ``fix=True``. A pool's stakes are checked (their sum is
the pool's balance) but not rebuilt. Nothing here ever changes or adds a transfer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..clock import DAY_US, HOUR_US, iso_utc
from ..economy.accounts import MINT, pool_account, wallet
from ..economy.records import DoctorReport, Finding
from ..ledger import Store
from ..money import display_amount
from .audit import verify_chain
from .future_checks import check_futures
from .loan_doctor import check_loans
from .staking import check_stake_accounts

if TYPE_CHECKING:
    from ..economy.config import Config


def run_doctor(store: Store, config: Config, *, fix: bool = False) -> DoctorReport:
    """Run every check inside the caller's transaction and return the findings. With
    ``fix`` the caller (``Exchange.doctor``) holds a write transaction with every account
    locked; the rebuilt figures go back through the store's repositories."""
    # The transfer log is read in full once here (derived figures) and once, in pages, by
    # the chain check, which also finds a missing or inserted transfer.
    derived = store.repair.account_figures()
    findings: list[Finding] = []
    cached, found = _check_cached_figures(store, derived, fix)
    findings += found
    findings += _check_conservation(cached)  # after the cache check: a fix mends it
    findings += _check_floors(derived, cached, config)
    findings += _check_pools(store, cached, fix)
    findings += _check_holds(store, cached)
    findings += check_futures(store, cached)
    findings += check_loans(store, cached)
    findings += check_stake_accounts(store, cached)
    findings += _check_idempotency(store)
    findings += _check_consumption(store, config, fix)
    findings += _check_chain(store)
    return DoctorReport(tuple(findings))


def _ok(check: str, message: str) -> Finding:
    return Finding(check, True, "info", message)


def _error(check: str, message: str, *, fixed: bool = False) -> Finding:
    return Finding(check, False, "error", message, fixed)


def _warning(check: str, message: str) -> Finding:
    return Finding(check, False, "warning", message)


def _check_chain(store: Store) -> list[Finding]:
    """The audit chain: nothing doctor --fix can rebuild, since transfers are the truth."""
    report = verify_chain(store)
    if not report.intact:
        return [_error("audit", report.problem)]
    return [_ok("audit", f"hash chain intact over {_count(report.transfers, 'transfer')} "
                         f"(head {report.head_hash[:16]}…)")]


def _check_conservation(cached: dict[str, int]) -> list[Finding]:
    """The cached balances sum to zero. (Balances derived from transfers always do: every
    transfer takes from one account what it gives another.)"""
    total = sum(cached.values())
    if total != 0:
        return [_error("conservation", f"balances sum to {display_amount(total)}, not 0")]
    return [_ok("conservation", "all balances sum to exactly 0")]


def _check_cached_figures(
    store: Store, derived: dict[str, tuple[int, int, int]], fix: bool
) -> tuple[dict[str, int], list[Finding]]:
    """Cached figures against the transfers; returns the balances as they stand after any
    rebuild, with the findings."""
    accounts = {a.name: a for a in store.accounts.all()}
    balances = {name: account.balance for name, account in accounts.items()}
    findings = []
    for name in sorted(set(derived) - set(accounts)):
        findings.append(_error("cache", f"transfers name account {name} which does not exist"))
    for name, account in sorted(accounts.items()):
        balance, earned, spent = derived.get(name, (0, 0, 0))
        if (account.balance, account.earned, account.spent) != (balance, earned, spent):
            if fix:
                store.accounts.set_figures(name, balance, earned, spent)
                balances[name] = balance
            findings.append(_error(
                "cache",
                f"{name}: cached balance/earned/spent {display_amount(account.balance)}/"
                f"{display_amount(account.earned)}/{display_amount(account.spent)} but transfers "
                f"give {display_amount(balance)}/{display_amount(earned)}/{display_amount(spent)}"
                + (" (rebuilt)" if fix else ""),
                fixed=fix,
            ))
    if not findings:
        findings.append(_ok("cache", f"{_count(len(accounts), 'cached balance')} equal "
                                     "their transfers"))
    return balances, findings


def _check_floors(
    derived: dict[str, tuple[int, int, int]], cached: dict[str, int], config: Config
) -> list[Finding]:
    findings = []
    for name, (balance, _, _) in sorted(derived.items()):
        if name != MINT and balance < 0:
            findings.append(_error("floor", f"{name} is below zero: {display_amount(balance)}"))
    for agent in config.agents:
        balance = cached.get(wallet(agent))
        reserve = config.limits_for(agent).reserve
        if balance is not None and balance < reserve:
            findings.append(_warning(
                "floor", f"{agent} holds {display_amount(balance)}, under its reserve "
                         f"{display_amount(reserve)} (was the reserve raised?)"))
    if not findings:
        findings.append(_ok("floor", "no account below its floor"))
    return findings


def _check_pools(store: Store, cached: dict[str, int], fix: bool) -> list[Finding]:
    findings = []
    derived = store.repair.contributions()
    for member in store.pools.all_members():
        pool_id, agent, contributed = member.pool_id, member.agent, member.contributed
        truth = derived.get((pool_id, agent), 0)
        if contributed != truth:
            if fix:
                store.pools.set_contribution(pool_id, agent, truth)
            findings.append(_error(
                "pools", f"{pool_id}: {agent} shows {display_amount(contributed)} contributed, "
                         f"transfers give {display_amount(truth)}" + (" (rebuilt)" if fix else ""),
                fixed=fix))
    stakes = store.pools.stake_sums()
    for member in store.pools.all_members():
        if member.stake < 0 or (member.left_at is not None and member.stake != 0):
            findings.append(_error("pools", f"{member.pool_id}: {member.agent} holds a stake "
                                            f"of {display_amount(member.stake)}"
                                            + (" after leaving" if member.left_at else "")))
    for pool in store.pools.all():
        held = cached.get(pool_account(pool.id), 0)
        if pool.dissolved_at is not None and held != 0:
            findings.append(_error("pools", f"{pool.id} is dissolved but holds "
                                            f"{display_amount(held)}"))
        staked = stakes.get(pool.id, 0)
        if staked != held:
            # Stakes are not derived from transfers alone (a pool migrated from before
            # stakes was given them), so --fix cannot rebuild them: it is reported.
            findings.append(_error("pools", f"{pool.id} holds {display_amount(held)} but its "
                                            f"members' stakes sum to {display_amount(staked)}"))
    if not findings:
        findings.append(_ok("pools", "each pool's balance is the sum of its members' stakes; "
                                     "contributions agree with transfers"))
    return findings


def _check_holds(store: Store, cached: dict[str, int]) -> list[Finding]:
    """Each hold account holds exactly its payer's open gateway reservations."""
    open_totals = store.reservations.open_totals()
    held = {name.removeprefix("hold:"): balance for name, balance in cached.items()
            if name.startswith("hold:")}
    findings = [
        _error("holds", f"hold:{payer} holds {display_amount(held.get(payer, 0))} but its "
                        "open gateway reservations add up to "
                        f"{display_amount(open_totals.get(payer, 0))}")
        for payer in sorted(set(open_totals) | set(held))
        if held.get(payer, 0) != open_totals.get(payer, 0)]
    if not findings:
        findings.append(_ok("holds", f"{len(open_totals)} payers' holds equal their open "
                                     "gateway reservations"))
    return findings


def _check_idempotency(store: Store) -> list[Finding]:
    findings = []
    records = {key: (outcome, seq) for key, outcome, seq in store.idempotency.outcomes()}
    carried = store.repair.transfer_keys()  # key -> first transfer carrying it
    for key, first_seq in sorted(carried.items()):
        if key not in records:
            findings.append(_error("idempotency", f"transfer #{first_seq} carries key {key!r} "
                                                  "but no idempotency record exists"))
        elif records[key][0] != "ok":
            findings.append(_error("idempotency", f"key {key!r} is recorded as refused yet "
                                                  f"transfer #{first_seq} carries it"))
    for key, (outcome, seq) in sorted(records.items()):
        if outcome == "ok" and seq is not None and carried.get(key) != seq:
            findings.append(_error("idempotency", f"key {key!r} points at transfer #{seq}, "
                                                  "which does not carry it"))
    if not findings:
        findings.append(_ok("idempotency", f"{_count(len(records), 'idempotency key')}, "
                                           "each applied once"))
    return findings


def _check_consumption(store: Store, config: Config, fix: bool) -> list[Finding]:
    """Consumption rows mirror inference transfers and pool draws, and no window was ever
    over its limit."""
    findings = []
    by_agent: dict[str, list[tuple[int, int, int]]] = {}
    consumption = sorted(store.repair.inference_spends() + store.repair.pool_draws())
    for seq, at, source, amount in consumption:
        by_agent.setdefault(source.removeprefix("agent:"), []).append((seq, at, amount))
    for agent in sorted(set(by_agent) | set(config.agents)):
        expected = by_agent.get(agent, [])
        rows = store.windows.rows(agent)
        running = 0
        mirrored = len(rows) == len(expected)
        for (at, amount, cumulative), (_, t_at, t_amount) in zip(rows, expected, strict=False):
            running += t_amount
            if (at, amount, cumulative) != (t_at, t_amount, running):
                mirrored = False
        if not mirrored:
            findings.append(_error("windows", f"{agent}: consumption rows do not mirror its "
                                              "inference and pool draws"
                                              + (" (rebuilt)" if fix else ""),
                                   fixed=fix))
            if fix:
                store.windows.rebuild(agent, expected)
        if agent in config.agents:
            findings += _window_overruns(agent, expected, config)
    if not findings:
        findings.append(_ok("windows", "rate-limit windows mirror inference and never overran"))
    return findings


def _window_overruns(
    agent: str, spends: list[tuple[int, int, int]], config: Config
) -> list[Finding]:
    limits = config.limits_for(agent)
    findings = []
    for window, limit, label in ((HOUR_US, limits.hourly, "hourly"),
                                 (DAY_US, limits.daily, "daily")):
        start, total = 0, 0
        for _, at, amount in spends:
            total += amount
            while spends[start][1] <= at - window:
                total -= spends[start][2]
                start += 1
            if total > limit:
                findings.append(_warning(
                    "windows", f"{agent}: {display_amount(total)} consumed in the {label} window "
                               f"ending {iso_utc(at)}, over today's limit {display_amount(limit)}"))
                break
    for _, _, amount in spends:
        if amount > limits.burst:
            findings.append(_warning("windows", f"{agent}: a spend of {display_amount(amount)} "
                                                f"exceeds today's burst limit"))
            break
    return findings


def _count(n: int, noun: str) -> str:
    """'1 idempotency key', '2,000 transfers'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
