"""POST /v1/settle (admin only) and the server's own settle loop: a stale gateway
reservation is closed at its reserved amount whether an admin asks or nobody does, a
fresh one is left alone, an agent's key is refused, an error in a run is logged and the
loop goes on, and shutdown stops it."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from agent_token_exchange import SimulatedClock, open_exchange
from agent_token_exchange.cli import main
from agent_token_exchange.client.http import ExchangeClient
from agent_token_exchange.economy.accounts import hold_account, wallet
from agent_token_exchange.errors import Forbidden
from agent_token_exchange.server.app import create_app
from agent_token_exchange.service import settle as settle_module

from ..ledger_checks import account, assert_invariants, ledger_state


def held(ex, agent: str) -> int:
    found = account(ex, hold_account(wallet(agent)))
    return found.balance if found else 0


def keys(home) -> tuple[str, str]:
    with open_exchange(home) as ex:
        return ex.keys.create(admin=True).key, ex.keys.create(agent="zero").key


def test_an_admin_settles_over_http_and_an_agent_may_not(home, clock):
    """POST /v1/settle with an agent's key is 403 and changes nothing; with an admin's key
    it closes the stale reservation (made on a clock long past) at its reserved amount,
    leaves a fresh one open, and a second call settles nothing."""
    admin, agent = keys(home)
    with open_exchange(home, clock=clock) as ex:  # 2026-01-01: stale by the server's clock
        stale = ex.metering.reserve("zero", "llama3.2", 500, 1500, "chars")
    with open_exchange(home) as ex:
        fresh = ex.metering.reserve("claude", "llama3.2", 100, 100, "chars")
        before = ledger_state(ex)
    app = create_app(home, settle_every=None)
    with TestClient(app) as http:
        refused = http.post("/v1/settle", headers={"Authorization": f"Bearer {agent}"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        with open_exchange(home) as ex:
            assert ledger_state(ex) == before
        done = http.post("/v1/settle", headers={"Authorization": f"Bearer {admin}"})
        assert done.status_code == 200
        [item] = done.json()["items"]
        assert (item["area"], item["id"], item["outcome"], item["amount"]) == (
            "reservation", f"r{stale.id}", "expired", "0.2")
        assert "left open past 15 minutes" in item["detail"]
        again = http.post("/v1/settle", headers={"Authorization": f"Bearer {admin}"})
        assert again.json()["items"] == []
    with open_exchange(home) as ex:
        assert ex.balance("zero").tokens == Decimal(10_000) - stale.amount
        assert held(ex, "zero") == 0 and held(ex, "claude") == int(fresh.amount * 10**6)
        assert ex.doctor().healthy
        assert_invariants(ex)


def test_the_server_settles_by_itself_without_anyone_asking(home, clock, caplog):
    """A server settling every 0.1 s closes a stale reservation nobody settles; a run that
    fails is logged and the next one runs; leaving the server stops the loop at once."""
    calls = []

    def broken_once(core):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first run breaks")
        return []

    steps = (broken_once, *settle_module.STEPS)
    app = create_app(home, settle_every=0.1)
    with caplog.at_level(logging.ERROR, logger="agent_token_exchange.settle"):
        settle_module.STEPS, saved = steps, settle_module.STEPS
        try:
            with TestClient(app) as http:
                with open_exchange(home, clock=clock) as ex:  # long stale by the server's clock
                    stale = ex.metering.reserve("spark", "claude-sonnet", 100, 900, "chars")
                deadline = time.monotonic() + 10
                while True:
                    with open_exchange(home) as ex:
                        if held(ex, "spark") == 0:
                            break
                    assert time.monotonic() < deadline, "the loop never settled it"
                    time.sleep(0.05)
                assert http.get("/health").status_code == 200
                leaving = time.monotonic()
            assert time.monotonic() - leaving < 5
        finally:
            settle_module.STEPS = saved
    assert "settle failed" in caplog.text and "the first run breaks" in caplog.text
    runs = len(calls)
    time.sleep(0.3)
    assert len(calls) == runs  # stopped with the server
    with open_exchange(home) as ex:
        assert ex.history("spark", 1)[0].amount == -stale.amount
        assert "left open past 15 minutes" in ex.history("spark", 1)[0].description
        assert ex.doctor().healthy
        assert_invariants(ex)


def test_the_client_and_the_cli_settle_a_served_exchange(fresh_service, capsys):
    """ExchangeClient.settle and `token-exchange settle --server` settle on the server
    with an admin's key (the stale reservation once, then nothing), and an agent's key is
    refused (Forbidden, exit 4 with one line)."""
    time.sleep(0.5)  # the server's first run at start has looked (and found nothing)
    with open_exchange(fresh_service.home, clock=SimulatedClock()) as ex:
        stale = ex.metering.reserve("zero", "llama3.2", 500, 1500, "chars")
    with (ExchangeClient(fresh_service.url, fresh_service.keys["zero"]) as client,
          pytest.raises(Forbidden)):
        client.settle()
    with ExchangeClient(fresh_service.url, fresh_service.admin) as client:
        [item] = client.settle().items
        assert (item.id, item.amount) == (f"r{stale.id}", stale.amount)
    server = ["--server", fresh_service.url, "--api-key"]
    assert main(["settle", *server, fresh_service.admin]) == 0
    assert capsys.readouterr().out.strip() == "nothing was due"
    assert main(["settle", *server, fresh_service.keys["zero"]]) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    with open_exchange(fresh_service.home) as ex:
        assert ex.doctor().healthy
