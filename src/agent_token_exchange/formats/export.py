"""Export and import files: a ledger image as JSON or CSV, and back.

Both formats hold the same records in the same order — accounts (every wallet, pool,
contract and system account with its balance, earned and spent), transfers (with their
audit hashes), pools, pool members (with their stakes), pool credits (each spend's
draws), refusals (with their counts), idempotency keys, pool invites and gateway
reservations (open and closed), the credit market's loan offers, loans and futures, and
stakes, unbondings, proposals with their stake snapshots, votes and parameter changes —
so ``export → import → export`` gives the same bytes. Version 3 files (before the credit
market and governance), version 2 files (before reservations) and version 1 files (before
stakes and refusal counts) are read too, version 1's stakes given as the ledger's
migration gives them.
Amounts are exact decimal token strings ("150", "0.000001", "-190000"); times are UTC
ISO-8601 with microseconds.

JSON is one object: a header (``format``, ``version``, ``complete``, ``since``,
``agent``) and one array per section. CSV is one table a spreadsheet can filter: the
first column names the record (``export`` for the header row, then ``account``,
``transfer``, ``pool``, ``pool_member``, ``pool_credit``, ``refusal``, ``idempotency``,
``pool_invite``, ``reservation``, ``loan_offer``, ``loan``, ``future``, ``stake``,
``unbonding``, ``proposal``, ``proposal_stake``, ``vote``, ``parameter_change``);
the other columns are the union of the records' fields, empty where a record has none.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ..economy.accounts import Kind, pool_account
from ..economy.pool_rules import stakes_from_contributions
from ..errors import InvalidInput
from ..ledger.dump import (
    MAX_LEDGER_INT,
    AccountRow,
    IdempotencyRow,
    LedgerImage,
    LedgerTransfer,
    PoolCreditRow,
    PoolImageRow,
    PoolInviteRow,
    PoolMemberRow,
    RefusalEvent,
    ReservationRow,
)
from ..money import DECIMALS, MAX_MICRO, MICRO, format_amount, format_tokens, micro, tokens
from .market_sections import MARKET_RECORD_NAMES, MARKET_SECTIONS, MARKET_SINCE, decimal_value

FORMAT = "agent-token-exchange/export"
VERSION = 4  # 4: the credit market and governance (market_sections.py). 3: gateway
# reservations. 2: pool stakes, invites and open pools; refusal counts. 3, 2, 1 still read.
READABLE = (4, 3, 2, 1)
MAX_FILE_BYTES = 2 * 1024**3

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AMOUNT = re.compile(r"^(-?)([0-9]{1,19})(?:\.([0-9]{1,6}))?$")
_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:\d{2})?$"
)


# -- field codecs: value in the image <-> value in a file -----------------------------


def time_text(us: int) -> str:
    """Exact UTC ISO-8601 with microseconds: 2026-01-01T00:00:00.000001Z."""
    moment = _EPOCH + timedelta(microseconds=us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, what: str) -> int:
    """ISO-8601 (a date, or a date and time; UTC unless an offset is given) to µs."""
    if not isinstance(text, str) or not _DATE.match(text.strip()):
        raise InvalidInput(f"{what} must be a date like 2026-01-31 or 2026-01-31T12:00:00Z, "
                           f"got {str(text)[:40]!r}")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{what} is not a real date: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _money(text: Any, what: str, *, signed: bool = False) -> int:
    match = _AMOUNT.match(text) if isinstance(text, str) else None
    if match is None or (match.group(1) and not signed):
        raise InvalidInput(f"{what} must be a decimal amount like 150 or 0.5, got "
                           f"{str(text)[:40]!r}")
    micro = int(match.group(2)) * MICRO + int((match.group(3) or "").ljust(DECIMALS, "0"))
    # One amount (a transfer, a refusal, a contribution) is at most MAX_MICRO; a signed
    # figure (a balance, the mint's total) at most what a 64-bit column holds.
    if abs(micro) > (MAX_LEDGER_INT if signed else MAX_MICRO):
        raise InvalidInput(f"{what} is too large: {text[:40]!r}")
    return -micro if match.group(1) else micro


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.isascii()
                                   and value.isdigit() and len(value) <= 19)
    ):
        raise InvalidInput(f"{what} must be a whole number, got {str(value)[:40]!r}")
    number = int(value)
    if not 0 <= number < 2**63:
        raise InvalidInput(f"{what} is out of range: {number}")
    return number


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 100_000:
        raise InvalidInput(f"{what} must be text, got {type(value).__name__}")
    return value


# Each section: the record's dataclass, and for each field how it is written and read.
# Kinds: text, opt (text or null), int, optint, money, signed, optmoney (micro-tokens),
# tokens, opttokens (a record's Decimal tokens), time, opttime, json, bool, decimal (a
# number's exact text: market_sections.py). Both kinds of
# amount are written alike, so a file reads the same whichever the image holds.
SECTIONS: dict[str, tuple[type, dict[str, str]]] = {
    "accounts": (AccountRow, {"name": "text", "kind": "text", "created_at": "time",
                              "balance": "signed", "earned": "signed", "spent": "signed"}),
    "transfers": (LedgerTransfer, {"seq": "int", "at": "time", "kind": "text",
                                   "source": "text", "destination": "text", "amount": "tokens",
                                   "description": "text",
                             "project": "opt", "model": "opt", "inference_tokens": "optint",
                             "pool_id": "opt", "idempotency_key": "opt", "hash": "opt"}),
    "pools": (PoolImageRow, {"id": "text", "number": "int", "name": "text", "creator": "text",
                             "min_contribution": "money", "created_at": "time",
                             "dissolved_at": "opttime", "is_open": "bool"}),
    "pool_members": (PoolMemberRow, {"pool_id": "text", "agent": "text", "joined_at": "time",
                                     "contributed": "signed", "stake": "money",
                                     "left_at": "opttime"}),
    "pool_credits": (PoolCreditRow, {"seq": "int", "agent": "text", "stake": "signed",
                                     "credited": "signed", "consumed": "bool"}),
    "refusals": (RefusalEvent, {"seq": "int", "at": "time", "agent": "opt",
                                "pool_id": "opt", "operation": "text", "code": "text",
                                "message": "text", "amount": "opttokens", "count": "int",
                                "first_at": "opttime"}),
    "idempotency": (IdempotencyRow, {"key": "text", "request_hash": "text", "outcome": "text",
                                     "result": "json", "first_seq": "optint",
                                     "created_at": "time"}),
    "pool_invites": (PoolInviteRow, {"pool_id": "text", "agent": "text",
                                     "invited_at": "time"}),
    "reservations": (ReservationRow, {
        "id": "int", "agent": "text", "payer": "text", "pool_id": "opt", "model": "text",
        "amount": "money", "input_estimate": "int", "max_output": "int", "estimator": "text",
        "reserved_at": "time", "hold_seq": "optint", "closed_at": "opttime",
        "outcome": "opt", "charge_seq": "optint", "input_tokens": "optint",
        "output_tokens": "optint", "charged": "optmoney", "overrun": "optmoney",
        "provider_request_id": "opt", "latency_ms": "optint"}),
    **MARKET_SECTIONS,
}
# The version each section first appeared in (the others are in every version).
_SECTION_SINCE = {"pool_invites": 2, "reservations": 3,
                  **dict.fromkeys(MARKET_SECTIONS, MARKET_SINCE)}
# The CSV record name of each section.
RECORD_NAMES = {"accounts": "account", "transfers": "transfer", "pools": "pool",
                "pool_members": "pool_member", "pool_credits": "pool_credit",
                "refusals": "refusal", "idempotency": "idempotency",
                "pool_invites": "pool_invite", "reservations": "reservation",
                **MARKET_RECORD_NAMES}

# Version 1 (before pool stakes and refusal counts): the same records less the fields
# version 2 added (read as these values; stakes are then given as migration 5 gives them),
# a credit's stake named "contributed", and no invites.
_ADDED_IN_2: dict[str, dict[str, Any]] = {
    "pools": {"is_open": False}, "pool_members": {"stake": "0", "left_at": None},
    "pool_credits": {"consumed": False}, "refusals": {"count": 1, "first_at": None},
}
_RENAMED_IN_2 = {"pool_credits": ("contributed", "stake")}


def _sections(version: int) -> dict[str, dict[str, str]]:
    """Each section's fields and kinds in a version of the format."""
    out = {}
    for section, (_, spec) in SECTIONS.items():
        if _SECTION_SINCE.get(section, 1) > version:
            continue
        if version > 1:
            out[section] = spec
            continue
        fields = {name: kind for name, kind in spec.items()
                  if name not in _ADDED_IN_2.get(section, {})}
        if section in _RENAMED_IN_2:
            old, new = _RENAMED_IN_2[section]
            fields = {old if name == new else name: kind for name, kind in fields.items()}
        out[section] = fields
    return out


def _upgrade_row(section: str, row: dict[str, Any]) -> dict[str, Any]:
    """A version 1 record with version 2's fields."""
    row = {**row, **_ADDED_IN_2.get(section, {})}
    if section in _RENAMED_IN_2:
        old, new = _RENAMED_IN_2[section]
        row[new] = row.pop(old)
    return row
HEADER_FIELDS = ("format", "version", "complete", "since", "agent")


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("money", "signed", "optmoney"):
        return format_amount(value)
    if kind in ("tokens", "opttokens"):
        return format_tokens(value)
    if kind in ("time", "opttime"):
        return time_text(value)
    if kind == "decimal":
        return str(value)
    return value


def _decode(kind: str, value: Any, what: str) -> Any:
    if kind.startswith("opt") and value is None:
        return None
    if kind in ("text", "opt"):
        return _text(value, what)
    if kind in ("int", "optint"):
        return _integer(value, what)
    if kind in ("money", "optmoney"):
        return _money(value, what)
    if kind in ("tokens", "opttokens"):
        return tokens(_money(value, what))
    if kind == "signed":
        return _money(value, what, signed=True)
    if kind in ("time", "opttime"):
        return parse_time(value, what)
    if kind == "decimal":
        return decimal_value(value, what)
    if kind == "json":
        if not isinstance(value, dict):
            raise InvalidInput(f"{what} must be a JSON object")
        return value
    if kind == "bool":
        if value in (True, "true"):
            return True
        if value in (False, "false"):
            return False
        raise InvalidInput(f"{what} must be true or false, got {str(value)[:40]!r}")
    raise AssertionError(kind)


# -- writing ------------------------------------------------------------------------------


def _header(image: LedgerImage) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "complete": image.complete,
            "since": None if image.since is None else time_text(image.since),
            "agent": image.agent}


def _records(image: LedgerImage, section: str) -> list[dict[str, Any]]:
    _, spec = SECTIONS[section]
    return [{name: _encode(kind, getattr(row, name)) for name, kind in spec.items()}
            for row in getattr(image, section)]


def to_json(image: LedgerImage) -> str:
    document = _header(image)
    for section in SECTIONS:
        document[section] = _records(image, section)
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def csv_columns(version: int = VERSION) -> list[str]:
    columns = ["record", *HEADER_FIELDS]
    for spec in _sections(version).values():
        columns += [name for name in spec if name not in columns]
    return columns


def to_csv(image: LedgerImage) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, csv_columns(), lineterminator="\n")
    writer.writeheader()
    writer.writerow({"record": "export", **{k: _csv_cell(v) for k, v in
                                            _header(image).items()}})
    for section, record in RECORD_NAMES.items():
        for row in _records(image, section):
            writer.writerow({"record": record, **{k: _csv_cell(v) for k, v in row.items()}})
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    """Null is an empty cell; an empty string is written as a quoted "" by a marker."""
    if value is None:
        return ""
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


# -- reading ------------------------------------------------------------------------------


def parse_export(text: str) -> LedgerImage:
    """Read a JSON or CSV export; any problem is one InvalidInput naming the record."""
    stripped = text.lstrip("\ufeff")
    if stripped.lstrip().startswith("{"):
        return _from_json(stripped)
    if stripped.startswith("record,"):
        return _from_csv(stripped)
    raise InvalidInput("not an export: expected a JSON or CSV file written by "
                       "`token-exchange export`")


def _from_json(text: str) -> LedgerImage:
    try:
        document = json.loads(text, parse_float=lambda s: s, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(document, dict):
        raise InvalidInput("not an export: the JSON is not an object")
    _check_format(document)
    sections = {}
    for section in _sections(_version(document)):
        rows = document.get(section)
        if not isinstance(rows, list):
            raise InvalidInput(f"not a complete export: the {section!r} list is missing")
        sections[section] = rows
    return _build(document, sections)


def _no_constant(name: str) -> Any:
    raise InvalidInput(f"not valid JSON: {name} is not a number")


def _from_csv(text: str) -> LedgerImage:
    try:
        reader = csv.DictReader(io.StringIO(text))
        version = next((v for v in READABLE if reader.fieldnames == csv_columns(v)), 0)
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"not valid CSV: {exc}") from None
    if not version:
        raise InvalidInput("CSV line 1: the columns are not an export's columns")
    columns = csv_columns(version)
    header: dict[str, Any] | None = None
    specs = _sections(version)
    sections: dict[str, list[dict[str, Any]]] = {section: [] for section in specs}
    by_record = {RECORD_NAMES[section]: section for section in specs}
    for number, row in enumerate(rows, start=2):
        if None in row or set(row) != set(columns):
            raise InvalidInput(f"CSV line {number}: the columns are not an export's columns")
        record = row["record"]
        if record == "export":
            header = {k: _csv_value(row[k]) for k in HEADER_FIELDS}
            header["complete"] = row["complete"] == "true"
            continue
        if record not in by_record:
            raise InvalidInput(f"CSV line {number}: unknown record {record[:40]!r}")
        section = by_record[record]
        spec = specs[section]
        values = {}
        for name, kind in spec.items():
            value = _csv_value(row[name])
            if kind == "json" and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise InvalidInput(f"CSV line {number}: {name} is not JSON") from None
            values[name] = value
        sections[section].append(values)
    if header is None:
        raise InvalidInput("not an export: the CSV has no `export` header row")
    _check_format(header)
    if _version(header) != version:
        raise InvalidInput(f"the CSV's columns are version {version}'s, its header says "
                           f"version {str(header.get('version'))[:10]}")
    return _build(header, sections)


def _csv_value(cell: str) -> Any:
    if cell == "":
        return None
    if cell == '""':
        return ""
    return cell


def _check_format(header: dict[str, Any]) -> None:
    if header.get("format") != FORMAT:
        raise InvalidInput(f"not an export: format is {str(header.get('format'))[:60]!r}, "
                           f"expected {FORMAT!r}")
    _version(header)


def _version(header: dict[str, Any]) -> int:
    version = str(header.get("version"))
    if version not in {str(v) for v in READABLE}:
        raise InvalidInput(f"export version {version[:10]} is not one this program reads (it "
                           f"reads {', '.join(map(str, sorted(READABLE)))})")
    return int(version)


def _build(header: dict[str, Any], sections: dict[str, list[Any]]) -> LedgerImage:
    version = _version(header)
    specs = _sections(version)
    built: dict[str, list[Any]] = {section: [] for section in SECTIONS}
    for section, rows in sections.items():
        record_type, spec = SECTIONS[section]
        out = []
        for index, row in enumerate(rows, start=1):
            where = f"{section} record {index}"
            if not isinstance(row, dict) or set(row) != set(specs[section]):
                raise InvalidInput(f"{where}: expected the fields {', '.join(specs[section])}")
            if version == 1:
                row = _upgrade_row(section, row)
            values = {name: _decode(kind, row[name], f"{where}: {name}")
                      for name, kind in spec.items()}
            out.append(_make(record_type, values))
        built[section] = out
    for refusal in built["refusals"]:
        if refusal.count < 1:
            raise InvalidInput(f"refusal #{refusal.seq}: count must be at least 1")
    if version == 1:
        built["pool_members"] = _stakes_as_migrated(built["pools"], built["pool_members"],
                                                    built["transfers"])
    for transfer in built["transfers"]:
        if transfer.kind not in {k.value for k in Kind}:
            raise InvalidInput(f"transfer #{transfer.seq}: unknown kind {transfer.kind[:40]!r}")
    complete = header.get("complete")
    return LedgerImage(**built, complete=complete is True,
                       since=None if header.get("since") is None
                       else parse_time(header["since"], "since"),
                       agent=header.get("agent"))


def _stakes_as_migrated(pools: list[PoolImageRow], members: list[PoolMemberRow],
                        transfers: list[LedgerTransfer]) -> list[PoolMemberRow]:
    """A version 1 export's members with the stakes migration 5 gives: each open pool's
    balance in proportion to what its members contributed."""
    held: dict[str, int] = {}
    for t in transfers:
        held[t.destination] = held.get(t.destination, 0) + micro(t.amount)
        held[t.source] = held.get(t.source, 0) - micro(t.amount)
    stakes: dict[tuple[str, str], int] = {}
    for pool in pools:
        if pool.dissolved_at is not None:
            continue
        mine = {m.agent: m.contributed for m in members if m.pool_id == pool.id}
        for agent, stake in stakes_from_contributions(
                held.get(pool_account(pool.id), 0), mine).items():
            stakes[(pool.id, agent)] = stake
    return [replace(m, stake=stakes.get((m.pool_id, m.agent), 0)) for m in members]


def _make(record_type: type, values: dict[str, Any]) -> Any:
    names = [f.name for f in dataclass_fields(record_type)]
    return record_type(**{name: values.get(name) for name in names})


WRITERS: dict[str, Callable[[LedgerImage], str]] = {"json": to_json, "csv": to_csv}
