"""Every shell and Python block of the README runs as pasted, in order, in one shell
session (as a new user pastes them into one terminal) against a fresh home.

An HTML comment right above a block tells this test about it:

- ``<!-- test: skip: REASON -->``: not run, and the reason says why (no block is left out
  silently: an unmarked shell or Python block always runs);
- ``<!-- test: server … -->``: the block starts ``token-exchange serve`` itself; it is
  given a free port in place of 8787, and anything it left running is stopped;
- ``<!-- test: file NAME -->``: a block of another language (a scenario's TOML) that
  later blocks read as NAME; it is written there before the session starts.

The session starts where a user who ran ``make demo`` stands: in a directory holding
``.venv`` (here, the virtualenv running the tests), with ``token-exchange`` not yet on
``PATH``, no ``TOKEN_EXCHANGE_*`` variables, and an empty ``HOME``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
RUN = {"sh": "shell", "bash": "shell", "shell": "shell", "console": "shell",
       "python": "python"}
BLOCK_SECONDS = 240  # one block at most (the simulate block runs a sweep and 20 seeds)
FENCE = re.compile(r"^```([\w+-]*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
MARK = re.compile(r"<!-- test: (.*?) -->\s*$")


@dataclass(frozen=True)
class Block:
    line: int  # where the block starts in README.md, for messages
    language: str
    text: str
    mark: str  # the test comment's text above it, or ""

    @property
    def kind(self) -> str | None:
        return RUN.get(self.language)

    def name(self) -> str:
        return f"README.md:{self.line} ({self.language or 'plain'})"


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        mark = MARK.search(before)
        blocks.append(Block(text.count("\n", 0, match.start()) + 1, match.group(1),
                            match.group(2), mark.group(1).strip() if mark else ""))
    return blocks


def test_every_block_that_is_not_run_says_why():
    """A shell or Python block is run unless it is marked skip with a reason, and every mark
    is one this test knows."""
    blocks = readme_blocks()
    assert sum(b.kind is not None for b in blocks) >= 8, "the README's blocks were not found"
    for block in blocks:
        if block.mark.startswith("skip"):
            reason = block.mark.removeprefix("skip").lstrip(":").strip()
            assert len(reason) > 15, f"{block.name()}: a skipped block must say why"
        elif block.mark:
            assert block.mark.split()[0] in {"server", "file"}, f"{block.name()}: {block.mark}"
            if block.mark.startswith("file"):
                assert block.kind is None and len(block.mark.split()) == 2, block.name()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _session_env(home: Path) -> dict[str, str]:
    """The environment of a fresh terminal: the tests' own (PYTHONPATH included, so a
    source tree is what runs), less the exchange's variables and the virtualenv."""
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOKEN_EXCHANGE_") and k not in {"VIRTUAL_ENV", "NO_COLOR"}}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and os.path.realpath(p) != os.path.realpath(venv_bin))
    env["HOME"] = str(home)
    return env


def test_the_readme_runs_as_pasted(tmp_path):
    """Every unskipped shell and Python block of the README succeeds, in order, in one shell
    session started in a fresh directory beside .venv (a block that starts a server gets
    a free port), and the blocks say what they promise."""
    venv = Path(sys.prefix)
    assert (venv / "bin" / "activate").exists(), \
        f"the README assumes a virtualenv (.venv); {venv} has no bin/activate"
    assert shutil.which("curl"), "the README's HTTP example needs curl on PATH"
    work, home, logs = tmp_path / "work", tmp_path / "home", tmp_path / "logs"
    for folder in (work, home, logs):
        folder.mkdir()
    (work / ".venv").symlink_to(venv)
    blocks = readme_blocks()
    for block in blocks:
        if block.mark.startswith("file"):
            (work / block.mark.split()[1]).write_text(block.text, encoding="utf-8")
    shell = subprocess.Popen(["bash", "--noprofile", "--norc"], stdin=subprocess.PIPE,
                             text=True, cwd=work, env=_session_env(home),
                             start_new_session=True)
    assert shell.stdin is not None
    ran: list[Block] = []
    try:
        for number, block in enumerate(blocks):
            if block.kind is None or block.mark.startswith("skip"):
                continue
            text = block.text
            if block.mark.startswith("server"):
                text = text.replace("8787", str(_free_port()))
            out, err, done = (logs / f"{number}.{name}" for name in ("out", "err", "done"))
            if block.kind == "python":
                script = logs / f"{number}.py"
                script.write_text(text, encoding="utf-8")
                text = f'"{sys.executable}" "{script}"'
            # -e: a failing command ends the session, so the block's `done` never appears.
            shell.stdin.write(f"set -eo pipefail\n{{\n{text}\n}} > '{out}' 2> '{err}' "
                              f"< /dev/null\ntouch '{done}'\n")
            shell.stdin.flush()
            deadline = time.monotonic() + BLOCK_SECONDS
            while not done.exists():
                failed = shell.poll() is not None or time.monotonic() > deadline
                if failed:
                    pytest.fail(f"{block.name()} failed:\n{block.text}\n--- stdout:\n"
                                f"{out.read_text() if out.exists() else ''}\n--- stderr:\n"
                                f"{err.read_text() if err.exists() else ''}", pytrace=False)
                time.sleep(0.05)
            ran.append(block)
    finally:
        shell.stdin.close()
        with contextlib.suppress(ProcessLookupError):  # the shell, and what a block left
            os.killpg(shell.pid, signal.SIGTERM)
        shell.wait(timeout=30)
    outputs = {block.line: (logs / f"{blocks.index(block)}.out").read_text() for block in ran}
    said = "\n".join(outputs.values())
    # What the blocks promise in their comments, checked on what they printed.
    assert "🔁 Already paid for commit 0123456789ab" in said
    assert "so its primary model llama3.2 was used" in said
    assert re.search(r"^token-exchange \d", said, re.MULTILINE)  # --version
    assert re.search(r'"replayed": ?false', said)  # the HTTP answer to a first request
    assert "9999.500000" in said  # the Python block's balance
    assert (work / "sim-report" / "report.html").exists()
    assert (work / "sweep" / "sweep.png").exists()
    assert not (home / ".exchange").exists()  # the blocks used ./.exchange and ~/team only
