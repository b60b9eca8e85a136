"""Contract patterns, matched in linear time.

A project name reaches the matcher from any agent key (``/v1/rewards/preview``) and from
every ``git commit`` through the hook, so a backtracking engine would let one pattern such
as ``(a+)+$`` stall the server or hang a commit. RE2 guarantees time linear in the input;
it rejects the few constructs that need backtracking (look-around, back-references), and
the config says so when a pattern uses one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its parse errors to stderr itself


@lru_cache(maxsize=256)
def linear_pattern(pattern: str) -> Any:
    """The compiled RE2 pattern; ValueError naming the problem if RE2 cannot take it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"not a valid linear-time (RE2) regular expression ({reason})") from None
