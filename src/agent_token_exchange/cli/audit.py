"""The audit chain: `audit verify` recomputes every transfer's hash."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import EXIT_INTEGRITY, IntegrityError
from ..formats.json_codec import to_json
from .options import ExchangeOptions, command_group, exchange_options, open_from
from .output import count, emit_json, stderr, stdout

audit_app = command_group("audit", "The tamper-evident audit chain over the transfer log.")


@audit_app.command("verify")
@exchange_options
def verify(
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", metavar="HASH",
        help="A head hash noted earlier: it must still be in the chain (catches a rewrite "
        "of the whole tail).")] = None,
    *, opts: ExchangeOptions,
) -> None:
    """Recompute the hash chain over every transfer; name the first one altered.

    Exits 3 when a transfer no longer matches the chain. Note the printed head hash
    somewhere safe and pass it back with --expect-head later.

    Example: token-exchange audit verify --json
    """
    with open_from(opts) as ex:
        report = ex.audit(expect_head)
    if opts.json:
        payload = to_json(report)
        if not report.intact:
            payload["error"] = {"code": IntegrityError.code, "message": report.problem}
        emit_json(payload, ok=report.intact)
    elif report.intact:
        stdout.print(f"✅ audit chain intact: {count(report.transfers, 'transfer')}, head "
                     f"#{report.head_seq} {report.head_hash}")
    else:
        stderr.print(f"integrity problem: {report.problem}", markup=False)
    if not report.intact:
        raise typer.Exit(EXIT_INTEGRITY)
