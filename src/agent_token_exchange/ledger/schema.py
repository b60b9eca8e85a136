"""The ledger's schema, as numbered migrations applied in order.

The schema version is the number of the last migration applied (SQLite keeps it in
``PRAGMA user_version``). A new release appends a migration; it never edits one that
has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "accounts, transfers, consumption windows, refusals, idempotency, pools",
        [
            """
            CREATE TABLE accounts (
                name        TEXT PRIMARY KEY,
                kind        TEXT NOT NULL,
                balance     INTEGER NOT NULL DEFAULT 0,
                earned      INTEGER NOT NULL DEFAULT 0,
                spent       INTEGER NOT NULL DEFAULT 0,
                created_at  INTEGER NOT NULL
            )
            """,
            # Immutable double-entry transfers. seq is strictly increasing.
            """
            CREATE TABLE transfers (
                seq              INTEGER PRIMARY KEY AUTOINCREMENT,
                at               INTEGER NOT NULL,
                kind             TEXT NOT NULL,
                source           TEXT NOT NULL REFERENCES accounts(name),
                destination      TEXT NOT NULL REFERENCES accounts(name),
                amount           INTEGER NOT NULL CHECK (amount > 0),
                description      TEXT NOT NULL DEFAULT '',
                project          TEXT,
                model            TEXT,
                inference_tokens INTEGER,
                pool_id          TEXT,
                idempotency_key  TEXT,
                CHECK (source <> destination)
            )
            """,
            "CREATE INDEX transfers_by_source ON transfers (source, seq)",
            "CREATE INDEX transfers_by_destination ON transfers (destination, seq)",
            """
            CREATE TRIGGER transfers_are_immutable BEFORE UPDATE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END
            """,
            """
            CREATE TRIGGER transfers_are_permanent BEFORE DELETE ON transfers
            BEGIN SELECT RAISE(ABORT, 'transfers are permanent'); END
            """,
            # Each inference spend with the agent's cumulative consumption after it: a
            # rolling window's usage is cum(latest) - cum(last row at or before the
            # window's start), one indexed lookup whatever the history's size.
            """
            CREATE TABLE consumption (
                agent         TEXT NOT NULL,
                at            INTEGER NOT NULL,
                cumulative    INTEGER NOT NULL,
                amount        INTEGER NOT NULL CHECK (amount > 0),
                transfer_seq  INTEGER NOT NULL UNIQUE REFERENCES transfers(seq),
                PRIMARY KEY (agent, cumulative)
            )
            """,
            "CREATE INDEX consumption_by_time ON consumption (agent, at, cumulative)",
            """
            CREATE TABLE refusals (
                seq        INTEGER PRIMARY KEY AUTOINCREMENT,
                at         INTEGER NOT NULL,
                agent      TEXT,
                pool_id    TEXT,
                operation  TEXT NOT NULL,
                code       TEXT NOT NULL,
                message    TEXT NOT NULL,
                amount     INTEGER
            )
            """,
            "CREATE INDEX refusals_by_agent ON refusals (agent, seq)",
            """
            CREATE TABLE idempotency (
                key           TEXT PRIMARY KEY,
                request_hash  TEXT NOT NULL,
                outcome       TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
                result        TEXT NOT NULL,
                first_seq     INTEGER,
                created_at    INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE pools (
                id                TEXT PRIMARY KEY,
                number            INTEGER NOT NULL UNIQUE,
                name              TEXT NOT NULL,
                creator           TEXT NOT NULL,
                min_contribution  INTEGER NOT NULL CHECK (min_contribution > 0),
                created_at        INTEGER NOT NULL,
                dissolved_at      INTEGER
            )
            """,
            """
            CREATE TABLE pool_members (
                pool_id      TEXT NOT NULL REFERENCES pools(id),
                agent        TEXT NOT NULL,
                joined_at    INTEGER NOT NULL,
                contributed  INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (pool_id, agent)
            )
            """,
            # Each pool spend's credit to each contributor, in proportion to contributions.
            """
            CREATE TABLE pool_credits (
                transfer_seq  INTEGER NOT NULL REFERENCES transfers(seq),
                agent         TEXT NOT NULL,
                contributed   INTEGER NOT NULL,
                credited      INTEGER NOT NULL,
                PRIMARY KEY (transfer_seq, agent)
            )
            """,
        ],
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]
