"""Creating, opening and importing an exchange: where its config and ledger live.

    init_exchange("/tmp/team")                 # config.toml + database + start balances
    with open_exchange("/tmp/team") as ex: ...
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from contextlib import AbstractContextManager

from ..clock import Clock
from ..economy.config import default_config_text, load_config
from ..economy.records import ImportSummary
from ..errors import InvalidInput
from ..ledger import is_postgres_url, open_store
from ..ledger.dump import LedgerImage, ledger_is_empty, load_image
from .doctor import run_doctor
from .exchange import Exchange
from .home import ExchangePaths, paths_for


def init_exchange(
    home: str | os.PathLike[str], *, clock: Clock | None = None, database: str | None = None,
) -> ExchangePaths:
    """Create ``<home>/.exchange`` with the commented default config and the database
    (SQLite in the home, or the PostgreSQL ``database`` URL, which the home then records).
    Leaves an existing config untouched."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    if url is not None and paths.database.exists():
        raise InvalidInput(
            f"{paths.home} keeps its ledger in {paths.database}; an exchange does not move "
            "to PostgreSQL by init (export it and import it into a new PostgreSQL home)"
        )
    _make_state_dir(paths)
    if not paths.config.exists():
        # Written aside and linked in: a concurrent init never reads a half-written config.
        draft = paths.state / f".config.toml.{os.getpid()}"
        draft.write_text(default_config_text(), "utf-8")
        try:
            os.link(draft, paths.config)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    open_exchange(paths.home, clock=clock, create=True, database=url).close()
    if url is not None:
        paths.record_database_url(url)
    return paths


def import_exchange(
    home: str | os.PathLike[str], image: LedgerImage, *, clock: Clock | None = None,
    database: str | None = None,
) -> ImportSummary:
    """Load a ledger image (an export, or a migrated Scheme exchange) into an exchange
    that holds nothing yet, keeping every seq number and time, in one transaction.

    The home gets the default config unless it has one. The image must hold together
    (hashes chain, stated balances equal what its transfers give, doctor finds no error);
    otherwise nothing is written and the files this call created are removed. With a
    PostgreSQL ``database`` URL (or one the home names), the ledger goes there."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    created_dir = not paths.state.exists()
    created_config = not paths.config.exists()
    created_db = url is None and not paths.database.exists()
    _make_state_dir(paths)
    if created_config:
        paths.config.write_text(default_config_text(), "utf-8")
    try:
        config = load_config(paths.config)
        store = open_store(url or paths.database, create=True)
    except BaseException:
        _remove_created(paths, created_dir, created_config, created_db)
        raise
    try:
        with store.transaction():
            empty, holding = ledger_is_empty(store)
            if not empty:
                raise InvalidInput(
                    f"the exchange at {paths.state} already holds {holding}; import needs "
                    "an empty exchange (pass --home with a new directory)")
            head = load_image(store, image)
            report = run_doctor(store, config)
            if not report.healthy:
                raise InvalidInput("the import does not hold together: "
                                   + report.errors[0].message + "; nothing was imported")
        exchange = Exchange(store, config, clock)  # opens accounts config adds beyond it
    except BaseException:
        store.close()
        if created_db:
            _remove_created(paths, created_dir, created_config, created_db)
        raise
    if url is not None:
        paths.record_database_url(url)
    with exchange:
        wallets = {a.name.removeprefix("agent:") for a in image.accounts if a.kind == "agent"}
        return ImportSummary(
            str(paths.home), len(image.transfers), len(image.accounts), len(image.pools),
            len(image.refusals), len(image.idempotency), head,
            tuple(sorted(wallets - set(config.agents))))


def _make_state_dir(paths: ExchangePaths) -> None:
    try:
        paths.state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create {paths.state}: {exc.strerror or exc}") from None


def _remove_created(paths: ExchangePaths, state: bool, config: bool, database: bool) -> None:
    for made, path in ((database, paths.database), (config, paths.config)):
        if made:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
    if state:
        with contextlib.suppress(OSError):
            paths.state.rmdir()


def open_exchange(
    home: str | os.PathLike[str], *, clock: Clock | None = None, durable: bool = True,
    create: bool = False, database: str | None = None,
) -> Exchange:
    """Open the exchange kept at ``<home>/.exchange``; its ledger is at ``database`` (a
    ``postgresql://`` URL), else ``$TOKEN_EXCHANGE_DATABASE_URL``, else the URL the home
    recorded at init, else ``<home>/.exchange/exchange.db``."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    config = load_config(paths.config)
    store = open_store(url or paths.database, durable=durable, create=create)
    try:
        return Exchange(store, config, clock)
    except BaseException:
        store.close()
        raise


def exchange_opener(
    home: str | os.PathLike[str], *, clock: Clock | None = None, database: str | None = None,
    write_lock: AbstractContextManager[object] | None = None,
) -> Callable[[], Exchange]:
    """A function that opens one more ``Exchange`` over the home's ledger each time it is
    called (a server opens one per request in flight). The config is read once, now, so a
    config edited meanwhile cannot give two of them two economies; all share
    ``write_lock``. The ledger is found as ``open_exchange`` finds it."""
    paths = paths_for(home)
    location = _database_url(paths, database) or paths.database
    config = load_config(paths.config)

    def open_one() -> Exchange:
        store = open_store(location)
        try:
            return Exchange(store, config, clock, write_lock=write_lock)
        except BaseException:
            store.close()
            raise

    return open_one


def _database_url(paths: ExchangePaths, explicit: str | None) -> str | None:
    url = paths.database_url(explicit)
    if url is not None and not is_postgres_url(url):
        raise InvalidInput(
            f"database must be a postgresql:// URL, got {url[:80]!r} "
            "(leave it out to use SQLite in the exchange home)"
        )
    return url



__all__ = ["exchange_opener", "import_exchange", "init_exchange", "open_exchange"]
