"""The loan commands: each prints what its method returns (--json: the record), a
sentence otherwise, and one line with a non-zero exit for a refusal or bad input."""

from __future__ import annotations

import pytest


def test_offer_take_repay_list_show_and_credit_through_the_cli(cli):
    """`loan offer`, `take`, `repay`, `list`, `show` and `credit` work end to end, in words
    and in JSON (an interest-free loan, so the figures do not depend on the wall clock)."""
    offered = cli("loan", "offer", "builder", "500", "--rate", "0%", "--term", "2d",
                  "--max-defaults", "1", "--json")
    assert offered.code == 0, offered.err
    assert offered.json | {"created_at": None} == {
        "ok": True, "id": "offer-1", "lender": "builder", "amount": "500",
        "rate_per_day": "0", "term_hours": 48, "max_defaults": 1, "status": "open",
        "created_at": None, "closed_at": None, "loan_id": None, "replayed": False}
    taken = cli("loan", "take", "offer-1", "claude")
    assert taken.code == 0 and "claude borrowed 500.00 from builder (loan-1" in taken.out
    repaid = cli("loan", "repay", "loan-1", "200")
    assert repaid.code == 0
    assert "claude repaid 200.00 on loan-1 (interest 0.00, principal 200.00)" in repaid.out
    listed = cli("loan", "list", "--agent", "claude", "--json")
    assert [x["id"] for x in listed.json["loans"]] == ["loan-1"]
    assert listed.json["loans"][0]["owed"] == "300" and listed.json["offers"] == []
    words = cli("loan", "list")
    assert "offer-1" in words.out and "taken (loan-1)" in words.out
    shown = cli("loan", "show", "loan-1", "--json")
    assert shown.json["outstanding"] == "300" and shown.json["status"] == "open"
    assert "Owed now 300.00" in cli("loan", "show", "loan-1").out
    assert cli("loan", "show", "offer-1", "--json").json["loan_id"] == "loan-1"
    assert cli("loan", "repay", "loan-1").code == 0
    credit = cli("credit", "claude", "--json")
    assert credit.json == {"ok": True, "agent": "claude", "loans_taken": 1, "loans_repaid": 1,
                           "loans_defaulted": 0, "in_default": "0", "owed": "0", "lent": "0"}
    assert "1 loan(s) taken, 1 repaid, 0 defaulted" in cli("credit", "claude").out


def test_cancel_and_an_idempotency_key_through_the_cli(cli):
    """`loan cancel` returns the escrow; a repeated --idempotency-key offers once."""
    first = cli("loan", "offer", "lambda", "50", "--rate", "0.01", "--term", "12h",
                "--idempotency-key", "k1")
    assert first.code == 0 and "offer-1: lambda offers 50.00 at 1% a day for 12h" in first.out
    again = cli("loan", "offer", "lambda", "50", "--rate", "0.01", "--term", "12h",
                "--idempotency-key", "k1")
    assert again.code == 0 and "Already offered" in again.out
    cancelled = cli("loan", "cancel", "offer-1")
    assert cancelled.code == 0 and "50.00 returned to lambda" in cancelled.out
    assert cli("balance", "lambda", "--json").json["tokens"] == "10000"


@pytest.mark.parametrize(("args", "code", "says"), [
    (("loan", "offer", "builder", "-5", "--rate", "1%", "--term", "48h"), 2,
     "amount must be positive"),
    (("loan", "offer", "builder", "5", "--rate", "lots", "--term", "48h"), 2, "rate must be"),
    (("loan", "offer", "builder", "5", "--rate", "1%", "--term", "soon"), 2, "term must be"),
    (("loan", "offer", "builder", "9600", "--rate", "1%", "--term", "48h"), 1,
     "Would breach emergency reserve"),
    (("loan", "offer", "builder", "5", "--term", "48h"), 2, "--rate"),
    (("loan", "take", "offer-x", "claude"), 2, "expected an id like offer-1"),
    (("loan", "take", "offer-9", "claude"), 2, "unknown offer"),
    (("loan", "repay", "loan-1"), 2, "unknown loan"),
    (("loan", "cancel", "offer-1"), 2, "unknown offer"),
    (("credit", "nobody"), 2, "unknown agent"),
])
def test_bad_input_and_refusals_are_one_line_and_a_non_zero_exit(cli, args, code, says):
    """Each mistake prints one line on stderr (no traceback) and exits 2 for bad input, 1
    for a refusal."""
    result = cli(*args)
    assert result.code == code
    assert says in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_a_refusal_with_json_is_an_error_object(cli):
    """With --json a refusal is {"ok": false, "error": {code, message}} on stdout."""
    cli("loan", "offer", "builder", "5", "--rate", "1%", "--term", "1h")
    result = cli("loan", "take", "offer-1", "builder", "--json")
    assert result.code == 1
    assert result.json["error"]["code"] == "not_allowed"
    assert "own offer" in result.json["error"]["message"]
