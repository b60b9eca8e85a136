"""Where an exchange lives on disk: ``<home>/.exchange/{config.toml, exchange.db}``.

The home is ``--home``, else ``TOKEN_EXCHANGE_HOME``, else the nearest directory holding
``.exchange/`` walking up from the working directory (as git finds ``.git``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

STATE_DIR = ".exchange"
ENV_HOME = "TOKEN_EXCHANGE_HOME"


@dataclass(frozen=True)
class ExchangePaths:
    home: Path

    @property
    def state(self) -> Path:
        return self.home / STATE_DIR

    @property
    def config(self) -> Path:
        return self.state / "config.toml"

    @property
    def database(self) -> Path:
        return self.state / "exchange.db"

    def exists(self) -> bool:
        return self.config.exists() and self.database.exists()


def paths_for(home: str | os.PathLike[str]) -> ExchangePaths:
    """Paths for a home directory. A path that *is* a ``.exchange`` folder means its parent."""
    path = Path(home).expanduser()
    if path.name == STATE_DIR:
        path = path.parent
    return ExchangePaths(path.resolve())


def find_home(explicit: str | os.PathLike[str] | None, *, for_init: bool = False) -> ExchangePaths:
    """Resolve the exchange home, or raise InvalidInput saying how to make one."""
    if explicit is not None and str(explicit) != "":
        return paths_for(explicit)
    env = os.environ.get(ENV_HOME)
    if env:
        return paths_for(env)
    cwd = Path.cwd()
    if for_init:
        return paths_for(cwd)
    for directory in (cwd, *cwd.parents):
        if (directory / STATE_DIR).is_dir():
            return paths_for(directory)
    raise InvalidInput(
        "no exchange found here or above; run `token-exchange init` or pass --home DIR"
    )
