"""Amounts are integer micro-tokens; parsing rejects anything that is not a plain amount."""

from decimal import Decimal

import pytest

from agent_token_exchange.errors import InvalidInput
from agent_token_exchange.money import (
    MICRO,
    display_amount,
    format_amount,
    parse_amount,
    parse_count,
    round_half_up,
)


@pytest.mark.parametrize(
    ("text", "micro"),
    [("150", 150 * MICRO), ("0.5", MICRO // 2), ("12.345678", 12_345_678), ("+7", 7 * MICRO),
     (" 3 ", 3 * MICRO), (10, 10 * MICRO), (Decimal("2.25"), 2_250_000)],
)
def test_plain_amounts_parse_exactly(text, micro):
    """Plain decimals become exact micro-token integers."""
    assert parse_amount(text) == micro


@pytest.mark.parametrize(
    ("text", "reason"),
    [("-5", "positive"), ("-0", "positive"), ("0", "greater than zero"), ("0.000000", "greater"),
     ("NaN", "plain decimal"), ("inf", "plain decimal"), ("1e309", "plain decimal"),
     ("1.1234567", "more than 6 decimal"), ("abc", "number of tokens"), ("", "number"),
     (str(10**30), "too large"), ("1,000", "number"), ("١٢", "number")],
)
def test_bad_amounts_are_refused_with_a_reason(text, reason):
    """Each bad amount gets an InvalidInput that says what is wrong."""
    with pytest.raises(InvalidInput, match=reason):
        parse_amount(text)


def test_non_finite_decimal_and_bool_are_refused():
    """A non-finite Decimal and a bool are refused as amounts."""
    with pytest.raises(InvalidInput):
        parse_amount(Decimal("NaN"))
    with pytest.raises(InvalidInput):
        parse_amount(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "NaN", "1e3", str(10**10), "five", ""])
def test_bad_token_counts_are_refused(text):
    """Token counts that are not positive whole numbers of sane size are refused."""
    with pytest.raises(InvalidInput):
        parse_count(text)


def test_token_count_parses_whole_numbers():
    """A whole-number token count parses to its integer."""
    assert parse_count("5000") == 5000


def test_json_amounts_are_exact_decimal_strings():
    """JSON amounts are exact decimal strings without trailing zeros, signed when negative."""
    assert format_amount(450 * MICRO) == "450"
    assert format_amount(MICRO // 2) == "0.5"
    assert format_amount(-680_250_000) == "-680.25"
    assert format_amount(1) == "0.000001"


def test_display_keeps_the_seeds_two_decimals():
    """Display keeps the seed's two decimals, showing more only when a smaller amount needs them."""
    assert display_amount(660 * MICRO) == "660.00"
    assert display_amount(500) == "0.0005"


def test_round_half_up_rounds_halves_away_from_zero():
    """round_half_up rounds a half up and anything below a half down."""
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("2.4999")) == 2
