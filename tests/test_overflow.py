"""Balances are 64-bit integers: a transfer that would overflow one is refused, never
stored as a float, on either store."""

from decimal import Decimal

import pytest

from agent_token_exchange import InvalidInput

from .ledger_checks import assert_invariants, snapshot

TRILLION = "1000000000000"  # the largest single amount


def test_minting_past_64_bits_is_refused_and_changes_nothing(exchange):
    """An award that would push a balance past 64 bits is refused, changes nothing, and balances
    stay ints."""
    for _ in range(9):  # 9e18 micro-tokens: still below 2**63
        exchange.award("zero", TRILLION, "test", "huge")
    before = snapshot(exchange)
    with pytest.raises(InvalidInput, match="largest balance the ledger can hold"):
        exchange.award("zero", TRILLION, "test", "one too many")
    assert snapshot(exchange) == before
    balance = exchange.balance("zero").tokens
    assert type(balance) is Decimal and balance == 9 * Decimal(TRILLION) + 10_000
    assert_invariants(exchange)
