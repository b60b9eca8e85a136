"""The ledger's schema, as numbered migrations applied in order.

The schema version is the number of the last migration applied. A new release appends
a migration; it never edits one that has shipped.

Statements are written once for every backend, with two placeholders a dialect fills:
``{id}`` for an auto-numbered primary key and ``{bigint}`` for a 64-bit integer.
What cannot be shared (triggers) goes in the per-dialect lists. A migration that must
compute data in Python (hashes) names a ``backfill`` the runner calls with the store,
inside the migration's transaction, after its statements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .chain import GENESIS, fill_missing_hashes


@dataclass(frozen=True)
class Migration:
    number: int
    title: str
    statements: list[str]
    sqlite: list[str] = field(default_factory=list)
    postgresql: list[str] = field(default_factory=list)
    backfill: Callable[[Any], object] | None = None


DIALECTS = {
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "bigint": "INTEGER"},
    "postgresql": {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "bigint": "BIGINT"},
}


def statements_for(migration: Migration, dialect: str) -> list[str]:
    """The migration's SQL for one dialect, placeholders filled."""
    words = DIALECTS[dialect]
    shared = [statement.format(**words) for statement in migration.statements]
    return shared + list(getattr(migration, dialect))


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "accounts, transfers, consumption windows, refusals, idempotency, pools",
        [
            """
            CREATE TABLE accounts (
                name        TEXT PRIMARY KEY,
                kind        TEXT NOT NULL,
                balance     {bigint} NOT NULL DEFAULT 0,
                earned      {bigint} NOT NULL DEFAULT 0,
                spent       {bigint} NOT NULL DEFAULT 0,
                created_at  {bigint} NOT NULL
            )
            """,
            # Immutable double-entry transfers. seq is strictly increasing.
            """
            CREATE TABLE transfers (
                seq              {id},
                at               {bigint} NOT NULL,
                kind             TEXT NOT NULL,
                source           TEXT NOT NULL REFERENCES accounts(name),
                destination      TEXT NOT NULL REFERENCES accounts(name),
                amount           {bigint} NOT NULL CHECK (amount > 0),
                description      TEXT NOT NULL DEFAULT '',
                project          TEXT,
                model            TEXT,
                inference_tokens {bigint},
                pool_id          TEXT,
                idempotency_key  TEXT,
                CHECK (source <> destination)
            )
            """,
            "CREATE INDEX transfers_by_source ON transfers (source, seq)",
            "CREATE INDEX transfers_by_destination ON transfers (destination, seq)",
            # Each inference spend with the agent's cumulative consumption after it: a
            # rolling window's usage is cum(latest) - cum(last row at or before the
            # window's start), one indexed lookup whatever the history's size.
            """
            CREATE TABLE consumption (
                agent         TEXT NOT NULL,
                at            {bigint} NOT NULL,
                cumulative    {bigint} NOT NULL,
                amount        {bigint} NOT NULL CHECK (amount > 0),
                transfer_seq  {bigint} NOT NULL UNIQUE REFERENCES transfers(seq),
                PRIMARY KEY (agent, cumulative)
            )
            """,
            "CREATE INDEX consumption_by_time ON consumption (agent, at, cumulative)",
            """
            CREATE TABLE refusals (
                seq        {id},
                at         {bigint} NOT NULL,
                agent      TEXT,
                pool_id    TEXT,
                operation  TEXT NOT NULL,
                code       TEXT NOT NULL,
                message    TEXT NOT NULL,
                amount     {bigint}
            )
            """,
            "CREATE INDEX refusals_by_agent ON refusals (agent, seq)",
            """
            CREATE TABLE idempotency (
                key           TEXT PRIMARY KEY,
                request_hash  TEXT NOT NULL,
                outcome       TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
                result        TEXT NOT NULL,
                first_seq     {bigint},
                created_at    {bigint} NOT NULL
            )
            """,
            """
            CREATE TABLE pools (
                id                TEXT PRIMARY KEY,
                number            {bigint} NOT NULL UNIQUE,
                name              TEXT NOT NULL,
                creator           TEXT NOT NULL,
                min_contribution  {bigint} NOT NULL CHECK (min_contribution > 0),
                created_at        {bigint} NOT NULL,
                dissolved_at      {bigint}
            )
            """,
            """
            CREATE TABLE pool_members (
                pool_id      TEXT NOT NULL REFERENCES pools(id),
                agent        TEXT NOT NULL,
                joined_at    {bigint} NOT NULL,
                contributed  {bigint} NOT NULL DEFAULT 0,
                PRIMARY KEY (pool_id, agent)
            )
            """,
            # Each pool spend's credit to each contributor, in proportion to contributions.
            """
            CREATE TABLE pool_credits (
                transfer_seq  {bigint} NOT NULL REFERENCES transfers(seq),
                agent         TEXT NOT NULL,
                contributed   {bigint} NOT NULL,
                credited      {bigint} NOT NULL,
                PRIMARY KEY (transfer_seq, agent)
            )
            """,
        ],
        sqlite=[
            """
            CREATE TRIGGER transfers_are_immutable BEFORE UPDATE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END
            """,
            """
            CREATE TRIGGER transfers_are_permanent BEFORE DELETE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are permanent'); END
            """,
        ],
        postgresql=[
            """
            CREATE FUNCTION transfers_are_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'transfers are immutable and permanent'; END
            $$ LANGUAGE plpgsql
            """,
            """
            CREATE TRIGGER transfers_are_append_only BEFORE UPDATE OR DELETE ON transfers
            FOR EACH ROW EXECUTE FUNCTION transfers_are_append_only()
            """,
        ],
    ),
    Migration(
        2,
        "API keys for the HTTP service (hashed; an agent's key or an admin key)",
        [
            # Only the SHA-256 of a key is kept: keys are 256 random bits, so a plain hash
            # is as safe as a slow one and lets a request be checked in one indexed lookup.
            """
            CREATE TABLE api_keys (
                number      {id},
                key_id      TEXT NOT NULL UNIQUE,
                key_hash    TEXT NOT NULL UNIQUE,
                agent       TEXT,
                admin       INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
                label       TEXT NOT NULL DEFAULT '',
                created_at  {bigint} NOT NULL,
                revoked_at  {bigint},
                CHECK ((admin = 1 AND agent IS NULL) OR (admin = 0 AND agent IS NOT NULL))
            )
            """,
        ],
    ),
    # Number 2 is another change's (api keys); the runner applies what is missing in order.
    Migration(
        3,
        "audit chain: a hash on every transfer, the chain's head",
        [
            "ALTER TABLE transfers ADD COLUMN hash TEXT",
            """
            CREATE TABLE ledger_head (
                id         {bigint} PRIMARY KEY CHECK (id = 1),
                last_seq   {bigint} NOT NULL,
                last_hash  TEXT NOT NULL
            )
            """,
            f"INSERT INTO ledger_head (id, last_seq, last_hash) VALUES (1, 0, '{GENESIS}')",
        ],
        # Transfers stay immutable, except that a hash may be set once where there was
        # none (the backfill below). Writers now name seq themselves (from the head).
        sqlite=[
            "DROP TRIGGER transfers_are_immutable",
            """
            CREATE TRIGGER transfers_are_immutable BEFORE UPDATE OF
                seq, at, kind, source, destination, amount, description, project, model,
                inference_tokens, pool_id, idempotency_key ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END
            """,
            """
            CREATE TRIGGER transfer_hashes_are_set_once BEFORE UPDATE OF hash ON transfers
            WHEN OLD.hash IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END
            """,
        ],
        postgresql=[
            """
            CREATE OR REPLACE FUNCTION transfers_are_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND
                   (NEW.seq, NEW.at, NEW.kind, NEW.source, NEW.destination, NEW.amount,
                    NEW.description, NEW.project, NEW.model, NEW.inference_tokens,
                    NEW.pool_id, NEW.idempotency_key)
                   IS NOT DISTINCT FROM
                   (OLD.seq, OLD.at, OLD.kind, OLD.source, OLD.destination, OLD.amount,
                    OLD.description, OLD.project, OLD.model, OLD.inference_tokens,
                    OLD.pool_id, OLD.idempotency_key)
                THEN RETURN NEW; END IF;
                RAISE EXCEPTION 'transfers are immutable and permanent';
            END
            $$ LANGUAGE plpgsql
            """,
            "ALTER TABLE transfers ALTER COLUMN seq SET GENERATED BY DEFAULT",
            # An import keeps refusal numbers (and then calls Store.restart_numbering).
            "ALTER TABLE refusals ALTER COLUMN seq SET GENERATED BY DEFAULT",
        ],
        backfill=fill_missing_hashes,
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1].number
