"""Loans: offer, cancel, take, repay, list, show; and `credit AGENT`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from ..economy.loan_records import CreditRecord, Loan, LoanOffer, LoanRepayment
from ..formats.json_codec import to_json
from .arguments import Agent, Amount, IdempotencyKey
from .options import ExchangeOptions, command_group, exchange_options, respond
from .output import done, note, replayed, stdout, table, tokens, when

# So that "-5" reaches the amount parser (which says why it is wrong) instead of being
# taken for an unknown option.
NEGATIVE_NUMBERS_ARE_ARGUMENTS = {"ignore_unknown_options": True}

loan_app = command_group(
    "loan", "Loans: a lender offers tokens at a daily rate for a term (escrowed until taken); "
    "one borrower takes the whole offer and repays interest first, then principal. At the "
    "due time settle collects what the borrower holds above its reserve; the rest is a "
    "default, still repayable.")

OfferId = Annotated[str, typer.Argument(
    metavar="OFFER", show_default=False,
    help="The offer's id, like offer-1 (`token-exchange loan list` shows them).")]
LoanId = Annotated[str, typer.Argument(
    metavar="LOAN", show_default=False,
    help="The loan's id, like loan-1 (`token-exchange loan list` shows them).")]


@loan_app.command("offer", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def offer(
    lender: Annotated[str, typer.Argument(metavar="LENDER", show_default=False,
                                          help="The agent lending (its wallet pays).")],
    amount: Amount,
    rate: Annotated[str, typer.Option(
        "--rate", metavar="RATE", show_default=False,
        help="Simple interest a day: a percent (1%) or a fraction (0.01).")],
    term: Annotated[str, typer.Option(
        "--term", metavar="TERM", show_default=False,
        help="When the loan falls due after it is taken: hours (48h) or days (2d).")],
    max_defaults: Annotated[int | None, typer.Option(
        "--max-defaults", metavar="N", show_default=False,
        help="Refuse borrowers with more than N defaults on their credit record.")] = None,
    idempotency_key: IdempotencyKey = None,
    *, opts: ExchangeOptions,
) -> None:
    """Offer a loan: the amount is escrowed from the lender's wallet (the reserve applies)
    until a borrower takes it or the lender cancels.

    Example: token-exchange loan offer builder 500 --rate 1% --term 48h --max-defaults 0
    """
    respond(opts, lambda ex: ex.loan_offer(lender, amount, rate_per_day=rate, term_hours=term,
                                           max_defaults=max_defaults,
                                           idempotency_key=idempotency_key),
            _offered)


@loan_app.command("cancel")
@exchange_options
def cancel(offer_id: OfferId, idempotency_key: IdempotencyKey = None, *,
           opts: ExchangeOptions) -> None:
    """Withdraw an offer nobody took (its lender cancels): the escrow returns.

    Example: token-exchange loan cancel offer-1
    """
    respond(opts, lambda ex: ex.loan_cancel(offer_id, idempotency_key=idempotency_key),
            _cancelled)


@loan_app.command("take")
@exchange_options
def take(offer_id: OfferId, borrower: Annotated[str, typer.Argument(
             metavar="BORROWER", show_default=False,
             help="The agent borrowing (not the lender).")],
         idempotency_key: IdempotencyKey = None, *, opts: ExchangeOptions) -> None:
    """Take a whole offer: its amount goes to the borrower's wallet, due after its term.

    Example: token-exchange loan take offer-1 claude
    """
    respond(opts, lambda ex: ex.loan_take(offer_id, borrower, idempotency_key=idempotency_key),
            _taken)


@loan_app.command("repay", context_settings=NEGATIVE_NUMBERS_ARE_ARGUMENTS)
@exchange_options
def repay(loan_id: LoanId, amount: Annotated[str | None, typer.Argument(
              metavar="[AMOUNT]", show_default=False,
              help="Tokens to repay (default: everything owed now); no more than is owed.")
          ] = None,
          idempotency_key: IdempotencyKey = None, *, opts: ExchangeOptions) -> None:
    """Repay a loan (its borrower pays): interest first, then principal.

    Example: token-exchange loan repay loan-1 50
    """
    respond(opts, lambda ex: ex.loan_repay(loan_id, amount, idempotency_key=idempotency_key),
            _repaid)


@loan_app.command("list")
@exchange_options
def list_loans(agent: Annotated[str | None, typer.Option(
                   "--agent", metavar="AGENT", show_default=False,
                   help="Only this agent's offers and the loans it lent or borrowed.")] = None,
               *, opts: ExchangeOptions) -> None:
    """Loan offers and loans, with what is owed on each now.

    Example: token-exchange loan list --agent claude
    """
    respond(opts, lambda ex: (ex.loan_offers(agent), ex.loans(agent)), _print_book,
            json_as=lambda book: {"offers": to_json(book[0]), "loans": to_json(book[1])})


@loan_app.command("show")
@exchange_options
def show(loan_id: Annotated[str, typer.Argument(
             metavar="LOAN", show_default=False,
             help="A loan's id (loan-1), or an offer's (offer-1).")],
         *, opts: ExchangeOptions) -> None:
    """A loan with its interest and what is owed now (or an offer).

    Example: token-exchange loan show loan-1
    """
    if loan_id.startswith("offer-"):
        respond(opts, lambda ex: ex.loan_offer_show(loan_id), _print_offer)
    else:
        respond(opts, lambda ex: ex.loan_show(loan_id), _print_loan)


@exchange_options
def credit(agent: Agent, *, opts: ExchangeOptions) -> None:
    """An agent's credit record: loans taken, repaid, defaulted, in default and owed now.

    Example: token-exchange credit claude
    """
    respond(opts, lambda ex: ex.credit(agent), _print_credit)


def register(app: typer.Typer) -> None:
    app.add_typer(loan_app)
    app.command("credit")(credit)


# -- replies ------------------------------------------------------------------------------


def _percent(rate: Decimal) -> str:
    """Decimal('0.015000') -> '1.5%'."""
    return f"{(rate * 100).normalize():f}%"


def _terms(o: LoanOffer) -> str:
    return f"{tokens(o.amount)} at {_percent(o.rate_per_day)} a day for {o.term_hours}h"


def _offered(o: LoanOffer) -> None:
    line = f"{o.id}: {o.lender} offers {_terms(o)}"
    if o.replayed:
        replayed(f"Already offered: {line}; nothing changed")
        return
    done(f"{line} (escrowed)")
    if o.max_defaults is not None:
        note(f"borrowers with more than {o.max_defaults} default(s) are refused")


def _cancelled(o: LoanOffer) -> None:
    line = f"{o.id} cancelled: {tokens(o.amount)} returned to {o.lender}"
    (replayed if o.replayed else done)(("Already done: " if o.replayed else "") + line)


def _taken(loan: Loan) -> None:
    line = (f"{loan.borrower} borrowed {tokens(loan.principal)} from {loan.lender} "
            f"({loan.id}, {_percent(loan.rate_per_day)} a day), due {when(loan.due_at)}")
    if loan.replayed:
        replayed(f"Already taken: {line}; nothing changed")
    else:
        done(line)


def _repaid(paid: LoanRepayment) -> None:
    line = (f"{paid.agent} repaid {tokens(paid.amount)} on {paid.loan_id} "
            f"(interest {tokens(paid.interest)}, principal {tokens(paid.principal)}); "
            f"owed now {tokens(paid.owed)}, {paid.status} (balance {tokens(paid.tokens)})")
    if paid.replayed:
        replayed(f"Already repaid: {line}")
    else:
        done(line)


def _print_book(book: tuple[list[LoanOffer], list[Loan]]) -> None:
    offers, loans = book
    grid = table("Offers", "Id", "Lender", "Amount", "Rate/day", "Term", "Max defaults",
                 "Status", right=("Amount", "Rate/day", "Term"))
    for o in offers:
        grid.add_row(o.id, o.lender, tokens(o.amount), _percent(o.rate_per_day),
                     f"{o.term_hours}h", "-" if o.max_defaults is None else str(o.max_defaults),
                     o.status + (f" ({o.loan_id})" if o.loan_id else ""))
    stdout.print(grid)
    grid = table("Loans", "Id", "Lender", "Borrower", "Principal", "Owed now", "Due", "Status",
                 right=("Principal", "Owed now"))
    for x in loans:
        grid.add_row(x.id, x.lender, x.borrower, tokens(x.principal), tokens(x.owed),
                     when(x.due_at), x.status)
    stdout.print(grid)


def _print_offer(o: LoanOffer) -> None:
    stdout.print(f"{o.id} — {o.lender} offers {_terms(o)}: {o.status}"
                 + (f" ({o.loan_id})" if o.loan_id else ""))
    if o.max_defaults is not None:
        stdout.print(f"Borrowers with more than {o.max_defaults} default(s) are refused")


def _print_loan(x: Loan) -> None:
    stdout.print(f"{x.id} — {x.borrower} borrowed {tokens(x.principal)} from {x.lender} "
                 f"({x.offer_id}) at {_percent(x.rate_per_day)} a day: {x.status}")
    stdout.print(f"Taken {when(x.taken_at)} · due {when(x.due_at)}"
                 + (f" · defaulted {when(x.defaulted_at)}" if x.defaulted_at else "")
                 + (f" · repaid {when(x.repaid_at)}" if x.repaid_at else ""))
    stdout.print(f"Owed now {tokens(x.owed)} (principal {tokens(x.outstanding)}, interest "
                 f"{tokens(x.interest_due)}) · paid interest {tokens(x.interest_paid)}, "
                 f"principal {tokens(x.principal_paid)}")


def _print_credit(c: CreditRecord) -> None:
    stdout.print(f"{c.agent}: {c.loans_taken} loan(s) taken, {c.loans_repaid} repaid, "
                 f"{c.loans_defaulted} defaulted")
    stdout.print(f"In default {tokens(c.in_default)} · owed now {tokens(c.owed)} · owed to "
                 f"{c.agent} as lender {tokens(c.lent)}")
