"""The long run of the state machine (`make soak`): the model of test_invariants_stateful.py
(consent, stakes, pro-rata draws within each member's limits, leave, dissolve, spends,
earnings, keys), every invariant checked after every step, for at least
``$TOKEN_EXCHANGE_SOAK_STEPS`` steps on SQLite and again on PostgreSQL. Collected only when
that variable is set (tests/conftest.py leaves this module out otherwise); each test
prints the steps it made and how long they took."""

from __future__ import annotations

import os
import time

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from .conftest import SchemaPool
from .test_invariants_postgres import PostgresExchangeMachine
from .test_invariants_stateful import STEPS, ExchangeMachine

TARGET = int(os.environ.get("TOKEN_EXCHANGE_SOAK_STEPS", "0") or 0)


def _soak(machine: type[ExchangeMachine], store: str) -> None:
    """Batches of the soak profile until TARGET steps were made; prints the figures."""
    profile = settings.get_profile("soak")
    checks, runs = ExchangeMachine.checks, ExchangeMachine.runs
    started = time.perf_counter()
    steps = 0
    while steps < TARGET:
        examples = min(profile.max_examples, (TARGET - steps) // STEPS + 1)
        run_state_machine_as_test(machine, settings=settings(profile, max_examples=examples))
        # The invariants are checked once when a run starts, then after every step.
        steps = (ExchangeMachine.checks - checks) - (ExchangeMachine.runs - runs)
        print(f"soak {store}: {steps:,} steps ({ExchangeMachine.runs - runs:,} runs) in "
              f"{time.perf_counter() - started:,.0f} s", flush=True)
    seconds = time.perf_counter() - started
    print(f"SOAK {store}: {steps:,} steps, every invariant after each, in {seconds:,.1f} s "
          f"({steps / seconds:,.0f} steps/s)", flush=True)
    assert steps >= TARGET


def test_soak_on_sqlite():
    """At least TARGET random steps on SQLite, the ledger equal to the model and every
    invariant holding after each."""
    _soak(ExchangeMachine, "sqlite")


def test_soak_on_postgresql(pg_schemas: SchemaPool):
    """At least TARGET random steps on PostgreSQL, the ledger equal to the model and every
    invariant holding after each."""
    PostgresExchangeMachine.schemas = pg_schemas
    _soak(PostgresExchangeMachine, "postgresql")
