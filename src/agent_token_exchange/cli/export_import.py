"""Export the ledger to JSON or CSV; import an export (or a Scheme prototype's exchange)
into an empty exchange."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..economy.accounts import wallet
from ..errors import InvalidInput
from ..files import read_text_file
from ..formats.export import MAX_FILE_BYTES, WRITERS, parse_export, parse_time
from ..formats.json_codec import to_json
from ..formats.scheme import read_scheme_exchange
from ..service.home import find_home
from ..service.lifecycle import import_exchange
from .options import ExchangeOptions, exchange_options, open_from
from .output import count, emit_json, stdout


class Format(StrEnum):
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)


@exchange_options
def export(
    format: Annotated[Format, typer.Option("--format", help="json or csv.")] = Format.json,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE", help="Only records at or after DATE (2026-01-31 or "
        "2026-01-31T12:00:00Z). A filtered export cannot be imported.")] = None,
    agent: Annotated[str | None, typer.Option(
        "--agent", metavar="AGENT", help="Only that agent's wallet, transfers, pools, "
        "refusals, the offers, loans and futures it is a party to, its stake, unbondings, "
        "proposals and votes. A filtered export cannot be imported.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE", help="Write to FILE (default: standard output).")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Export transfers, accounts (wallets, pools, contracts), pools, refusals and
    idempotency keys, for analysis, auditing or moving an exchange.

    With --json, the export goes to --out and a summary is printed.

    Example: token-exchange export --format csv --since 2026-01-01 --out ledger.csv
    """
    if opts.json and out is None:
        raise InvalidInput("with --json, name the export file with --out FILE")
    since_us = parse_time(since, "--since") if since is not None else None
    with open_from(opts) as ex:
        image = ex.export_image(since=since_us, agent=agent)
        if agent is not None and not any(a.name == wallet(agent) for a in image.accounts):
            raise InvalidInput(f"unknown agent {agent!r}: no wallet of that name here "
                               f"(known: {', '.join(ex.agents())}); nothing written")
    text = WRITERS[format.value](image)
    if out is None:
        sys.stdout.write(text)
        return
    _write_atomically(out, text)
    if opts.json:
        emit_json({"out": str(out), "format": format.value, "complete": image.complete,
                   "transfers": len(image.transfers), "accounts": len(image.accounts),
                   "pools": len(image.pools), "refusals": len(image.refusals)})
    else:
        stdout.print(f"✅ Exported {count(len(image.transfers), 'transfer')}, "
                     f"{count(len(image.accounts), 'account')} and "
                     f"{count(len(image.pools), 'pool')} to {out}")


@exchange_options
def import_(
    file: Annotated[Path | None, typer.Argument(
        metavar="FILE", help="An export written by `token-exchange export`.",
        show_default=False)] = None,
    from_scheme: Annotated[Path | None, typer.Option(
        "--from-scheme", metavar="DIR", help="Migrate the Scheme prototype's exchange in DIR "
        "(its .exchange/ with wallets/, pools.scm, ledger.scm).")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Load an export (or the Scheme prototype's exchange) into an empty exchange.

    Keeps every seq number, time and hash; refuses an exchange that already holds
    anything, and a file whose balances its own transfers do not give.

    Example: token-exchange import ledger.json --home ~/new-team
    """
    if (file is None) == (from_scheme is None):
        raise InvalidInput("name either an export FILE or --from-scheme DIR")
    paths = find_home(opts.home, for_init=True)
    notes: list[str] = []
    if file is not None:
        image = parse_export(_read_text(file))
    else:
        assert from_scheme is not None
        migrated = read_scheme_exchange(from_scheme)
        image, notes = migrated.image, migrated.report
    summary = import_exchange(paths.home, image, database=opts.database)
    if opts.json:
        emit_json({**to_json(summary), "notes": notes})
        return
    for note in notes:
        stdout.print(f"   {note}", markup=False)
    stdout.print(f"✅ Imported {count(summary.transfers, 'transfer')}, "
                 f"{count(summary.accounts, 'account')}, {count(summary.pools, 'pool')}, "
                 f"{count(summary.refusals, 'refusal')} and "
                 f"{count(summary.idempotency_keys, 'idempotency key')} into {paths.state}")
    stdout.print(f"   audit head {summary.head_hash}")
    if summary.unconfigured:
        stdout.print("   ⚠️  not in config.toml (history kept; add them to use their wallets): "
                     + ", ".join(summary.unconfigured), markup=False)


def _read_text(path: Path) -> str:
    return read_text_file(path, MAX_FILE_BYTES, "an export")


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot write it ({exc.strerror})") from None
