"""Reading a file a user names: a regular file of UTF-8 text, of bounded size, or one
clear error line (never a traceback, never a read that does not end)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ExchangeError, InvalidInput


def read_text_file(path: Path, limit: int, what: str, *,
                   error: type[ExchangeError] = InvalidInput, hint: str = "") -> str:
    """A regular file's UTF-8 text, of at most ``limit`` bytes, or one ``error`` line
    naming the file (a missing file's line ends with ``hint``, when given).

    Opened without blocking and checked before anything is read, so a FIFO, a device
    (``/dev/zero``) or a symlink to one is refused rather than read for ever; and never
    more than ``limit`` bytes are read, even from a file that grows meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(f"{path}: no such file" + (f"; {hint}" if hint else "")) from None
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a directory, not {what}")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: not a regular file (a pipe or a device), so not {what}")
        if info.st_size > limit:
            raise error(f"{path}: too large to be {what} (over {limit} bytes)")
        data = bytearray()
        while len(data) <= limit:
            piece = os.read(fd, min(1 << 24, limit + 1 - len(data)))
            if not piece:
                break
            data += piece
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{path}: too large to be {what} (over {limit} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text, so not {what}") from None


__all__ = ["read_text_file"]
