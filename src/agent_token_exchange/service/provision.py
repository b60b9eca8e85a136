"""Provisioning: creating the accounts the config names but the ledger lacks — the
system accounts, each agent's wallet with its start grant, each contract's funded budget.

Opening an exchange writes nothing; this is the explicit step that does, run by
``init_exchange`` and ``import_exchange`` (service/lifecycle.py), by the CLI each time it
opens the local exchange (cli/options.py ``open_local``) and by the server when it starts
(server/auth.py ``Exchanges.at``). So an agent added to config.toml gets its start balance
the next time any command runs, or when the server restarts."""

from __future__ import annotations

from ..economy.accounts import INFERENCE, MINT, Kind, contract_account, wallet
from ..money import to_micro
from .operations import Core


def missing_accounts(core: Core) -> list[str]:
    """The accounts the config names that the ledger does not hold yet."""
    wanted = [MINT, INFERENCE]
    wanted += [wallet(a) for a in core.config.agents]
    wanted += [contract_account(c.name) for c in core.config.contracts]
    with core.store.snapshot():
        present = {account.name for account in core.store.accounts.all()}
    return [name for name in wanted if name not in present]


def open_accounts(core: Core) -> list[str]:
    """Create what the config names but the ledger lacks; returns the accounts created.
    Only whoever creates an account grants or funds it, so concurrent callers (two
    processes starting at once) mint each start balance once."""
    if not missing_accounts(core):
        return []
    config, store = core.config, core.store

    def provision(now: int) -> list[str]:
        created = [name for name in (MINT, INFERENCE)
                   if store.accounts.create(name, "system", now)]
        for agent in config.agents:
            if store.accounts.create(wallet(agent), "agent", now):
                created.append(wallet(agent))
                start = to_micro(config.start_balance)
                if start > 0:
                    store.transfers.post(
                        at=now, kind=Kind.GRANT, source=MINT, destination=wallet(agent),
                        amount=start, description="start balance",
                    )
        for contract in config.contracts:
            name = contract_account(contract.name)
            if store.accounts.create(name, "contract", now):
                created.append(name)
                budget = to_micro(contract.budget)
                if budget > 0:
                    store.transfers.post(
                        at=now, kind=Kind.FUND, source=MINT, destination=name,
                        amount=budget, description=f"budget of contract {contract.name}",
                    )
        return created

    return core.write(provision)
