"""The one exception hierarchy of the exchange, and the one registry of its codes.

    ExchangeError
    ├── InvalidInput        bad amount, unknown agent/model/pool, malformed id
    │   └── NotFound               no such agent, pool or page (HTTP 404)
    ├── ConfigError         config file invalid: names the key and the reason
    ├── Unauthenticated     no key, or a key the exchange does not know (HTTP 401)
    ├── Forbidden           a valid key asked for what its holder may not do (HTTP 403)
    ├── Refused             a rule said no; carries a machine code and the seed-style message
    │   ├── InsufficientFunds      "Insufficient funds" / "Would breach emergency reserve"
    │   ├── RateLimited            burst | hourly | daily, with used / limit / needed
    │   ├── BudgetExhausted        a contract's budget is spent
    │   └── NotAllowed             not a pool member, too few members, ...
    ├── Conflict            idempotency key reused with a different request
    ├── Busy                the store stayed locked by another writer: try again
    ├── Unreachable         (client) the server cannot be reached or is not an exchange
    └── IntegrityError      doctor found the ledger inconsistent, or the store is unreadable

The library raises; it never prints or exits. Every code an error can carry is a row of
``REGISTRY``: its class, its HTTP status and its CLI exit code (``EXIT_OK`` 0,
``EXIT_REFUSED`` 1 for a rule or a key's rights saying no, ``EXIT_BAD_INPUT`` 2,
``EXIT_INTEGRITY`` 3). The server, the client, the
CLI, idempotency replay and the simulation all read that table:

    error.to_dict()                  # {"code": "hourly_limit", "message": ..., "kind": ...}
    ExchangeError.from_dict(d)       # the same class again, with the same fields
    status_for(error), exit_code_for(error)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_INTEGRITY = 3


class ExchangeError(Exception):
    """Base of every error the exchange raises on purpose."""

    #: Each class's own code comes from its first row in ``REGISTRY`` (set below it).
    code = "error"
    #: The fields a leaf carries beyond code and message, in ``to_dict`` order.
    FIELDS: ClassVar[tuple[str, ...]] = ()
    #: Which of ``FIELDS`` are amounts: ``Decimal`` tokens, decimal strings in ``to_dict``.
    AMOUNTS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        """Code, message and this leaf's fields, as plain JSON values (amounts as decimal
        strings of tokens, as every record's JSON shows them)."""
        fields = {name: getattr(self, name) for name in self.FIELDS}
        return {"code": self.code, "message": self.message,
                **{name: _amount_text(value) if name in self.AMOUNTS else value
                   for name, value in fields.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The error ``to_dict`` described, as the class its code is registered to. An
        unknown code, or one registered to a class outside ``cls``, gives ``cls`` itself."""
        row = REGISTRY.get(data["code"])
        target = row.error if row is not None and issubclass(row.error, cls) else cls
        fields = {name: _amount(data[name]) if name in target.AMOUNTS else data[name]
                  for name in target.FIELDS}
        return target._rebuild(data["message"], data["code"], fields)

    @classmethod
    def _rebuild(cls, message: str, code: str, fields: dict[str, Any]) -> Self:
        return cls(message, code=code)


class InvalidInput(ExchangeError):
    """Bad amount, unknown agent/model/pool, malformed id."""


class NotFound(InvalidInput):
    """No such agent, pool or page (HTTP 404)."""


class ConfigError(ExchangeError):
    """The config file is invalid: the message names the key and the reason."""


class Unauthenticated(ExchangeError):
    """No key, or a key the exchange does not know (HTTP 401)."""


class Forbidden(ExchangeError):
    """A valid key asked for something its holder may not do (HTTP 403)."""


class Refused(ExchangeError):
    """A rule of the economy said no. ``code`` names the rule, ``message`` is seed-style."""


class InsufficientFunds(Refused):
    """Not enough tokens, or the spend would breach the emergency reserve."""


class RateLimited(Refused):
    """Refused by a rate limit. ``kind`` is burst, hourly or daily; ``used``, ``limit`` and
    ``needed`` are ``Decimal`` tokens. Its code is ``<kind>_limit``."""

    FIELDS = ("kind", "used", "limit", "needed")
    AMOUNTS = frozenset({"used", "limit", "needed"})

    def __init__(
        self, message: str, *, kind: str, used: Decimal, limit: Decimal, needed: Decimal
    ) -> None:
        super().__init__(message, code=f"{kind}_limit")
        self.kind = kind
        self.used = used
        self.limit = limit
        self.needed = needed

    @classmethod
    def _rebuild(cls, message: str, code: str, fields: dict[str, Any]) -> Self:
        return cls(message, **fields)


class BudgetExhausted(Refused):
    """A contract's budget is spent."""


class NotAllowed(Refused):
    """Not a pool member, too few members, not the pool's creator, ..."""


class Conflict(ExchangeError):
    """An idempotency key reused with a different request."""


class Busy(ExchangeError):
    """Another writer held the database past the wait; nothing changed, try again."""


class Unreachable(ExchangeError):
    """The server could not be reached, or answered with something that is not the API."""


class IntegrityError(ExchangeError):
    """Doctor found the ledger inconsistent, or the store is unreadable."""


_MICRO_TOKEN = Decimal("0.000001")


def _amount_text(value: Decimal) -> str:
    # '660', '0.5': as money.format_tokens writes amounts (money imports this module).
    return format(value.normalize(), "f") if value else "0"


def _amount(value: Any) -> Decimal:
    """An amount field read back: a decimal string of tokens; an int is micro-tokens (as
    refusals kept under idempotency keys before amounts were tokens hold them)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value).scaleb(-6)
    return Decimal(str(value)).quantize(_MICRO_TOKEN)


# -- the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCode:
    """One code an error carries: its class, HTTP status and CLI exit code. ``rule`` names
    the rule behind a refusal (the simulation tallies refusals by it)."""

    code: str
    error: type[ExchangeError]
    status: int
    exit_code: int
    rule: str | None = None


_ROWS = (
    # The first row of each status is what an unknown code at that status decodes to.
    ErrorCode("invalid_input", InvalidInput, 422, EXIT_BAD_INPUT),
    ErrorCode("error", ExchangeError, 422, EXIT_BAD_INPUT),
    ErrorCode("config_error", ConfigError, 422, EXIT_BAD_INPUT),
    ErrorCode("busy", Busy, 422, EXIT_BAD_INPUT),
    ErrorCode("not_found", NotFound, 404, EXIT_BAD_INPUT),
    ErrorCode("unauthenticated", Unauthenticated, 401, EXIT_BAD_INPUT),
    ErrorCode("forbidden", Forbidden, 403, EXIT_REFUSED),  # a rule (the key's rights) said no
    ErrorCode("idempotency_conflict", Conflict, 409, EXIT_BAD_INPUT),
    ErrorCode("unreachable", Unreachable, 502, EXIT_BAD_INPUT),
    ErrorCode("integrity_error", IntegrityError, 503, EXIT_INTEGRITY),
    ErrorCode("refused", Refused, 402, EXIT_REFUSED, "not_allowed"),
    ErrorCode("insufficient_funds", InsufficientFunds, 402, EXIT_REFUSED, "funds"),
    ErrorCode("reserve", InsufficientFunds, 402, EXIT_REFUSED, "reserve"),
    ErrorCode("budget_exhausted", BudgetExhausted, 402, EXIT_REFUSED, "budget"),
    ErrorCode("not_allowed", NotAllowed, 402, EXIT_REFUSED, "not_allowed"),
    ErrorCode("burst_limit", RateLimited, 429, EXIT_REFUSED, "burst"),
    ErrorCode("hourly_limit", RateLimited, 429, EXIT_REFUSED, "hourly"),
    ErrorCode("daily_limit", RateLimited, 429, EXIT_REFUSED, "daily"),
)

REGISTRY: dict[str, ErrorCode] = {row.code: row for row in _ROWS}
_BY_CLASS: dict[type, ErrorCode] = {}
_BY_STATUS: dict[int, ErrorCode] = {}
for _row in _ROWS:
    if _row.error not in _BY_CLASS:
        _BY_CLASS[_row.error] = _row
        _row.error.code = _row.code  # a class's own code is its first row's
    _BY_STATUS.setdefault(_row.status, _row)


_ZERO = Decimal(0)


def registered(error: ExchangeError) -> ErrorCode:
    """The registry row for an error: its code's row when that code belongs to its class,
    else its nearest registered class's row."""
    row = REGISTRY.get(error.code)
    if row is not None and row.error is type(error):
        return row
    return next(_BY_CLASS[cls] for cls in type(error).__mro__ if cls in _BY_CLASS)


def status_for(error: ExchangeError) -> int:
    """The HTTP status the server answers an error with."""
    return registered(error).status


def exit_code_for(error: ExchangeError) -> int:
    """The CLI's exit code for an error: 1 refused, 2 bad input, 3 integrity."""
    return registered(error).exit_code


def error_class(code: str, status: int | None = None) -> type[ExchangeError]:
    """The class registered for ``code``; for a code this version does not know, the class
    an HTTP ``status`` stands for (the first row with that status), else ``ExchangeError``."""
    row = REGISTRY.get(code) or (_BY_STATUS.get(status) if status is not None else None)
    return row.error if row is not None else ExchangeError


def refusal(code: str, message: str, *, used: Decimal = _ZERO, limit: Decimal = _ZERO,
            needed: Decimal = _ZERO) -> Refused:
    """The exception a rule's refusal ``code`` raises (``economy.rules`` verdicts); a rate
    limit's figures are ``Decimal`` tokens."""
    row = REGISTRY.get(code)
    cls = row.error if row is not None else Refused
    if issubclass(cls, RateLimited):
        return cls(message, kind=code.removesuffix("_limit"), used=used, limit=limit,
                   needed=needed)
    if issubclass(cls, Refused):
        return cls(message, code=code)
    return Refused(message, code=code)


def refusal_rule(error: Refused) -> str:
    """The rule that refused: burst, hourly, daily, reserve, funds, budget or not_allowed."""
    return registered(error).rule or "not_allowed"
