"""The public surface is small and pinned, and both exchanges implement ``ExchangeAPI``."""

from __future__ import annotations

import ast
import inspect
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import httpx
import pytest

import agent_token_exchange
from agent_token_exchange import Exchange, ExchangeAPI, RateLimited, from_json, to_json
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.economy.config import Config
from agent_token_exchange.economy.records import Payment, PoolMember, PoolView

if TYPE_CHECKING:  # what a type checker proves: each one is usable where ExchangeAPI is asked

    def _the_library_is_an_exchange_api(ex: Exchange) -> ExchangeAPI:
        return ex

    def _the_client_is_an_exchange_api(client: ExchangeClient) -> ExchangeAPI:
        return client


def test_all_is_every_public_name_of_the_package():
    """``__all__`` is exactly the package's public names (subpackages aside), sorted as
    httpx pins its own, and those names are the ones we mean to publish (each resolved
    first: the package imports them lazily)."""
    for name in agent_token_exchange.__all__:
        getattr(agent_token_exchange, name)
    public = [name for name, value in vars(agent_token_exchange).items()
              if not name.startswith("_") and not isinstance(value, ModuleType)]
    assert agent_token_exchange.__all__ == sorted(public, key=str.casefold)
    assert set(agent_token_exchange.__all__) == {
        "BudgetExhausted", "Clock", "Config", "ConfigError", "Conflict", "Exchange",
        "ExchangeAPI", "ExchangeError", "InsufficientFunds", "IntegrityError", "InvalidInput",
        "NotAllowed", "RateLimited", "Refused", "SimulatedClock", "SystemClock", "from_json",
        "init_exchange", "open_exchange", "to_json"}


def api_members() -> list[str]:
    return sorted(name for name in vars(ExchangeAPI)
                  if not name.startswith("_") or name in ("__enter__", "__exit__"))


def test_both_exchanges_offer_every_member_of_the_protocol_with_its_signature():
    """``Exchange`` and ``ExchangeClient`` have each ``ExchangeAPI`` method with the very
    parameters (names, kinds, defaults, annotations) and return type it declares."""
    assert len(api_members()) > 25
    for name in api_members():
        declared = inspect.getattr_static(ExchangeAPI, name)
        for implementation in (Exchange, ExchangeClient):
            if isinstance(declared, property):
                continue  # `config`: an attribute of Exchange, a property of the client
            actual = inspect.getattr_static(implementation, name)
            assert str(inspect.signature(actual)) == str(inspect.signature(declared)), (
                f"{implementation.__name__}.{name}")


def test_both_exchanges_are_instances_of_the_protocol(exchange):
    """At run time both pass ``isinstance(…, ExchangeAPI)`` (the client without a server:
    its one property, ``config``, is answered by a stub)."""
    assert isinstance(exchange, ExchangeAPI)
    rules = Config.default().model_dump(mode="json")
    stub = httpx.MockTransport(lambda request: httpx.Response(200, json=rules))
    with ExchangeClient("http://exchange.invalid", transport=stub) as client:
        assert isinstance(client, ExchangeAPI)
        assert client.config == Config.default()


def test_amounts_are_decimal_tokens_in_and_out(exchange):
    """One token in (as int, str or Decimal) is ``Decimal("1.000000")`` out, never 1000000;
    a rate limit's figures are tokens too."""
    for amount in (1, "1", Decimal("1"), Decimal("1.000000")):
        paid = exchange.award("zero", amount, "tests", "one token")
        assert isinstance(paid.amount, Decimal) and str(paid.amount) == "1.000000"
        assert paid == Payment("award", "zero", Decimal(1), paid.tokens, paid.seq,
                               "system:mint", "one token", None, Decimal(1))
    assert exchange.balance("zero").tokens == Decimal("10004")
    assert exchange.budget_left("default") == Decimal("10000")
    with pytest.raises(RateLimited) as limited:
        exchange.llm("claude", "coding", 100_000)
    figures = (limited.value.used, limited.value.limit, limited.value.needed)
    assert all(isinstance(f, Decimal) for f in figures) and limited.value.limit == 500


def test_the_json_codec_writes_amounts_as_decimal_strings_and_reads_them_back():
    """``to_json`` writes tokens as '450'/'0.5' and times as ISO-8601; ``from_json`` rebuilds
    the record (times at second precision)."""
    view = PoolView("pool-1", "team", "claude", Decimal("0.5"), Decimal("450.000000"),
                    Decimal("450"), Decimal(0), 1_767_225_600_000_000, None,
                    (PoolMember("claude", Decimal("450"), Decimal("450"), "100.00"),),
                    open=True, invited=("zero",))
    data = to_json(view)
    assert data == {
        "id": "pool-1", "name": "team", "creator": "claude", "min_contribution": "0.5",
        "balance": "450", "total_contributed": "450", "total_spent": "0",
        "created_at": "2026-01-01T00:00:00Z", "dissolved_at": None,
        "members": [{"agent": "claude", "contributed": "450", "stake": "450",
                     "share_percent": "100.00"}],
        "open": True, "invited": ["zero"], "replayed": False}
    assert from_json(PoolView, data) == view


ADAPTERS = ("cli", "client", "integrations", "server", "sim")


def test_adapters_never_reach_into_the_ledger_of_an_exchange():
    """No adapter (CLI, client, integrations, server, simulation) reads ``.store`` or
    imports ``ledger`` below the names its package exports: they go through the service."""
    source = Path(agent_token_exchange.__file__).parent
    found = []
    for adapter in ADAPTERS:
        for path in sorted((source / adapter).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                where = f"{path.relative_to(source)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Attribute) and node.attr == "store":
                    found.append(f"{where} .store")
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "ledger."):
                    found.append(f"{where} from {'.' * node.level}{node.module}")
    assert not found, "\n".join(found)
