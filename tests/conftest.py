"""Shared fixtures: a fresh exchange on a simulated clock, and the CLI's real entry point."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_token_exchange import Exchange, SimulatedClock, init_exchange, open_exchange
from agent_token_exchange.cli import main


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def home(tmp_path: Path, clock: SimulatedClock) -> Path:
    """An initialised exchange home with the default (seed) config."""
    init_exchange(tmp_path, clock=clock)
    return tmp_path


@pytest.fixture
def exchange(home: Path, clock: SimulatedClock) -> Iterator[Exchange]:
    with open_exchange(home, clock=clock) as ex:
        yield ex


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]):
    """Run `token-exchange ARGS --home HOME` in-process through main()."""

    def run(*args: str, with_home: bool = True) -> CliResult:
        capsys.readouterr()
        argv = [*args, "--home", str(home)] if with_home else list(args)
        code = main(argv)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def set_config(home: Path, edit) -> None:
    """Rewrite the home's config.toml with ``edit(text) -> text``."""
    path = home / ".exchange" / "config.toml"
    path.write_text(edit(path.read_text()))


os.environ.pop("TOKEN_EXCHANGE_HOME", None)
