"""The one exception hierarchy of the exchange.

    ExchangeError
    ├── InvalidInput        bad amount, unknown agent/model/pool, malformed id
    ├── ConfigError         config file invalid: names the key and the reason
    ├── Refused             a rule said no; carries a machine code and the seed-style message
    │   ├── InsufficientFunds      "Insufficient funds" / "Would breach emergency reserve"
    │   ├── RateLimited            burst | hourly | daily, with used / limit / needed
    │   ├── BudgetExhausted        a contract's budget is spent
    │   └── NotAllowed             not a pool member, too few members, ...
    ├── Conflict            idempotency key reused with a different request
    ├── Busy                the store stayed locked by another writer: try again
    └── IntegrityError      doctor found the ledger inconsistent, or the store is unreadable

The library raises; it never prints or exits. The CLI maps each class to an exit code
(see ``EXIT_CODES``) and one line of text.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of every error the exchange raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(ExchangeError):
    code = "invalid_input"


class ConfigError(ExchangeError):
    code = "config_error"


class Refused(ExchangeError):
    """A rule of the economy said no. ``code`` names the rule, ``message`` is seed-style."""

    code = "refused"


class InsufficientFunds(Refused):
    code = "insufficient_funds"


class RateLimited(Refused):
    """Refused by a rate limit. ``kind`` is burst, hourly or daily; figures in micro-tokens."""

    code = "rate_limited"

    def __init__(
        self, message: str, *, kind: str, used: int, limit: int, needed: int
    ) -> None:
        super().__init__(message, code=f"{kind}_limit")
        self.kind = kind
        self.used = used
        self.limit = limit
        self.needed = needed


class BudgetExhausted(Refused):
    code = "budget_exhausted"


class NotAllowed(Refused):
    code = "not_allowed"


class Conflict(ExchangeError):
    code = "idempotency_conflict"


class Busy(ExchangeError):
    """Another writer held the database past the wait; nothing changed, try again."""

    code = "busy"


class IntegrityError(ExchangeError):
    code = "integrity_error"


EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_INTEGRITY = 3


def exit_code_for(error: ExchangeError) -> int:
    """The CLI's exit code for an error: 1 refused, 2 bad input, 3 integrity."""
    if isinstance(error, Refused):
        return EXIT_REFUSED
    if isinstance(error, IntegrityError):
        return EXIT_INTEGRITY
    return EXIT_BAD_INPUT
