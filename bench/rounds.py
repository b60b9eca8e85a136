"""How every benchmark here reports: a ratio against a baseline measured in the same run,
three rounds, the median and the range."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from importlib.util import find_spec

ROUNDS = 3


def summary(values: Sequence[float], digits: int = 2) -> str:
    """``median [min-max]`` of the rounds."""
    return (f"{statistics.median(values):.{digits}f} "
            f"[{min(values):.{digits}f}-{max(values):.{digits}f}]")


def verdict(values: Sequence[float], target: float, *, at_most: bool = False) -> str:
    """Whether the median meets the target (>= it, or <= it with ``at_most``)."""
    median = statistics.median(values)
    met = median <= target if at_most else median >= target
    return f"(target {'<=' if at_most else '>='} {target:g}: {'met' if met else 'MISSED'})"


def uvicorn_stack() -> str:
    """The event loop and HTTP parser uvicorn picks here (its fast ones when installed)."""
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    parser = "httptools" if find_spec("httptools") else "h11"
    return f"{loop} + {parser}"
