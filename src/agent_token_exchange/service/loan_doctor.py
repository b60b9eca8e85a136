"""Doctor's loan check: every offer escrow holds exactly what its offer says (the amount
while open, nothing once taken or cancelled), no escrow is without its offer, and each
loan's principal is what was repaid plus what is outstanding. Reported, never rebuilt:
offers and loans are records of their own, not figures derived from transfers."""

from __future__ import annotations

from ..economy.accounts import offer_escrow
from ..economy.records import Finding
from ..ledger import Store
from ..money import display_amount

PREFIX = offer_escrow("offer-")


def check_loans(store: Store, cached: dict[str, int]) -> list[Finding]:
    offers = store.loans.offers()
    findings = []
    expected = {offer_escrow(o.id): (o.amount if o.status == "open" else 0, o.status)
                for o in offers}
    for name in sorted(n for n in cached if n.startswith(PREFIX)):
        if name not in expected:
            findings.append(Finding("loans", False, "error",
                                    f"{name} holds {display_amount(cached[name])} but no "
                                    "offer has that id"))
    for name, (amount, status) in expected.items():
        held = cached.get(name, 0)
        if held != amount:
            findings.append(Finding("loans", False, "error",
                                    f"{name} holds {display_amount(held)} but its offer is "
                                    f"{status} (should hold {display_amount(amount)})"))
    loans = store.loans.loans()
    for loan in loans:
        if loan.principal_paid + loan.outstanding != loan.principal:
            findings.append(Finding("loans", False, "error",
                                    f"{loan.id}: {display_amount(loan.principal_paid)} repaid "
                                    f"and {display_amount(loan.outstanding)} outstanding do "
                                    f"not make its principal {display_amount(loan.principal)}"))
    if not findings:
        findings.append(Finding("loans", True, "info",
                                f"{len(offers)} loan offers' escrows and {len(loans)} loans "
                                "agree with their records"))
    return findings
