"""``POST /v1/settle`` (an admin key), and the server's own settle every minute.

The background loop runs settle in a worker thread on an exchange lent like a request's,
so it goes through ``Core.operate`` and the process's writer like every write: several
``serve`` processes on one database may each run it, and each item is settled (and
reported) by exactly one of them. An error is logged and the loop goes on; shutdown
cancels it between runs (a run in progress finishes first)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request

from ..economy.settle_records import SettleReport
from ..formats.json_codec import to_json
from .auth import Caller, ExchangeDep, Exchanges, run_write
from .routing import WRITE_ERRORS
from .schemas import response_model

# How often the server settles by itself: at least every minute (DESIGN.md).
SETTLE_EVERY_SECONDS = 60.0

log = logging.getLogger("agent_token_exchange.settle")

SettleReportModel = response_model(SettleReport)


def settle_router() -> APIRouter:
    api = APIRouter()

    @api.post("/settle", response_model=SettleReportModel, responses=WRITE_ERRORS,
              tags=["admin"])
    async def settle(request: Request, caller: Caller, ex: ExchangeDep) -> dict[str, Any]:
        """Apply everything that has fallen due (admin): stale gateway reservations (and
        loans, futures, unbonding and proposals as they come). Idempotent; the server
        also runs it by itself every minute."""

        def run() -> dict[str, Any]:
            caller.require_admin()
            return to_json(ex.settle())

        return await run_write(request, run)

    return api


@asynccontextmanager
async def settling_in_background(exchanges: Exchanges,
                                 every: float | None = SETTLE_EVERY_SECONDS
                                 ) -> AsyncIterator[None]:
    """While the app runs, settle once at start and then every ``every`` seconds (None:
    never, for a server that leaves settle to cron)."""
    if every is None:
        yield
        return
    task = asyncio.create_task(_settle_every(exchanges, every), name="settle")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def _settle_every(exchanges: Exchanges, every: float) -> None:
    while True:
        try:
            report = await to_thread.run_sync(_settle_once, exchanges)
        except Exception:  # never the server's end: the next run tries again
            log.exception("settle failed; trying again in %s seconds", every)
        else:
            for item in report.items:
                log.info("settled %s %s: %s %s (%s)", item.area, item.id, item.outcome,
                         item.amount, item.detail)
        await asyncio.sleep(every)


def _settle_once(exchanges: Exchanges) -> SettleReport:
    with exchanges.lend() as ex:
        return ex.settle()


__all__ = ["SETTLE_EVERY_SECONDS", "settle_router", "settling_in_background"]
