"""Migrating the seed's Scheme prototype: its files are read as data and its history
becomes transfers whose balances equal the wallet files exactly.

The fixture in tests/fixtures/scheme_exchange was built by hand from the wallet format in
the seed document (the prototype itself is not available to produce one)."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from agent_token_exchange import InvalidInput, open_exchange
from agent_token_exchange.formats.sexpr import Dotted, Symbol, alist_get, read_all, read_one
from agent_token_exchange.money import to_micro, tokens

FIXTURE = Path(__file__).parent / "fixtures" / "scheme_exchange"


def _wallet_figures(path: Path) -> tuple[int, ...]:
    """The wallet file's own tokens, earned and spent, in tokens (exact to the micro-token)."""
    data = read_one(path.read_text(), path.name)
    figures = []
    for key in ("tokens", "earned", "spent"):
        value = alist_get(data, key, path.name)
        if isinstance(value, Fraction):
            value = Decimal(value.numerator) / Decimal(value.denominator)
        figures.append(tokens(to_micro(value)))
    return tuple(figures)


def test_scheme_exchange_migrates_with_balances_exact_and_doctor_clean(tmp_path, cli):
    """A Scheme exchange imports with every wallet's figures exact, its pool and history kept,
    doctor clean, and pool numbering continued."""
    target = tmp_path / "team"
    result = cli("import", "--from-scheme", str(FIXTURE), "--home", str(target), "--json",
                 with_home=False)
    assert result.code == 0, result.err
    report = result.json
    assert report["transfers"] == 13 and report["pools"] == 1
    assert any(n.startswith("claude: 9,793.40 tokens") for n in report["notes"])
    assert any("spark earn at 1734912800 75.00" in n for n in report["notes"])
    with open_exchange(target) as ex:
        for path in sorted((FIXTURE / ".exchange" / "wallets").glob("*.wallet")):
            w = ex.balance(path.stem)
            assert (w.tokens, w.earned, w.spent) == _wallet_figures(path), path.stem
        assert all(f.ok for f in ex.doctor().findings), ex.doctor().findings
        pool = ex.pool_show("pool-123")
        assert pool.balance == 985
        assert {m.agent: m.contributed for m in pool.members} == {
            "claude": 600, "builder": 400}
        history = ex.history("claude", limit=100)
        commit = next(e for e in history if e.description == "earn: git commit")
        assert commit.project == "agent-token-exchange" and commit.amount == 150
        assert commit.at == 1734912345 * 1_000_000
        spend = next(e for e in history if e.type == "inference" and e.model)
        assert spend.model == "claude-sonnet" and 'coding "refactor"' in spend.description
        # The migrated exchange keeps working: the next pool is numbered after pool-123.
        assert ex.pool_create("next", "zero", 1).id == "pool-124"


def test_human_report_names_what_was_imported(tmp_path, cli):
    """The human import report names the pools and the number of transfers imported."""
    result = cli("import", "--from-scheme", str(FIXTURE / ".exchange"), "--home",
                 str(tmp_path / "t"), with_home=False)
    assert result.code == 0
    assert "pool-123 (opus-team): 2 members, 1,000.00 contributed, 15.00 spent" in result.out
    assert "Imported 13 transfers" in result.out


def _copy_fixture(tmp_path: Path) -> Path:
    copy = tmp_path / "scheme"
    shutil.copytree(FIXTURE, copy)
    return copy


def test_a_wallet_whose_figures_do_not_add_up_is_refused(tmp_path, cli):
    """A wallet whose figures do not add up is refused by name and nothing is imported."""
    copy = _copy_fixture(tmp_path)
    wallet = copy / ".exchange" / "wallets" / "builder.wallet"
    wallet.write_text(wallet.read_text().replace("(earned . 600.0)", "(earned . 100.0)"))
    result = cli("import", "--from-scheme", str(copy), "--home", str(tmp_path / "t"),
                 with_home=False)
    assert result.code == 2 and "builder.wallet" in result.err and "nothing was imported" in \
        result.err
    assert not (tmp_path / "t" / ".exchange").exists()


def test_an_unknown_transaction_type_is_refused_not_guessed(tmp_path, cli):
    """An unknown Scheme transaction type is refused by name, not guessed."""
    copy = _copy_fixture(tmp_path)
    wallet = copy / ".exchange" / "wallets" / "zero.wallet"
    wallet.write_text(wallet.read_text().replace("(type . spend)", "(type . lend)"))
    result = cli("import", "--from-scheme", str(copy), "--home", str(tmp_path / "t"),
                 with_home=False)
    assert result.code == 2 and "unknown transaction type 'lend'" in result.err


def test_no_scheme_exchange_is_a_clear_error(tmp_path, cli):
    """Importing from a folder with no Scheme exchange exits 2 saying so."""
    result = cli("import", "--from-scheme", str(tmp_path), "--home", str(tmp_path / "t"),
                 with_home=False)
    assert result.code == 2 and "no Scheme exchange here" in result.err


def test_reader_reads_the_seeds_wallet_example():
    """The s-expression reader reads the seed's wallet example into alists of decimals, symbols and
    strings."""
    text = """((tokens . 10000.0)
(spent . 150.0)
(earned . 450.0)
(transactions . (((timestamp . 1734912345)
(type . earn)
(amount . 150)
(description . "git commit")
(project . "agent-token-exchange")))))"""
    data = read_one(text, "seed")
    assert alist_get(data, "tokens", "seed") == Decimal("10000.0")
    [txn] = alist_get(data, "transactions", "seed")
    assert alist_get(txn, "type", "seed") == Symbol("earn")
    assert alist_get(txn, "project", "seed") == "agent-token-exchange"


def test_reader_handles_dotted_forms_numbers_and_comments():
    """The reader handles dotted forms, integers, decimals, fractions, exponents, escapes, booleans
    and comments."""
    assert read_one("(a . (b c))", "t") == [Symbol("a"), Symbol("b"), Symbol("c")]
    assert read_one("(a . ())", "t") == [Symbol("a")]
    assert read_one("(a b . c)", "t") == Dotted([Symbol("a"), Symbol("b")], Symbol("c"))
    assert read_all('1 -2.5 3/4 1e3 "x\\"y" #t ; comment\n #f', "t") == [
        Decimal(1), Decimal("-2.5"), Fraction(3, 4), Decimal("1e3"), 'x"y', True, False]


@pytest.mark.parametrize("text, message", [
    ("(a b", "line 1: the file ends inside a list"),
    ("\n\n)", "line 3: an unexpected ')'"),
    ('("never closed', "a string is not closed"),
    ("(a . b c)", "more than one datum after '.'"),
    ("( . a)", "a misplaced '.'"),
    ("'(quoted)", "quoted or quasiquoted forms are code"),
    ("#.(system \"rm -rf /\")", "not plain data"),
    ("(" * 100 + ")" * 100, "nested deeper than 64"),
    ("+nan.0", "not plain data"),
])
def test_reader_refuses_what_is_not_plain_data(text, message):
    """The reader refuses unbalanced, quoted, reader-macro, too-deep and non-finite input with a
    located message."""
    with pytest.raises(InvalidInput, match=re.escape(message)):
        read_all(text, "f")
