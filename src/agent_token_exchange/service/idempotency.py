"""How an operation's first outcome is kept under its idempotency key: a hash of the
request (to tell a replay from a different request) and a refusal as plain JSON (so a
replay raises the very refusal the first attempt met)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, TypeVar

from ..errors import Refused
from ..formats.json_codec import from_exact_json, to_exact_json
from ..money import display_amount

R = TypeVar("R")

# The keys of things with an outside identity: written by exchange.py, looked up by
# views.py, so each format lives here once. ``sha`` and ``patch_id`` are validated hex.


def commit_key(sha: str) -> str:
    """A commit pays once per SHA."""
    return f"commit:{sha.lower()}"


def commit_work_key(patch_id: str, agent: str) -> str:
    """The same change (patch id) by the same agent pays once, whatever its SHA."""
    return f"commit-work:{patch_id.lower()}:{agent}"


def issue_key(issue_id: str) -> str:
    """An issue pays once, however often it is closed."""
    return f"issue:{issue_id}"


def client_key(key: str) -> str:
    """A client's own idempotency key, kept apart from the outside identities above."""
    return f"client:{key}"


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def request_hash(operation: str, request: dict[str, Any]) -> str:
    canonical = _ENCODE({"op": operation, **request})
    return hashlib.sha256(canonical.encode()).hexdigest()


def result_record(result: Any) -> dict[str, Any]:
    """A first result as kept under its key: exact, so a replay returns it unchanged."""
    record: dict[str, Any] = to_exact_json(result)
    return record


def result_from_record(record_type: type[R], record: dict[str, Any]) -> R:
    """The first result a key's record holds, as the record the operation returns."""
    return from_exact_json(record_type, _before_stakes(record))


def _before_stakes(record: dict[str, Any]) -> dict[str, Any]:
    """A pool result kept before pools had stakes (schema 4): a credit's weight was then
    called ``contributed``, and a member showed no stake."""
    credits, members = record.get("credits"), record.get("members")
    if isinstance(credits, list) and credits and "stake" not in credits[0]:
        record = {**record, "credits": [{**c, "stake": c.get("contributed", 0)}
                                        for c in credits]}
    if isinstance(members, list) and members and "stake" not in members[0]:
        record = {**record, "members": [{**m, "stake": 0} for m in members]}
    return record


def refusal_record(exc: Refused) -> dict[str, Any]:
    """A refusal as stored under its key: its class name (kept for older readers), then
    the registry's ``to_dict``."""
    return {"class": type(exc).__name__, **exc.to_dict()}


def refusal_from_record(record: dict[str, Any]) -> Refused:
    """The refusal a first attempt met, rebuilt by its code from the error registry."""
    return Refused.from_dict(record)


def conflict_message(key: str, first: dict[str, Any]) -> str:
    """Plain words for a key reused with a different request: what the key already
    settled (``first``: its stored outcome) and that nothing changed."""
    kind, _, name = key.partition(":")
    if kind == "commit":
        if "agent" in first and "amount" in first:
            what = (f"already paid: {display_amount(int(first['amount']))} tokens to "
                    f"{first['agent']} for {str(first.get('description', ''))[:60]!r}"
                    + (f" in {first['project']}" if first.get("project") else ""))
        else:  # its first outcome was a refusal (a contract's budget ran out)
            what = f"already sent and refused ({first.get('message', 'refused')})"
        return (f"commit {name[:12]}… was {what}; this request names a different author, "
                "project or message, and a commit pays once: nothing changed")
    if kind == "issue":
        return f"issue {name} was already settled for a different request; nothing changed"
    if kind == "client":
        # The server scopes a client's key by its caller ("agent:claude/job-1"): show the
        # key as the client sent it.
        sent = re.sub(r"^(admin|agent:[^/]+)/", "", name)
        return (f"idempotency key {sent!r} was already used for a different request; "
                "nothing changed (a key applies one request once: send a new key for a "
                "new request)")
    return f"{key!r} was already used for a different request; nothing changed"
