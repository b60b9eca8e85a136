"""The command line loads only the command it runs: each part of it adds the commands
``PARTS`` names, a command built alone behaves as in the whole command line, and
``simulate`` never imports the other commands, the HTTP client or the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import agent_token_exchange
from agent_token_exchange.cli import PARTS, app, build_app, command_named

SRC = str(Path(agent_token_exchange.__file__).resolve().parents[1])
NAMES = [name for _, _, names in PARTS for name in names]


def test_the_whole_command_line_is_the_parts():
    """The whole command line has exactly the commands PARTS names, each once."""
    assert sorted(typer.main.get_command(app).commands) == sorted(NAMES)
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("part", PARTS, ids=[f"{p[0]}.{p[1]}" for p in PARTS])
def test_each_part_adds_the_commands_it_is_listed_with(part):
    """A part built alone adds the very names PARTS gives it, so a command is found in it."""
    assert sorted(typer.main.get_command(build_app((part,))).commands) == sorted(part[2])


@pytest.mark.parametrize("name", NAMES)
def test_a_command_built_alone_has_the_same_help(name):
    """`token-exchange NAME --help` reads the same from the command's part as from the whole
    command line."""
    runner = CliRunner()
    alone = build_app(tuple(p for p in PARTS if name in p[2]))
    whole = runner.invoke(app, [name, "--help"], prog_name="token-exchange")
    lazy = runner.invoke(alone, [name, "--help"], prog_name="token-exchange")
    assert (lazy.exit_code, lazy.output) == (whole.exit_code, whole.output)


@pytest.mark.parametrize(("args", "expected"), [
    (["simulate", "--seed", "1"], "simulate"),
    (["--home", "simulate", "status"], "status"),  # "simulate" is --home's value here
    (["--json", "--server=http://x", "--api-key", "k", "pool", "list"], "pool"),
    (["--help", "simulate"], None),
    (["--version"], None),
    (["--bogus", "status"], None),
    (["no-such-command"], None),
    ([], None),
])
def test_the_command_is_read_past_the_roots_own_options(args, expected):
    """The command named is the first word that is neither a root option nor its value;
    root help, --version, an unknown option or command, or none, ask for the whole line."""
    assert command_named(args) == expected


def test_simulate_loads_no_other_command_nor_the_http_stack():
    """A run of `simulate` imports no other command module, nor httpx, fastapi or uvicorn."""
    code = ("import sys, json; from agent_token_exchange.cli import main; "
            "main(['simulate', '--hours', '2', '--json']); "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith("
            "('agent_token_exchange.cli.', 'httpx', 'fastapi', 'uvicorn')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"})
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert loaded == ["agent_token_exchange.cli.help", "agent_token_exchange.cli.options",
                      "agent_token_exchange.cli.output", "agent_token_exchange.cli.simulate"]
