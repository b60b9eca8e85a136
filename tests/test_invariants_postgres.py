"""The Hypothesis state machine of test_invariants_stateful.py, on PostgreSQL: random
operations against the same independent model, every invariant after every step."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from .conftest import SchemaPool
from .ledger_checks import dialect
from .test_invariants_stateful import ExchangeMachine


class PostgresExchangeMachine(ExchangeMachine):
    """The same machine; its exchange's ledger is a fresh PostgreSQL schema."""

    schemas: SchemaPool

    def __init__(self) -> None:
        self.schema = self.schemas.checkout()
        # init_exchange takes the URL from the environment and records it in the home.
        os.environ["TOKEN_EXCHANGE_DATABASE_URL"] = self.schemas.url(self.schema)
        try:
            super().__init__()
        finally:
            del os.environ["TOKEN_EXCHANGE_DATABASE_URL"]
        assert dialect(self.ex) == "postgresql"

    def teardown(self) -> None:
        super().teardown()
        self.schemas.checkin(self.schema)


def test_random_operations_keep_every_invariant_on_postgresql(pg_schemas: SchemaPool) -> None:
    """Fewer examples than on SQLite (each step is a round of server queries)."""
    PostgresExchangeMachine.schemas = pg_schemas
    run_state_machine_as_test(PostgresExchangeMachine, settings=settings(
        max_examples=15, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
