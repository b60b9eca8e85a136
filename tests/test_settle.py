"""settle applies what fell due, once: a gateway reservation left open past the timeout is
closed at its reserved amount with a record that says so, a fresh one is left alone, a
second run does nothing, two processes settling at once report each item once, and a
failing step does not keep the others from running."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from agent_token_exchange import ConfigError, open_exchange
from agent_token_exchange.economy.accounts import hold_account, wallet
from agent_token_exchange.economy.settle_records import SettledItem
from agent_token_exchange.money import tokens
from agent_token_exchange.service import settle as settle_module

from .conftest import set_config
from .ledger_checks import account, assert_invariants


def held(ex, agent: str) -> Decimal:
    """What the agent's open gateway reservations hold (its hold account)."""
    found = account(ex, hold_account(wallet(agent)))
    return tokens(found.balance if found else 0)


def test_settle_closes_a_stale_reservation_at_its_reserved_amount(exchange, clock):
    """A reservation open past 15 minutes is closed by settle at the reserved amount, with
    a charge whose description says why; one reserved later is left open until its own
    time comes; a second settle does nothing."""
    stale = exchange.metering.reserve("zero", "llama3.2", 500, 1500, "chars")
    clock.advance(seconds=10 * 60)
    fresh = exchange.metering.reserve("claude", "claude-opus", 100, 1000, "chars")
    clock.advance(seconds=5 * 60 - 1)
    assert exchange.settle().items == ()  # a second short of 15 minutes
    clock.advance(seconds=1)
    report = exchange.settle()
    assert report.at == clock.now_us()
    assert report.items == (SettledItem(
        "reservation", f"r{stale.id}", "expired", stale.amount,
        "llama3.2 request by zero left open past 15 minutes: charged the reserved 0.2; "
        "the provider may have served it"),)
    charge = exchange.history("zero", 1)[0]
    assert charge.amount == -stale.amount
    assert "left open past 15 minutes, charged the reserved amount" in charge.description
    assert exchange.balance("zero").tokens == Decimal(10_000) - stale.amount
    assert held(exchange, "claude") == fresh.amount  # still open
    assert exchange.settle().items == ()
    assert exchange.balance("zero").tokens == Decimal(10_000) - stale.amount
    assert_invariants(exchange)
    clock.advance(seconds=10 * 60)
    [item] = exchange.settle().items
    assert (item.id, item.amount) == (f"r{fresh.id}", fresh.amount)
    assert held(exchange, "claude") == 0
    assert exchange.doctor().healthy
    assert_invariants(exchange)


def test_the_timeout_is_the_gateway_config(home, clock):
    """``[gateway] stale_reservation_minutes`` sets the timeout (and the record says it);
    a timeout that is not a whole number of minutes from 1 is one line naming the key."""
    set_config(home, lambda text: text + "\n[gateway]\nstale_reservation_minutes = 2\n")
    with open_exchange(home, clock=clock) as ex:
        held = ex.metering.reserve("spark", "claude-sonnet", 100, 100, "bytes")
        clock.advance(seconds=119)
        assert ex.settle().items == ()
        clock.advance(seconds=2)
        [item] = ex.settle().items
        assert item.id == f"r{held.id}" and "left open past 2 minutes" in item.detail
        assert "left open past 2 minutes" in ex.history("spark", 1)[0].description
        assert ex.doctor().healthy
    set_config(home, lambda text: text.replace("stale_reservation_minutes = 2",
                                               "stale_reservation_minutes = 0"))
    with pytest.raises(ConfigError, match=r"gateway\.stale_reservation_minutes: .*1"):
        open_exchange(home, clock=clock)


def test_the_cli_settles_and_says_what_it_did_then_that_nothing_was_due(cli, home, clock):
    """`token-exchange settle` prints one line per reservation it closed (a stale one, not
    a fresh one), then "nothing was due"; --json gives the report; doctor is clean."""
    with open_exchange(home, clock=clock) as ex:  # simulated 2026-01-01: long stale now
        stale = ex.metering.reserve("zero", "llama3.2", 500, 1500, "chars")
    with open_exchange(home) as ex:  # the system clock: fresh
        fresh = ex.metering.reserve("builder", "llama3.2", 10, 10, "chars")
    done = cli("settle")
    assert done.code == 0
    assert done.out.splitlines() == [
        f"reservation r{stale.id}: expired, 0.20 — llama3.2 request by zero left open past "
        "15 minutes: charged the reserved 0.2; the provider may have served it"]
    again = cli("settle")
    assert (again.code, again.out.strip()) == (0, "nothing was due")
    assert cli("settle", "--json").json["items"] == []
    with open_exchange(home) as ex:
        assert held(ex, "builder") == fresh.amount
        assert ex.balance("zero").tokens == Decimal(10_000) - stale.amount
        assert ex.doctor().healthy
        assert_invariants(ex)


def test_two_processes_settling_at_once_report_each_reservation_once(home, clock):
    """Two exchanges on one database settling at the same moment close each stale
    reservation once, charge it once, and between them report it once."""
    with open_exchange(home, clock=clock) as ex:
        held = [ex.metering.reserve(agent, "llama3.2", 100, 900, "chars")
                for agent in ("zero", "claude", "builder", "spark", "zero", "claude")]
    clock.advance(seconds=3600)
    reports: list = []
    start = threading.Barrier(2)

    def settle_in_own_process() -> None:
        with open_exchange(home, clock=clock) as ex:
            start.wait()
            reports.append(ex.settle())

    threads = [threading.Thread(target=settle_in_own_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = sorted(item.id for report in reports for item in report.items)
    assert ids == sorted(f"r{h.id}" for h in held)
    with open_exchange(home, clock=clock) as ex:
        assert ex.balance("zero").tokens == Decimal(10_000) - 2 * held[0].amount
        assert ex.settle().items == ()
        assert_invariants(ex)


def test_a_failing_step_does_not_stop_the_others(exchange, clock):
    """When one part's step raises, the steps after it still run (the stale reservation is
    closed), and the error is raised once they have."""

    def broken(core):
        raise RuntimeError("a part of the economy is broken")

    open_request = exchange.metering.reserve("zero", "llama3.2", 100, 100, "chars")
    clock.advance(seconds=3600)
    steps = (broken, *settle_module.STEPS)
    with pytest.raises(RuntimeError, match="broken"):
        settle_module.run_settle(exchange._core, steps)
    assert held(exchange, "zero") == 0
    assert exchange.history("zero", 1)[0].amount == -open_request.amount
    assert exchange.settle().items == ()
    assert_invariants(exchange)


def test_settle_with_nothing_due_writes_nothing(exchange, clock):
    """With nothing due, settle reports nothing and the ledger is unchanged (no transfer,
    no refusal), however often it runs."""
    exchange.llm("zero", "coding", 1000)
    before = exchange.recent_transfers(5)
    for _ in range(3):
        clock.advance(seconds=60)
        assert exchange.settle().items == ()
    assert exchange.recent_transfers(5) == before
    assert exchange.refusals() == []
