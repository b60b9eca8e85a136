"""Where an exchange lives on disk: ``<home>/.exchange/{config.toml, exchange.db}``.

The home is ``--home``, else ``TOKEN_EXCHANGE_HOME``, else the nearest directory holding
``.exchange/`` walking up from the working directory (as git finds ``.git``).

The ledger is ``exchange.db`` there unless a PostgreSQL URL is chosen: ``--database``,
else ``TOKEN_EXCHANGE_DATABASE_URL``, else the URL ``init`` recorded in
``.exchange/database.url``. The config always stays in the home.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput
from ..ledger.urls import is_postgres_url

STATE_DIR = ".exchange"
ENV_HOME = "TOKEN_EXCHANGE_HOME"
ENV_DATABASE = "TOKEN_EXCHANGE_DATABASE_URL"


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

    @property
    def database_url_file(self) -> Path:
        return self.state / "database.url"

    def exists(self) -> bool:
        return self.config.exists() and (
            self.database.exists() or self.database_url_file.exists()
        )

    def database_url(self, explicit: str | None = None) -> str | None:
        """The PostgreSQL URL this home's ledger lives at, or None for SQLite."""
        if explicit:
            return explicit
        if os.environ.get(ENV_DATABASE):
            return os.environ[ENV_DATABASE]
        if self.database_url_file.exists():
            return self.database_url_file.read_text("utf-8").strip() or None
        return None

    def checked_database_url(self, explicit: str | None = None) -> str | None:
        """``database_url``, or InvalidInput when what names it is no PostgreSQL URL."""
        url = self.database_url(explicit)
        if url is not None and not is_postgres_url(url):
            raise InvalidInput(
                f"database must be a postgresql:// URL, got {url[:80]!r} "
                "(leave it out to use SQLite in the exchange home)"
            )
        return url

    def record_database_url(self, url: str) -> None:
        """Remember the URL, so later commands in this home need no --database."""
        fd = os.open(self.database_url_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # 0600: it may hold a password
            file.write(url + "\n")


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
