"""Records <-> JSON, driven by each record's field types (``economy/records.py``).

Two encodings of the same fields:

- ``to_json``/``from_json``: the public shape the CLI's ``--json``, the HTTP API and the
  client speak. Amounts (``Decimal`` fields) are decimal token strings ("450", "0.5"),
  times (``Moment`` fields) ISO-8601 UTC at second precision, nested records objects.
- ``to_exact_json``/``from_exact_json``: what the ledger keeps as an idempotency key's
  first outcome. Amounts are integer micro-tokens and times integer microseconds, so a
  replay returns exactly the first result (and rows written by earlier versions, which
  stored ``dataclasses.asdict``, read back unchanged).

Import-light on purpose (no pydantic): the git hook path loads it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from ..clock import iso_utc
from ..economy.records import MOMENT
from ..errors import InvalidInput
from ..money import format_tokens, micro, tokens

R = TypeVar("R")

# What a field holds, as far as JSON is concerned.
PLAIN, AMOUNT, MOMENT_FIELD, RECORD, RECORDS = "plain", "amount", "moment", "record", "records"


@dataclasses.dataclass(frozen=True)
class FieldPlan:
    """How one field of a record is written: its kind, whether it may be None, and the
    record type it nests (for RECORD and RECORDS)."""

    name: str
    kind: str
    optional: bool
    nested: type | None
    hint: Any  # the field's annotation, None stripped (for schema generation)
    init: bool


@cache
def plan(cls: type) -> tuple[FieldPlan, ...]:
    """The fields of a record class, classified once."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple(_classify(f.name, hints[f.name], f.init) for f in dataclasses.fields(cls))


def _classify(name: str, hint: Any, init: bool) -> FieldPlan:
    optional = False
    if _is_union(hint):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        hint = members[0] if len(members) == 1 else hint
    if typing.get_origin(hint) is typing.Annotated and MOMENT in hint.__metadata__:
        return FieldPlan(name, MOMENT_FIELD, optional, None, hint, init)
    if hint is Decimal:
        return FieldPlan(name, AMOUNT, optional, None, hint, init)
    if dataclasses.is_dataclass(hint):
        return FieldPlan(name, RECORD, optional, hint, hint, init)
    if typing.get_origin(hint) in (tuple, list):
        item = typing.get_args(hint)[0]
        if dataclasses.is_dataclass(item):
            return FieldPlan(name, RECORDS, optional, item, hint, init)
    return FieldPlan(name, PLAIN, optional, None, hint, init)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


# -- the public shape -------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A record (or a list of them) as plain JSON types, amounts as decimal strings."""
    return _encode(value, format_tokens, iso_utc)


def from_json(cls: type[R], data: dict[str, Any]) -> R:
    """The record ``to_json`` wrote; times come back at the second precision it keeps."""
    return _decode(cls, data, _amount_from_text, _moment_from_iso)


# -- the exact shape (idempotency outcomes) ---------------------------------------------


def to_exact_json(value: Any) -> Any:
    """A record as the ledger keeps it: amounts in micro-tokens, times in microseconds."""
    return _encode(value, micro, _same)


def from_exact_json(cls: type[R], data: dict[str, Any]) -> R:
    """The record ``to_exact_json`` wrote (or ``dataclasses.asdict`` did, before)."""
    return _decode(cls, data, tokens, _same)


# -- both -------------------------------------------------------------------------------


def _encode(value: Any, amount: Callable[[Any], Any], moment: Callable[[Any], Any]) -> Any:
    if isinstance(value, list | tuple):
        return [_encode(item, amount, moment) for item in value]
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    out: dict[str, Any] = {}
    for spec in plan(type(value)):
        item = getattr(value, spec.name)
        if spec.kind in (RECORD, RECORDS) or isinstance(item, list | tuple):
            out[spec.name] = _encode(item, amount, moment)
        else:
            out[spec.name] = _scalar(spec, item, amount, moment)
    return out


def _decode(cls: type[R], data: dict[str, Any], amount: Callable[[Any], Decimal],
            moment: Callable[[Any], int]) -> R:
    if not isinstance(data, dict):
        raise InvalidInput(f"expected a JSON object for {cls.__name__}, got "
                           f"{type(data).__name__}")
    values: dict[str, Any] = {}
    for spec in plan(cls):
        if not spec.init or spec.name not in data:
            continue
        item = data[spec.name]
        nested = spec.nested  # set for RECORD and RECORDS fields only
        if item is not None and nested is not None and spec.kind == RECORD:
            values[spec.name] = _decode(nested, item, amount, moment)
        elif item is not None and nested is not None:
            values[spec.name] = tuple(_decode(nested, one, amount, moment) for one in item)
        elif isinstance(item, list):
            values[spec.name] = tuple(item)
        else:
            values[spec.name] = _scalar(spec, item, amount, moment)
    return cls(**values)


def _scalar(spec: FieldPlan, item: Any, amount: Callable[[Any], Any],
            moment: Callable[[Any], Any]) -> Any:
    """A field that nests no record, converted one way (``amount`` and ``moment`` say
    which); None stays None."""
    if item is None:
        return None
    if spec.kind == AMOUNT:
        return amount(item)
    if spec.kind == MOMENT_FIELD:
        return moment(item)
    return item


def _same(value: Any) -> Any:
    return value


def _amount_from_text(text: Any) -> Decimal:
    try:
        return tokens(micro(Decimal(str(text))))
    except ArithmeticError:
        raise InvalidInput(f"not an amount of tokens: {str(text)[:40]!r}") from None


def _moment_from_iso(text: Any) -> int:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000


__all__ = ["from_exact_json", "from_json", "plan", "to_exact_json", "to_json"]
