"""The error registry: one table from code to class, HTTP status and CLI exit code."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from decimal import Decimal

import pytest

import agent_token_exchange
from agent_token_exchange import errors
from agent_token_exchange.client.http import error_from_response
from agent_token_exchange.errors import (
    REGISTRY,
    ExchangeError,
    Forbidden,
    RateLimited,
    Refused,
    exit_code_for,
    status_for,
)
from agent_token_exchange.server.app import error_body
from agent_token_exchange.service.idempotency import refusal_from_record, refusal_record

CLASSES = [cls for cls in vars(errors).values()
           if isinstance(cls, type) and issubclass(cls, ExchangeError)]


def example(code: str) -> ExchangeError:
    """An error carrying ``code``, with every field its class has."""
    cls = REGISTRY[code].error
    if issubclass(cls, RateLimited):
        return cls("Hourly limit reached", kind=code.removesuffix("_limit"),
                   used=Decimal("1.5"), limit=Decimal(2), needed=Decimal("0.75"))
    return cls(f"something about {code}", code=code)


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_every_code_round_trips_through_to_dict_and_from_dict(code: str) -> None:
    """``from_dict(to_dict())`` gives the same class, code, message and fields, via JSON."""
    error = example(code)
    data = json.loads(json.dumps(error.to_dict()))
    again = ExchangeError.from_dict(data)
    assert type(again) is type(error) and again.code == code
    assert again.to_dict() == error.to_dict() and again.message == error.message


def test_rate_limited_to_dict_carries_its_figures() -> None:
    """A rate limit's dict has code, message, then kind, used, limit and needed, its
    ``Decimal`` token figures written as decimal strings."""
    assert example("hourly_limit").to_dict() == {
        "code": "hourly_limit", "message": "Hourly limit reached", "kind": "hourly",
        "used": "1.5", "limit": "2", "needed": "0.75"}
    again = ExchangeError.from_dict(example("hourly_limit").to_dict())
    assert isinstance(again, RateLimited)
    assert (again.used, again.limit, again.needed) == (Decimal("1.5"), 2, Decimal("0.75"))
    assert str(again.needed) == "0.750000"


def test_a_refusal_kept_in_micro_tokens_still_replays_in_tokens() -> None:
    """A rate-limit refusal stored under an idempotency key before amounts were tokens
    (integer micro-tokens) replays with the same figures as ``Decimal`` tokens."""
    again = refusal_from_record({"class": "RateLimited", "code": "burst_limit",
                                 "message": "too big", "kind": "burst", "used": 0,
                                 "limit": 500_000_000, "needed": 660_000_000})
    assert isinstance(again, RateLimited)
    assert (again.limit, again.needed) == (Decimal(500), Decimal(660))


def test_every_class_is_registered() -> None:
    """Each exception class in errors.py has at least one code in the registry."""
    assert {row.error for row in REGISTRY.values()} == set(CLASSES)


def test_exceptions_are_defined_only_in_errors() -> None:
    """No module of the package defines an ExchangeError of its own."""
    for info in pkgutil.walk_packages(agent_token_exchange.__path__, "agent_token_exchange."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ExchangeError):
                assert value.__module__ == "agent_token_exchange.errors", (info.name, value)


def test_the_docstring_tree_names_every_class() -> None:
    """The tree drawn in errors.py's docstring is the class tree, every class in it."""
    tree = (errors.__doc__ or "").split("\n\n")[1]
    drawn = [(len(match.group(1)), match.group(2))
             for match in re.finditer(r"^( *(?:[│ ]*[├└]── )?)(\w+)", tree, re.M)]
    assert {name for _, name in drawn} == {cls.__name__ for cls in CLASSES}
    for i, (column, name) in enumerate(drawn[1:], 1):
        parent = next(p for c, p in reversed(drawn[:i]) if c < column)
        assert getattr(errors, name).__bases__ == (getattr(errors, parent),), name


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_every_code_has_one_status_and_one_exit_code(code: str) -> None:
    """An error's status and exit code are its code's row, shared by all codes of its class,
    and a refusal (by a rule, or by the key's rights: Forbidden) exits 1, an integrity
    problem (only that) exits 3."""
    row, error = REGISTRY[code], example(code)
    assert (status_for(error), exit_code_for(error)) == (row.status, row.exit_code)
    siblings = {(r.status, r.exit_code) for r in REGISTRY.values() if r.error is row.error}
    assert siblings == {(row.status, row.exit_code)}
    assert (row.exit_code == errors.EXIT_REFUSED) == isinstance(error, Refused | Forbidden)
    assert (row.exit_code == errors.EXIT_INTEGRITY) == isinstance(error, errors.IntegrityError)
    assert row.exit_code in {errors.EXIT_REFUSED, errors.EXIT_BAD_INPUT, errors.EXIT_INTEGRITY}


def test_statuses_and_exit_codes_are_the_published_ones() -> None:
    """The API's statuses and the CLI's exit codes, class by class, as documented."""
    expected = {
        "invalid_input": (422, 2), "error": (422, 2), "config_error": (422, 2),
        "busy": (422, 2), "not_found": (404, 2), "unauthenticated": (401, 2),
        "forbidden": (403, 1), "idempotency_conflict": (409, 2), "unreachable": (502, 2),
        "integrity_error": (503, 3), "refused": (402, 1), "insufficient_funds": (402, 1),
        "reserve": (402, 1), "budget_exhausted": (402, 1), "not_allowed": (402, 1),
        "burst_limit": (429, 1), "hourly_limit": (429, 1), "daily_limit": (429, 1),
    }
    assert {code: (row.status, row.exit_code) for code, row in REGISTRY.items()} == expected


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_the_client_rebuilds_what_the_server_sent(code: str) -> None:
    """An error the server answers with comes back from the client as the same error."""
    error = example(code)
    again = error_from_response(status_for(error), error_body(error))
    assert type(again) is type(error) and again.to_dict() == error.to_dict()


def test_the_server_shows_rate_limit_figures_as_decimal_strings() -> None:
    """The API's error body keeps amounts as decimal token strings."""
    assert error_body(example("daily_limit")) == {"ok": False, "error": {
        "code": "daily_limit", "message": "Hourly limit reached", "kind": "daily",
        "used": "1.5", "limit": "2", "needed": "0.75"}}


def test_an_unknown_code_decodes_by_its_status() -> None:
    """A code this version does not know still raises the class its status stands for."""
    error = error_from_response(402, {"ok": False, "error": {"code": "loan_overdue",
                                                             "message": "pay first"}})
    assert type(error) is Refused and error.code == "loan_overdue"
    assert exit_code_for(error) == errors.EXIT_REFUSED


def test_a_rate_limit_without_figures_decodes_to_a_plain_error() -> None:
    """A 429 body missing its figures is an ExchangeError with the code, not a crash."""
    error = error_from_response(429, {"error": {"code": "hourly_limit", "message": "slow"}})
    assert type(error) is ExchangeError and error.code == "hourly_limit"


@pytest.mark.parametrize("code", sorted(c for c, r in REGISTRY.items()
                                        if issubclass(r.error, Refused)))
def test_an_idempotent_replay_raises_the_first_refusal(code: str) -> None:
    """A refusal kept under an idempotency key comes back as the same refusal."""
    error = example(code)
    assert isinstance(error, Refused)
    record = json.loads(json.dumps(refusal_record(error)))
    assert record["class"] == type(error).__name__
    again = refusal_from_record(record)
    assert type(again) is type(error) and again.to_dict() == error.to_dict()


def test_a_refusal_rule_names_what_refused() -> None:
    """Each refusal code names the rule the simulation tallies it under."""
    rules = {code: errors.refusal_rule(example(code)) for code, row in REGISTRY.items()
             if issubclass(row.error, Refused)}
    assert rules == {"refused": "not_allowed", "insufficient_funds": "funds",
                     "reserve": "reserve", "budget_exhausted": "budget",
                     "not_allowed": "not_allowed", "burst_limit": "burst",
                     "hourly_limit": "hourly", "daily_limit": "daily"}


def test_a_rule_verdict_raises_its_registered_refusal() -> None:
    """``refusal`` turns a rule's code into its class, with a rate limit's figures."""
    limited = errors.refusal("burst_limit", "too big", used=Decimal(5), limit=Decimal(4),
                             needed=Decimal(5))
    assert isinstance(limited, RateLimited) and (limited.kind, limited.limit) == ("burst", 4)
    assert type(errors.refusal("reserve", "low")) is errors.InsufficientFunds
    assert type(errors.refusal("not_allowed", "no")) is errors.NotAllowed
