"""A Scheme number too large for any decimal context is bad input, not a decimal.Overflow
traceback (issue 10, finding 11)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("number", ["1e999999999", "-1e999999999", "1e9999999999999"])
def test_a_scheme_number_past_any_context_is_bad_input(tmp_path: Path, cli, number: str):
    wallets = tmp_path / "old" / ".exchange" / "wallets"
    wallets.mkdir(parents=True)
    (wallets / "claude.wallet").write_text(
        f"((tokens . {number}) (spent . 0) (earned . 0) (transactions . ()))\n")
    result = cli("import", "--from-scheme", str(tmp_path / "old"), "--home",
                 str(tmp_path / "t"), with_home=False)
    assert result.code == 2, result.err
    assert "tokens is too large" in result.err
    assert len(result.err.strip().splitlines()) == 1
