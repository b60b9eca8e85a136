"""Exact money: amounts are integer micro-tokens (1 token = 1_000_000 micro-tokens)
inside the ledger and the service, and ``Decimal`` tokens with six decimal places in the
public API (``tokens`` and ``micro`` convert, exactly).

Decimal appears only at the edges: parsing what a user typed, multiplying by a
configured multiplier, records, and printing. Nothing here ever touches a float.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from .errors import InvalidInput

MICRO = 1_000_000
DECIMALS = 6
# The largest amount a single operation may name: a trillion tokens (1e18 micro-tokens).
# A signed 64-bit column holds 9.2e18, so nine such amounts can still overflow a balance:
# the store refuses a transfer that would (ledger.accounts.MAX_LEDGER_INT).
MAX_TOKENS = 1_000_000_000_000
MAX_MICRO = MAX_TOKENS * MICRO

_PLAIN_DECIMAL = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]*))?$")


def parse_amount(text: str | int | Decimal, *, what: str = "amount") -> int:
    """Parse a positive token amount into micro-tokens, or raise InvalidInput.

    Accepts plain decimals only ("150", "0.5", "12.345678"): no sign, no exponent,
    at most six decimals, greater than zero, at most a trillion tokens.
    """
    if isinstance(text, bool):
        raise InvalidInput(f"{what} must be a number of tokens, not {text!r}")
    if isinstance(text, int):
        text = str(text)
    elif isinstance(text, Decimal):
        if not text.is_finite():
            raise InvalidInput(f"{what} must be a finite number, not {text}")
        text = format(text, "f")
    elif not isinstance(text, str):
        raise InvalidInput(f"{what} must be a number of tokens, not {type(text).__name__}")
    raw = text.strip()
    shown = _shorten(raw)
    if raw.startswith("-"):
        raise InvalidInput(f"{what} must be positive, got {shown}")
    if raw.startswith("+"):
        raw = raw[1:]
    match = _PLAIN_DECIMAL.match(raw)
    if match is None:
        if raw.lower() in {"nan", "inf", "infinity", "-inf"} or "e" in raw.lower():
            raise InvalidInput(
                f"{what} must be a plain decimal number of tokens like 150 or 0.5, got {shown}"
            )
        raise InvalidInput(f"{what} must be a number of tokens like 150 or 0.5, got {shown}")
    frac = match.group("frac") or ""
    if len(frac) > DECIMALS:
        raise InvalidInput(f"{what} has more than {DECIMALS} decimal places: {shown}")
    integer = int(match.group("int"))
    if integer > MAX_TOKENS:
        raise InvalidInput(f"{what} is too large (at most {MAX_TOKENS:,} tokens): {shown}")
    micro = integer * MICRO + int(frac.ljust(DECIMALS, "0") or "0")
    if micro <= 0:
        raise InvalidInput(f"{what} must be greater than zero, got {shown}")
    if micro > MAX_MICRO:
        raise InvalidInput(f"{what} is too large (at most {MAX_TOKENS:,} tokens): {shown}")
    return micro


def parse_count(text: str | int, *, what: str = "token count", maximum: int = 10**9) -> int:
    """Parse a positive whole number (e.g. inference tokens), or raise InvalidInput."""
    if isinstance(text, bool):
        raise InvalidInput(f"{what} must be a whole number, not {text!r}")
    raw = str(text).strip()
    shown = _shorten(raw)
    if raw.startswith("-"):
        raise InvalidInput(f"{what} must be positive, got {shown}")
    if not raw.isascii() or not raw.isdigit():
        raise InvalidInput(f"{what} must be a whole number like 5000, got {shown}")
    value = int(raw)
    if value <= 0:
        raise InvalidInput(f"{what} must be greater than zero, got {shown}")
    if value > maximum:
        raise InvalidInput(f"{what} is too large (at most {maximum:,}): {shown}")
    return value


def to_micro(tokens: Decimal | int) -> int:
    """Whole config values (Decimal tokens) to micro-tokens, rounding half-up once."""
    return round_half_up(Decimal(tokens) * MICRO)


def round_half_up(value: Decimal) -> int:
    """Round a Decimal to the nearest integer, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_amount(micro: int) -> str:
    """Canonical decimal string for JSON: '450', '0.5', '-680.25'. Exact."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(DECIMALS, '0').rstrip('0')}"


def display_amount(micro: int) -> str:
    """Human form with two decimals as the seed prints money ('660.00'; more if needed),
    thousands separated as every human output shows numbers ('9,950.00')."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    digits = str(frac).rjust(DECIMALS, "0").rstrip("0").ljust(2, "0")
    return f"{sign}{whole:,}.{digits}"


def display_limit(micro: int) -> str:
    """Limits print as the seed prints them, decimals only when present ('500'), and
    thousands separated ('10,000')."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    digits = str(frac).rjust(DECIMALS, "0").rstrip("0")
    return f"{sign}{whole:,}" + (f".{digits}" if digits else "")


def tokens(micro: int) -> Decimal:
    """Micro-tokens as the public amount: Decimal tokens with six places (1 -> 0.000001)."""
    return Decimal(micro).scaleb(-DECIMALS)


def micro(amount: Decimal) -> int:
    """A public amount (Decimal tokens) back to micro-tokens; exact or InvalidInput."""
    scaled = Decimal(amount).scaleb(DECIMALS)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise InvalidInput(f"{amount} is not a whole number of micro-tokens")
    return int(scaled)


def format_tokens(amount: Decimal) -> str:
    """A public amount as JSON writes it: '450', '0.5', '-680.25' (as format_amount)."""
    return format_amount(micro(amount))


def _shorten(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(shown)


__all__ = [
    "MICRO",
    "MAX_MICRO",
    "parse_amount",
    "parse_count",
    "to_micro",
    "round_half_up",
    "format_amount",
    "display_amount",
    "display_limit",
    "tokens",
    "micro",
    "format_tokens",
]
