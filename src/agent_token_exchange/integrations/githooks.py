"""Hook files we share with others: a marked block of our own inside a shell hook.

We never overwrite a hook we do not own. Installing adds (or refreshes) one block right
after the shebang, so it runs even when the rest of the hook ends with ``exit``; the block
never fails (``|| true``) and reads nothing from stdin. Uninstalling removes exactly that
block, and the file too when nothing else is left in it.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput

BEGIN = "# >>> token-exchange {name} >>>"
END = "# <<< token-exchange {name} <<<"
NOTE = "# Managed by token-exchange: `token-exchange hooks uninstall` removes this block."
SHELLS = ("sh", "bash", "dash", "zsh", "ksh", "ash")
DEFAULT_SHEBANG = "#!/bin/sh"
# What follows our command on its line in the block, for reading the command back.
PLAIN_TAIL = " </dev/null || true"
STDIN_TAIL = ' "$@" < "$_token_exchange_in" || true'


@dataclass(frozen=True)
class HookStatus:
    """What is installed in one hook file."""

    hook: str
    path: str
    exists: bool
    installed: bool
    shared: bool  # the file holds other commands besides our block
    command: str | None
    home: str | None
    project: str | None


def exchange_command() -> list[str]:
    """How a hook reaches this installation even without the venv on PATH: the Python
    running us now, importing the package it has installed."""
    return [sys.executable, "-m", "agent_token_exchange"]


def hook_problem(exc: BaseException, what: str) -> tuple[str, dict[str, str]]:
    """What a hook that must never fail its caller says about ``exc``: one line for
    stderr (``token-exchange: WHAT not paid: …``, the message's first line) and the JSON
    error (the error's own code, else hook_error)."""
    message = str(getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}").strip()
    first = message.splitlines()[0] if message else "failed"
    code = getattr(exc, "code", None)
    error = {"code": code if isinstance(code, str) else "hook_error", "message": first}
    return f"token-exchange: {what} not paid: {first}", error


def block_text(name: str, command: list[str], *, pass_stdin: bool = False) -> str:
    """Our block. With ``pass_stdin`` the hook's stdin is saved first, given to our
    command, then handed back, so the rest of a shared hook still reads it."""
    line = " ".join(shlex.quote(part) for part in command)
    if pass_stdin:
        # Without a temporary file the block steps aside: an `exec < ""` would end the
        # whole hook (exec is a special builtin) and skip the rest of a shared one.
        body = ["if _token_exchange_in=$(mktemp); then",
                '  cat > "$_token_exchange_in" || true',
                f"  {line}{STDIN_TAIL}",
                '  exec < "$_token_exchange_in"; rm -f "$_token_exchange_in"',
                "fi"]
    else:
        body = [f"{line}{PLAIN_TAIL}"]
    return "\n".join([BEGIN.format(name=name), NOTE, *body, END.format(name=name)]) + "\n"


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"^{re.escape(BEGIN.format(name=name))}\n.*?^{re.escape(END.format(name=name))}\n?",
        re.MULTILINE | re.DOTALL,
    )


def install_block(path: Path, name: str, command: list[str], *, pass_stdin: bool = False) -> str:
    """Add or refresh our block in the hook at ``path``; returns created|added|updated|
    unchanged."""
    block = block_text(name, command, pass_stdin=pass_stdin)
    manual = _command_line(block)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, f"{DEFAULT_SHEBANG}\n{block}", executable=True)
        return "created"
    text = _read(path)
    pattern = _block_pattern(name)
    if pattern.search(text):
        updated = pattern.sub(lambda _: block, text, count=1)
        if updated == text:
            _make_executable(path)
            return "unchanged"
        _write(path, updated, executable=True)
        return "updated"
    first, _, rest = text.partition("\n")
    if not first.startswith("#!"):
        raise InvalidInput(
            f"{path} has no #! line, so it is not a shell hook we can add to safely; "
            f"add this line to it yourself: {manual}"
        )
    interpreter = first[2:].strip().split()
    program = Path(interpreter[0]).name if interpreter else ""
    if program == "env" and len(interpreter) > 1:
        program = interpreter[1]
    if program not in SHELLS:
        raise InvalidInput(
            f"{path} is a {program or 'non-shell'} script; we only add to shell hooks. "
            f"Call this from it instead: {manual}"
        )
    if not os.access(path, os.X_OK):
        raise InvalidInput(
            f"{path} exists but is not executable, so git skips it; make it executable "
            "(chmod +x) or remove it, then install again"
        )
    _write(path, f"{first}\n{block}{rest}", executable=True)
    return "added"


def uninstall_block(path: Path, name: str) -> str:
    """Remove our block; returns removed|deleted (file was only ours)|absent."""
    if not path.exists():
        return "absent"
    text = _read(path)
    pattern = _block_pattern(name)
    if not pattern.search(text):
        return "absent"
    left = pattern.sub("", text, count=1)
    if not left.strip() or left.strip() == DEFAULT_SHEBANG:
        path.unlink()
        return "deleted"
    _write(path, left, executable=os.access(path, os.X_OK))
    return "removed"


def read_status(path: Path, hook: str, name: str) -> HookStatus:
    if not path.exists():
        return HookStatus(hook, str(path), False, False, False, None, None, None)
    text = _read(path)
    found = _block_pattern(name).search(text)
    if not found:
        return HookStatus(hook, str(path), True, False, True, None, None, None)
    rest = _block_pattern(name).sub("", text, count=1).strip()
    shared = bool(rest) and rest != DEFAULT_SHEBANG
    command_line = _command_line(found.group(0))
    try:
        words = shlex.split(command_line)
    except ValueError as exc:
        raise InvalidInput(f"cannot read the command in {path}'s token-exchange block ({exc}); "
                           "run `token-exchange hooks install` again to rewrite it") from None
    return HookStatus(hook, str(path), True, True, shared, command_line,
                      _option(words, "--home"), _option(words, "--project"))


def _command_line(block: str) -> str:
    line = next(line for line in block.splitlines() if "agent_token_exchange" in line)
    # Only the exact tails we write: a quoted home path may itself hold " <".
    return line.strip().removesuffix(PLAIN_TAIL).removesuffix(STDIN_TAIL)


def _option(words: list[str], flag: str) -> str | None:
    if flag in words and words.index(flag) + 1 < len(words):
        return words[words.index(flag) + 1]
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a text file; leaving it alone") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None


def _write(path: Path, text: str, *, executable: bool) -> None:
    # Write beside and rename, so a commit running right now never sees half a hook.
    temporary = path.with_name(f".{path.name}.token-exchange-tmp")
    try:
        temporary.write_text(text, "utf-8")
        mode = path.stat().st_mode if path.exists() else 0o644
        if executable:
            mode |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        temporary.chmod(stat.S_IMODE(mode))
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None


def _make_executable(path: Path) -> None:
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        path.chmod(stat.S_IMODE(mode) | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
