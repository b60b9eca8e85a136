"""How the CLI speaks: one JSON object on stdout with --json, Rich tables otherwise,
one line on stderr for an error. Shared by every command module.

One number format (thousands separators: amounts with two decimals or more, counts
whole) and one time format (ISO-8601 UTC with Z, as the JSON, the report and the
dashboard show times). Colour only on a terminal, and never when NO_COLOR is set (Rich
reads both).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from ..clock import iso_utc
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


def when(us: int) -> str:
    """A moment as every output shows it: ISO-8601 UTC at second precision, with Z."""
    return iso_utc(us)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 transfer', '2,000 transfers', '1 idempotency key'."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + tokens(amount)


def emit_json(payload: dict[str, Any], *, ok: bool = True) -> None:
    sys.stdout.write(json.dumps({"ok": ok, **payload}, ensure_ascii=False) + "\n")


# How a line on stderr starts, and its colour, by exit code: the registry decides which
# an error gets.
_PREFIX = {EXIT_REFUSED: "🚫 ", EXIT_INTEGRITY: "integrity problem: "}
_STYLE = {EXIT_REFUSED: "bold yellow", EXIT_INTEGRITY: "bold red"}


def emit_error(error: ExchangeError, as_json: bool, hint: str = "") -> int:
    """Print ``error`` as the CLI shows it, with a ``hint`` saying what to do about it (the
    next line, or "hint" in the JSON error), and return its exit code from the registry."""
    code = exit_code_for(error)
    if as_json:
        detail = {**error.to_dict(), **({"hint": hint} if hint else {})}
        sys.stdout.write(json.dumps({"ok": False, "error": detail}, ensure_ascii=False) + "\n")
    else:
        stderr.print(_PREFIX.get(code, "error: ") + error.message, markup=False,
                     style=_STYLE.get(code, "red"))
        if hint:
            stderr.print(f"   {hint}", markup=False)
    return code


def done(line: str) -> None:
    """A write that happened: '✅ …', green on a terminal."""
    stdout.print(f"✅ {line}", markup=False, style="green")


def replayed(line: str) -> None:
    """A write that had happened already (a replay): '🔁 Already …', nothing changed."""
    stdout.print(f"🔁 {line}", markup=False, style="cyan")


def note(line: str) -> None:
    """A second line under a reply: what the user might not expect."""
    stdout.print(f"   {line}", markup=False, style="dim")


def emit_usage_error(message: str, as_json: bool) -> int:
    if as_json:
        sys.stdout.write(json.dumps(
            {"ok": False, "error": {"code": "usage", "message": message}}) + "\n")
    else:
        stderr.print(f"error: {message}", markup=False, style="red")
    return EXIT_BAD_INPUT


def table(title: str | None, *columns: str, right: tuple[str, ...] = ()) -> Table:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        grid.add_column(column, justify="right" if column in right else "left")
    return grid
