"""Paying git commits: the one a post-commit hook just made (a repository's history is
``backfill.py``'s).

Both go through ``Exchange.commit`` with the SHA, the patch id and (for an amend) the
commit it replaces, so the same work is paid once whichever way it arrives.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..economy import rules
from ..errors import Busy, IntegrityError, InvalidInput
from ..money import display_amount, micro
from .git import CommitInfo, HeadReading

if TYPE_CHECKING:
    from ..economy.records import Payment
    from ..service.exchange import Exchange
    from ..service.home import ExchangePaths

# How long the post-commit hook waits for the ledger (a busy SQLite writer, a PostgreSQL
# server that does not answer) before it gives up: a commit must not hang on payment.
HOOK_WAIT_SECONDS = 2
UNPAID_LATER = ("the next commit's hook or `token-exchange git backfill` pays it")


def commit_agent(ex: Exchange, commit: CommitInfo) -> str | None:
    return (rules.agent_for_email(ex.config, commit.author_email)
            if commit.author_email else None)


def skip_reason(ex: Exchange, commit: CommitInfo) -> str | None:
    """Why this commit earns nothing by rule (a merge, an empty commit, an unknown
    author), or None when it goes to the exchange to be paid."""
    return rules.unpaid_commit_reason(
        ex.config, is_merge=commit.is_merge, empty=commit.empty,
        agent=commit_agent(ex, commit), author_email=commit.author_email)


def pay_head(ex: Exchange,
             head: HeadReading) -> tuple[CommitInfo, Payment | None, str | None]:
    """What the post-commit hook does: pay HEAD as git read it. Returns the commit, the
    payment, and, when it earns nothing by rule, why (the payment is then None)."""
    _, commit, project = head.result()
    reason = skip_reason(ex, commit)
    if reason is not None:
        return commit, None, reason
    paid = ex.commit(commit.author_email, project, commit.message, commit.sha,
                     patch_id=commit.patch_id, replaces=commit.replaces)
    return commit, paid, None


def post_commit_hook(home: Path | str | None, repo: Path | str | None,
                     project: str | None) -> tuple[bool, str, dict[str, object]]:
    """The post-commit hook's whole job. Never raises: a commit must not break because
    paying for it did. Returns (paid-or-settled, one line to print, JSON payload). Waits
    at most ``HOOK_WAIT_SECONDS`` for the ledger; an unpaid commit is paid later."""
    try:
        # git reads HEAD while the exchange is loaded and opened.
        head = HeadReading(Path(repo or Path.cwd()), project)
        from ..formats.json_codec import to_json
        from ..service.home import find_home

        paths = find_home(home)
        if not paths.exists():
            raise InvalidInput(f"no exchange at {paths.state}")
        with _open_for_hook(paths) as ex:
            ex.open_accounts()  # an agent added to the config since: its start balance
            commit, paid, reason = pay_head(ex, head)
            if paid is None:
                line = f"token-exchange: {commit.sha[:12]} not paid: {reason}"
                return False, line, {"sha": commit.sha, "paid": None, "reason": reason}
        if paid.replayed:
            line = (f"token-exchange: {commit.sha[:12]} was already paid ({paid.agent} earned "
                    f"{display_amount(micro(paid.amount))} tokens then); nothing paid again")
        elif paid.amount == 0:
            line = f"token-exchange: {commit.sha[:12]} earns nothing more: {paid.note}"
        else:
            earned = display_amount(micro(paid.amount))
            line = (f"token-exchange: {paid.agent} earned {earned} tokens "
                    f"for {commit.sha[:12]} ({paid.project})")
        return True, line, {"sha": commit.sha, "paid": to_json(paid)}
    except Busy:
        return _not_paid_now(Busy(f"the ledger stayed busy with another writer for "
                                  f"{HOOK_WAIT_SECONDS} s; {UNPAID_LATER}"))
    except Exception as exc:  # noqa: BLE001 - the hook must never break a commit
        return _not_paid_now(exc)


def _not_paid_now(exc: BaseException) -> tuple[bool, str, dict[str, object]]:
    from .githooks import hook_problem

    line, error = hook_problem(exc, "commit")
    return False, line, {"error": error}


def _open_for_hook(paths: ExchangePaths) -> Exchange:
    """The home's exchange, opened to wait at most ``HOOK_WAIT_SECONDS`` for the ledger:
    PostgreSQL's connect timeout, SQLite's busy timeout (the CLI and the server keep their
    longer waits). The config comes from its validated cache, so the hook starts without
    pydantic."""
    from ..service.hook_open import open_for_hook

    try:
        return open_for_hook(paths, HOOK_WAIT_SECONDS)
    except IntegrityError as exc:
        raise IntegrityError(f"{exc.message}; {UNPAID_LATER}") from None
