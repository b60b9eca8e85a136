"""Live events: every transfer and refusal as a server-sent event.

The stream polls the ledger for rows past the last ones it sent, so it sees writes made
by any process (the CLI, another server, a git hook), not just this server's. On
PostgreSQL every commit that wrote a transfer or a refusal also NOTIFYs a channel each
server process LISTENs to (``listen_for_events``), which wakes its streams at once. Each event's
id is ``<transfer seq>.<refusal seq>``; a client that reconnects with ``Last-Event-ID``
resumes exactly where it stopped.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from anyio import to_thread

from ..economy.records import LedgerTransfer, RefusalEvent
from ..errors import InvalidInput
from ..formats.json_codec import to_json
from ..service import access
from ..service.api_keys import Principal
from ..service.exchange import Exchange
from .auth import Exchanges

POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0
KEY_CHECK_SECONDS = 1.0  # a revoked key's open stream ends within about this long
BATCH = 500
MAX_SEQ = 2**62  # as the other ``after`` parameters: beyond what a ledger column holds


@dataclass
class Cursor:
    transfer_seq: int
    refusal_seq: int

    @property
    def event_id(self) -> str:
        return f"{self.transfer_seq}.{self.refusal_seq}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        try:
            transfer, refusal = (int(part) for part in text.split("."))
        except ValueError:
            raise InvalidInput(
                f"event id must look like 12.3 (transfer seq.refusal seq), got {text[:40]!r}"
            ) from None
        if transfer > MAX_SEQ or refusal > MAX_SEQ:
            raise InvalidInput(f"event id {text[:40]!r} is out of range (each seq is at most "
                               f"{MAX_SEQ})")
        return cls(max(0, transfer), max(0, refusal))


def latest_cursor(ex: Exchange) -> Cursor:
    """Past the newest transfer and the newest refusal: a stream from now on."""
    newest_transfer = ex.recent_transfers(1)
    newest_refusal = ex.refusals(limit=1)
    return Cursor(newest_transfer[-1].seq if newest_transfer else 0,
                  newest_refusal[0].seq if newest_refusal else 0)


def _poll(exchanges: Exchanges, caller: Principal,
          cursor: Cursor) -> tuple[list[LedgerTransfer], list[RefusalEvent]]:
    """The next events after ``cursor`` the caller may see: every one for an admin, those
    touching its own wallet for an agent (chosen by the query, before the batch limit)."""
    agent = access.reader(caller)
    with exchanges.lend() as ex:
        return (ex.transfers_since(cursor.transfer_seq, BATCH, agent=agent),
                ex.refusals_since(cursor.refusal_seq, BATCH, agent=agent))


def _key_still_valid(exchanges: Exchanges, caller: Principal) -> bool:
    with exchanges.lend() as ex:
        return ex.keys.active(caller.key_id)


def _frame(event: str, cursor: Cursor, payload: dict[str, object]) -> str:
    return f"id: {cursor.event_id}\nevent: {event}\ndata: {json.dumps(payload)}\n\n"


async def event_stream(
    exchanges: Exchanges, caller: Principal, cursor: Cursor, *, max_events: int | None = None
) -> AsyncIterator[str]:
    """Server-sent events (``transfer`` and ``refusal``) after ``cursor``, in order."""
    sent = 0
    quiet = 0.0
    checked = time.monotonic()
    yield f"retry: 1000\nid: {cursor.event_id}\n: connected\n\n"
    while max_events is None or sent < max_events:
        if time.monotonic() - checked >= KEY_CHECK_SECONDS:
            # Keys are looked up on every request; a stream is one long request, so its
            # key is looked up again as it runs, and a revoked key's stream ends.
            if not await to_thread.run_sync(_key_still_valid, exchanges, caller):
                yield ": the key was revoked\n\n"
                return
            checked = time.monotonic()
        transfers, refusals = await to_thread.run_sync(_poll, exchanges, caller, cursor)
        # Each list stays in seq order, because an event's id says "every transfer and
        # refusal up to these seqs": sorting by time would emit a later seq first when the
        # clock stepped back (or PostgreSQL commits out of time order), and a client
        # resuming from that id would never see the earlier one. The merge only picks
        # which list goes next, by time.
        items = list(heapq.merge(transfers, refusals, key=lambda item: item.at))
        for item in items:
            if isinstance(item, LedgerTransfer):
                cursor.transfer_seq = item.seq
                name = "transfer"
            else:
                cursor.refusal_seq = item.seq
                name = "refusal"
            yield _frame(name, cursor, to_json(item))
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        if items:
            quiet = 0.0
            continue
        waited = time.monotonic()
        await exchanges.wakeups.wait(POLL_SECONDS)  # a NOTIFY, or the poll's time
        quiet += time.monotonic() - waited
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": keepalive\n\n"
