"""Input validation that needs no state: the shape of what a caller may send.

Every check raises InvalidInput with one line saying what was wrong; none raises a
TypeError, whatever type arrives.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidInput

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"  # agents, contracts, refusal codes
TASK_TYPE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
POOL_ID = re.compile(r"^pool-[1-9][0-9]{0,17}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,200}$")
MAX_TEXT = 500
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def text_field(value: str, what: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({len(value)} characters, at most {limit})")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value) or "\x7f" in value:
        raise InvalidInput(f"{what} contains control characters")
    # Lone surrogates cannot be stored as UTF-8; bidirectional overrides would let a
    # description display as something other than what it says.
    if any("\ud800" <= ch <= "\udfff" or ch in BIDI_CONTROLS for ch in value):
        raise InvalidInput(f"{what} contains invalid or direction-changing characters")
    return value.strip()


def hex_id(value: str, what: str) -> str:
    """A full git object id (40 hex for SHA-1, 64 for SHA-256), lower-cased. An
    abbreviation is refused: each spelling of one commit would otherwise pay once."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}",
                                                       value):
        raise InvalidInput(
            f"{what} must be a full 40- or 64-character hexadecimal object id "
            f"(as `git rev-parse HEAD` prints), got {str(value)[:80]!r}")
    return value.lower()


MAX_PROJECT = 200


def project_name(value: str) -> str:
    """A project name, bounded: it is matched against every contract's pattern."""
    return text_field(value, "project", limit=MAX_PROJECT)


def whole_number(value: Any, what: str, low: int, high: int) -> int:
    """A whole number in [low, high], or InvalidInput (never a TypeError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}, "
                           f"got {str(value)[:40]!r}")
    return value


def model_name(model: Any) -> str:
    if not isinstance(model, str) or not 0 < len(model) <= 100:
        raise InvalidInput(f"model must be a model name from config.toml, got "
                           f"{str(model)[:40]!r}")
    return model


def check_issue_fields(priority: Any, issue_type: Any, labels: Any, close_reason: Any,
                  tombstoned: Any, title: Any) -> None:
    """The shape of an issue's fields, checked before any rule reads them."""
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)
                                 or not 0 <= priority <= 9):
        raise InvalidInput(f"issue priority must be 0-9 or missing, got {str(priority)[:20]!r}")
    for value, what in ((issue_type, "issue type"), (close_reason, "close reason")):
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            raise InvalidInput(f"{what} must be text of at most 500 characters")
    if not isinstance(labels, tuple | list) or len(labels) > 100 or not all(
            isinstance(label, str) and len(label) <= 100 for label in labels):
        raise InvalidInput("issue labels must be a list of at most 100 short strings")
    if not isinstance(tombstoned, bool):
        raise InvalidInput("tombstoned must be true or false")
    if not isinstance(title, str) or len(title) > 10_000:
        raise InvalidInput("issue title must be text of at most 10000 characters")
