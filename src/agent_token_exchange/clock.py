"""Time for the exchange. Core code asks a Clock; it never calls datetime.now() itself.

Times are integer microseconds since the Unix epoch (UTC), so window arithmetic is exact.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

MICROS_PER_SECOND = 1_000_000
HOUR_US = 3600 * MICROS_PER_SECOND
DAY_US = 24 * HOUR_US


class Clock(Protocol):
    def now_us(self) -> int:
        """Microseconds since the Unix epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now_us(self) -> int:
        return time.time_ns() // 1000


class SimulatedClock:
    """A clock that moves only when told to: for tests and the simulation."""

    def __init__(self, start_us: int | None = None) -> None:
        # 2026-01-01T00:00:00Z unless told otherwise: a fixed, readable origin.
        self._now = start_us if start_us is not None else 1_767_225_600 * MICROS_PER_SECOND

    def now_us(self) -> int:
        return self._now

    def advance(self, seconds: float | int = 0, *, micros: int = 0) -> int:
        """Move forward; returns the new time. Seconds may be fractional (test convenience)."""
        step = int(round(seconds * MICROS_PER_SECOND)) + micros
        if step < 0:
            raise ValueError("a simulated clock only moves forward")
        self._now += step
        return self._now

    def set(self, now_us: int) -> None:
        if now_us < self._now:
            raise ValueError("a simulated clock only moves forward")
        self._now = now_us


def iso_utc(us: int) -> str:
    """An ISO-8601 UTC timestamp with second precision: 2026-01-01T00:00:00Z."""
    return datetime.fromtimestamp(us // MICROS_PER_SECOND, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
