"""`token-exchange settle`: apply everything that has fallen due, for cron or by hand."""

from __future__ import annotations

import typer

from ..economy.settle_records import SettleReport
from .options import ExchangeOptions, exchange_options, respond
from .output import stdout, tokens


def register(app: typer.Typer) -> None:
    app.command()(settle)


@exchange_options
def settle(*, opts: ExchangeOptions) -> None:
    """Apply everything that has fallen due: stale gateway reservations (closed at the
    reserved amount), and loans, futures, unbonding and proposals as they come due.

    Prints one line per item settled, or "nothing was due". Safe to run at any time and
    as often as you like: a second run settles nothing new. `serve` runs it every minute
    by itself; an exchange without a server wants a cron line (against a server it takes
    --server and an admin's --api-key):

        * * * * * token-exchange settle --home /srv/team >> /var/log/token-exchange.log

    Example: token-exchange settle --json
    """
    respond(opts, lambda ex: ex.settle(), _print_report)


def _print_report(report: SettleReport) -> None:
    if not report.items:
        stdout.print("nothing was due", markup=False)
        return
    for item in report.items:
        stdout.print(f"{item.area} {item.id}: {item.outcome}, {tokens(item.amount)} — "
                     f"{item.detail}", markup=False)


__all__ = ["register", "settle"]
