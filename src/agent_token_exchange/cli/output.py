"""How the CLI speaks: one JSON object on stdout with --json, Rich tables otherwise,
one line on stderr for an error. Shared by every command module."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from ..errors import (
    EXIT_BAD_INPUT,
    EXIT_INTEGRITY,
    EXIT_REFUSED,
    ExchangeError,
    exit_code_for,
)
from ..money import MICRO
from ..money import micro as to_micro_exact

# emoji=False: text such as "agent:zero: …" must not turn into "agent0️⃣ …".
stdout = Console(highlight=False, soft_wrap=True, emoji=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def tokens(amount: Decimal) -> str:
    """Human amounts in tables: thousands separators, two decimals (more if needed)."""
    micro = to_micro_exact(amount)
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    digits = str(frac).rjust(6, "0").rstrip("0").ljust(2, "0")
    return f"{sign}{whole:,}.{digits}"


def compact(amount: Decimal) -> str:
    """Limits and usage in narrow columns: '1,000', '975.5'."""
    micro = to_micro_exact(amount)
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    digits = str(frac).rjust(6, "0").rstrip("0")
    return f"{sign}{whole:,}" + (f".{digits}" if digits else "")


def short_time(us: int) -> str:
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + tokens(amount)


def emit_json(payload: dict[str, Any], *, ok: bool = True) -> None:
    sys.stdout.write(json.dumps({"ok": ok, **payload}, ensure_ascii=False) + "\n")


# How a line on stderr starts, by exit code: the registry decides which an error gets.
_PREFIX = {EXIT_REFUSED: "🚫 ", EXIT_INTEGRITY: "integrity problem: "}


def emit_error(error: ExchangeError, as_json: bool) -> int:
    """Print ``error`` as the CLI shows it and return its exit code from the registry."""
    code = exit_code_for(error)
    if as_json:
        sys.stdout.write(json.dumps({"ok": False, "error": error.to_dict()},
                                    ensure_ascii=False) + "\n")
    else:
        stderr.print(_PREFIX.get(code, "error: ") + error.message, markup=False)
    return code


def emit_usage_error(message: str, as_json: bool) -> int:
    if as_json:
        sys.stdout.write(json.dumps(
            {"ok": False, "error": {"code": "usage", "message": message}}) + "\n")
    else:
        stderr.print(f"error: {message}", markup=False)
    return EXIT_BAD_INPUT


def table(title: str | None, *columns: str, right: tuple[str, ...] = ()) -> Table:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, justify="right" if column in right else "left")
    return grid
