"""Creating, opening and importing an exchange: where its config and ledger live.

    init_exchange("/tmp/team")                 # config.toml + database + start balances
    with open_exchange("/tmp/team") as ex: ... # reads and writes; opening writes nothing

Opening never writes. Accounts the config names but the ledger lacks (an agent added to
config.toml) are created by ``Exchange.open_accounts`` (service/provision.py), which
``init_exchange``, ``import_exchange``, the CLI and the server call.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from contextlib import AbstractContextManager

from ..clock import Clock
from ..economy import config_cache
from ..economy.accounts import INFERENCE, MINT
from ..economy.config import Config, default_config_text, load_config
from ..economy.records import ImportSummary
from ..economy.validation import NAME_PATTERN, POOL_ID
from ..errors import InvalidInput
from ..ledger import open_store
from ..ledger.dump import LedgerImage, load_image
from .doctor import run_doctor
from .exchange import Exchange
from .governance_import import ACCOUNT_FORMS as STAKE_FORMS
from .governance_import import GOVERNANCE_ACCOUNT_KINDS, check_governance_image
from .home import ExchangePaths, paths_for
from .market_import import ACCOUNT_FORMS, MARKET_ACCOUNT_KINDS, check_market_image
from .operations import Core
from .writer import Writer


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
    with open_exchange(paths.home, clock=clock, create=True, database=url) as exchange:
        exchange.open_accounts()  # system accounts, start balances, contract budgets
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
    check_image_names(image)
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
        def load(now: int) -> str:
            empty, holding = store.is_empty()
            if not empty:
                raise InvalidInput(
                    f"the exchange at {paths.state} already holds {holding}; import needs "
                    "an empty exchange (pass --home with a new directory)")
            head = load_image(store, image)
            report = run_doctor(store, config)
            if not report.healthy:
                raise InvalidInput("the import does not hold together: "
                                   + report.errors[0].message + "; nothing was imported")
            return head

        exchange = Exchange(store, config, clock)
        head = Core(store, config, exchange.clock).write(load)  # one transaction
        exchange.open_accounts()  # what the config adds beyond the image
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


_NAME = re.compile(NAME_PATTERN)
# A hold account names its payer: hold:agent:NAME or hold:pool:pool-N.
_HOLD = re.compile(rf"^(agent:{NAME_PATTERN[1:-1]}|pool:{POOL_ID.pattern[1:-1]})$")
_ACCOUNT_KINDS = {"agent": _NAME, "pool": POOL_ID, "contract": _NAME, "hold": _HOLD,
                  **MARKET_ACCOUNT_KINDS, **GOVERNANCE_ACCOUNT_KINDS}


def check_image_names(image: LedgerImage) -> None:
    """Every name in an image is one the exchange itself could have written (the CLI's
    patterns), or InvalidInput naming the first that is not. Refusals and pools are
    outside the hash chain, so without this an import could plant any text (markup, a
    script) where the dashboard shows a name."""

    def check(value: str | None, pattern: re.Pattern[str], what: str, kind: str) -> None:
        if value is not None and not (isinstance(value, str) and pattern.match(value)):
            raise InvalidInput(f"{what}: {str(value)[:40]!r} is not a valid {kind}; "
                               "nothing was imported")

    agent, pool = "agent name (lowercase letters, digits, - and _)", "pool id (like pool-1)"
    for account in image.accounts:
        prefix, _, rest = account.name.partition(":")
        pattern = _ACCOUNT_KINDS.get(prefix)
        if account.name in (MINT, INFERENCE) and account.kind == "system":
            continue
        if pattern is None or prefix != account.kind or not pattern.match(rest):
            raise InvalidInput(
                f"account {account.name[:40]!r} (kind {account.kind[:20]!r}) is not a valid "
                "account name (agent:NAME, pool:pool-N, contract:NAME, hold:<one of those>, "
                f"{ACCOUNT_FORMS}, {STAKE_FORMS} of that kind, or a system account); nothing "
                "was imported")
    for t in image.transfers:
        check(t.pool_id, POOL_ID, f"transfer #{t.seq}: pool_id", pool)
    for p in image.pools:
        check(p.id, POOL_ID, "pool id", pool)
        check(p.creator, _NAME, f"pool {p.id}: creator", agent)
    for m in image.pool_members:
        check(m.pool_id, POOL_ID, "pool member: pool_id", pool)
        check(m.agent, _NAME, f"member of {m.pool_id}", agent)
    for i in image.pool_invites:
        check(i.pool_id, POOL_ID, "pool invite: pool_id", pool)
        check(i.agent, _NAME, f"invite to {i.pool_id}", agent)
    for c in image.pool_credits:
        check(c.agent, _NAME, f"pool credit of transfer #{c.seq}: agent", agent)
    for r in image.refusals:
        where = f"refusal #{r.seq}"
        check(r.agent, _NAME, f"{where}: agent", agent)
        check(r.pool_id, POOL_ID, f"{where}: pool_id", pool)
        check(r.operation, _NAME, f"{where}: operation", "operation (like pool_spend)")
        check(r.code, _NAME, f"{where}: code", "refusal code (like insufficient_funds)")
    check_market_image(image)
    check_governance_image(image)


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
    if config:  # and the validated copy loading it left beside it
        config_cache.cache_path(paths.config).unlink(missing_ok=True)
    if state:
        with contextlib.suppress(OSError):
            paths.state.rmdir()


def open_exchange(
    home: str | os.PathLike[str], *, clock: Clock | None = None, durable: bool = True,
    create: bool = False, database: str | None = None, wait_seconds: int | None = None,
) -> Exchange:
    """Open the exchange kept at ``<home>/.exchange``; its ledger is at ``database`` (a
    ``postgresql://`` URL), else ``$TOKEN_EXCHANGE_DATABASE_URL``, else the URL the home
    recorded at init, else ``<home>/.exchange/exchange.db``. Writes nothing: call
    ``open_accounts()`` on it to create agents the config added since. ``wait_seconds``
    bounds how long it waits for the ledger (see ``ledger.open_store``)."""
    paths = paths_for(home)
    url = _database_url(paths, database)
    config = load_config(paths.config)
    store = open_store(url or paths.database, durable=durable, create=create,
                       wait_seconds=wait_seconds)
    try:
        return Exchange(store, config, clock)
    except BaseException:
        store.close()
        raise


def scratch_exchange(path: str | os.PathLike[str], config: Config, clock: Clock | None = None
                     ) -> Exchange:
    """A new exchange in a throwaway SQLite file at ``path``, on ``config`` (no home, no
    crash safety): what the simulation runs on. Call ``open_accounts()`` to mint the start
    balances."""
    store = open_store(path, durable=False, create=True)
    try:
        return Exchange(store, config, clock)
    except BaseException:
        store.close()
        raise


def exchange_opener(
    home: str | os.PathLike[str], *, clock: Clock | None = None, database: str | None = None,
    write_lock: AbstractContextManager[object] | None = None, batched: bool = True,
) -> ExchangeOpener:
    """Something that opens one more ``Exchange`` over the home's ledger each time it is
    called (a server opens one per request in flight). The config is read once, now, so a
    config edited meanwhile cannot give two of them two economies; all share
    ``write_lock`` and, when ``batched``, one writer with its own connection (group
    commit, service/writer.py). The ledger is found as ``open_exchange`` finds it."""
    paths = paths_for(home)
    location = _database_url(paths, database) or paths.database
    config = load_config(paths.config)
    return ExchangeOpener(location, config, clock, write_lock, batched)


class ExchangeOpener:
    """Opens exchanges over one ledger that share one config, lock and writer."""

    def __init__(self, location: str | os.PathLike[str], config: Config, clock: Clock | None,
                 write_lock: AbstractContextManager[object] | None, batched: bool) -> None:
        self.location = location
        self.config = config
        self.clock = clock
        self.write_lock = write_lock
        self.writer: Writer | None = None
        self._batched = batched
        self._guard = threading.Lock()

    def __call__(self) -> Exchange:
        store = open_store(self.location)
        try:
            return Exchange(store, self.config, self.clock, write_lock=self.write_lock,
                            writer=self._writer())
        except BaseException:
            store.close()
            raise

    def _writer(self) -> Writer | None:
        if not self._batched:
            return None
        with self._guard:
            if self.writer is None:
                self.writer = Writer(open_store(self.location))
            return self.writer

    def close(self) -> None:
        """Stop the writer (after what is queued) and close its connection."""
        with self._guard:
            writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()


def _database_url(paths: ExchangePaths, explicit: str | None) -> str | None:
    return paths.checked_database_url(explicit)



__all__ = ["ExchangeOpener", "exchange_opener", "import_exchange", "init_exchange",
           "open_exchange", "scratch_exchange"]
