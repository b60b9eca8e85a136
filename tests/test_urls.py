"""Showing a database URL: every form of its password is hidden (issue 10, finding 11)."""

from __future__ import annotations

import pytest

from agent_token_exchange.ledger import redact


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u:hunter2@db/x", "postgresql://u:***@db/x"),
    ("postgresql://u@db/x?password=hunter2", "postgresql://u@db/x?password=***"),
    ("postgresql://db/x?sslmode=require&PASSWORD=hunter2&connect_timeout=3",
     "postgresql://db/x?sslmode=require&PASSWORD=***&connect_timeout=3"),
    ("postgres://u:p1@db/x?password=hunter2#frag", "postgres://u:***@db/x?password=***#frag"),
    ("postgresql://db/x?application_name=password", "postgresql://db/x?application_name=password"),
    ("postgresql://u@db/x", "postgresql://u@db/x"),
])
def test_redact_hides_the_password_wherever_it_is(url: str, shown: str):
    """Redact hides the password wherever it is."""
    assert redact(url) == shown
    assert "hunter2" not in redact(url)
