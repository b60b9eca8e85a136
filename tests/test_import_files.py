"""What `import` reads (issue 10, finding 11): only regular files of a sane size, never a
pipe or a device (``import /dev/zero`` used to read for ever); and a Scheme number too
large for any context is bad input, not a decimal.Overflow traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_token_exchange.files import read_text_file


def run_import(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process with a deadline, so a reader that never ends fails the
    test instead of hanging it."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from agent_token_exchange.cli import main; "
         "sys.exit(main(sys.argv[1:]))", "import", *args],
        capture_output=True, text=True, timeout=30, env=os.environ.copy())


def non_regular_files(tmp_path: Path) -> list[Path]:
    fifo = tmp_path / "export.fifo"
    os.mkfifo(fifo)
    to_zero = tmp_path / "zero.json"
    to_zero.symlink_to("/dev/zero")
    to_fifo = tmp_path / "fifo.json"
    to_fifo.symlink_to(fifo)
    return [Path("/dev/zero"), fifo, to_zero, to_fifo]


def test_import_refuses_pipes_devices_and_symlinks_to_them(tmp_path: Path):
    """Import refuses pipes devices and symlinks to them."""
    for path in non_regular_files(tmp_path):
        result = run_import(str(path), "--home", str(tmp_path / "team"))
        assert result.returncode == 2, (path, result.stderr)
        assert "not a regular file" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert not (tmp_path / "team" / ".exchange" / "exchange.db").exists()


def test_a_scheme_wallet_that_is_a_pipe_is_refused(tmp_path: Path):
    """A scheme wallet that is a pipe is refused."""
    wallets = tmp_path / "old" / ".exchange" / "wallets"
    wallets.mkdir(parents=True)
    os.mkfifo(wallets / "claude.wallet")
    result = run_import("--from-scheme", str(tmp_path / "old"), "--home", str(tmp_path / "t"))
    assert result.returncode == 2, result.stderr
    assert "not a regular file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_files_over_the_limit_are_refused_without_reading_them(tmp_path: Path):
    """Files over the limit are refused without reading them."""
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * 2000)
    with pytest.raises(Exception, match="too large to be an export"):
        read_text_file(big, 1000, "an export")
    assert read_text_file(big, 5000, "an export").startswith("{")
    with pytest.raises(Exception, match="is a directory"):
        read_text_file(tmp_path, 1000, "an export")


@pytest.mark.parametrize("number", ["1e999999999", "-1e999999999", "1e9999999999999"])
def test_a_scheme_number_past_any_context_is_bad_input(tmp_path: Path, cli, number: str):
    """A scheme number past any context is bad input."""
    wallets = tmp_path / "old" / ".exchange" / "wallets"
    wallets.mkdir(parents=True)
    (wallets / "claude.wallet").write_text(
        f"((tokens . {number}) (spent . 0) (earned . 0) (transactions . ()))\n")
    result = cli("import", "--from-scheme", str(tmp_path / "old"), "--home",
                 str(tmp_path / "t"), with_home=False)
    assert result.code == 2, result.err
    assert "tokens is too large" in result.err
    assert len(result.err.strip().splitlines()) == 1
