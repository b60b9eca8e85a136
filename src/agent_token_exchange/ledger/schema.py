"""The ledger's schema, as numbered migrations applied in order.

The schema version is the number of the last migration applied. A new release appends
a migration; it never edits one that has shipped.

How a migration is written (shared statements, dialect placeholders, backfills):
migration.py. Migrations 1-7 are here; the credit market's (8-10) in market_schema.py.
"""

from __future__ import annotations

from .chain import GENESIS
from .market_schema import MARKET_MIGRATIONS
from .migration import Migration

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
        backfill=lambda store: store.transfers.fill_missing_hashes(),
    ),
    Migration(
        4,
        "consumption in one b-tree: (agent, at, cumulative) serves both window lookups",
        [
            # Four b-trees (the rowid table, its key, a time index, a unique transfer_seq)
            # became one: at never decreases per agent and cumulative always grows, so one
            # key in (at, cumulative) order finds the latest row and the row as of a time.
            # The table is derived (doctor rebuilds it), so it carries no foreign key.
            """
            CREATE TABLE consumption_v4 (
                agent         TEXT NOT NULL,
                at            {bigint} NOT NULL,
                cumulative    {bigint} NOT NULL,
                amount        {bigint} NOT NULL CHECK (amount > 0),
                transfer_seq  {bigint} NOT NULL,
                PRIMARY KEY (agent, at, cumulative)
            ){without_rowid}
            """,
            "INSERT INTO consumption_v4 (agent, at, cumulative, amount, transfer_seq) "
            "SELECT agent, at, cumulative, amount, transfer_seq FROM consumption",
            "DROP TABLE consumption",
            "ALTER TABLE consumption_v4 RENAME TO consumption",
        ],
    ),
    Migration(
        5,
        "gateway reservations: each metered LLM request, its hold and how it settled",
        [
            # One row per gateway request. While open (closed_at NULL) its amount sits in
            # the payer's hold account (hold:agent:NAME or hold:pool:pool-N), whose
            # balance is the sum of its open rows. Closing it links the charge transfer
            # (charge_seq) and keeps what the provider reported.
            """
            CREATE TABLE reservations (
                id                   {id},
                agent                TEXT NOT NULL,
                payer                TEXT NOT NULL,
                pool_id              TEXT,
                model                TEXT NOT NULL,
                amount               {bigint} NOT NULL CHECK (amount >= 0),
                input_estimate       {bigint} NOT NULL,
                max_output           {bigint} NOT NULL,
                estimator            TEXT NOT NULL,
                reserved_at          {bigint} NOT NULL,
                hold_seq             {bigint} REFERENCES transfers(seq),
                closed_at            {bigint},
                outcome              TEXT CHECK (outcome IN ('captured', 'released', 'expired')),
                charge_seq           {bigint} REFERENCES transfers(seq),
                input_tokens         {bigint},
                output_tokens        {bigint},
                charged              {bigint},
                overrun              {bigint},
                provider_request_id  TEXT,
                latency_ms           {bigint}
            )
            """,
            "CREATE INDEX reservations_open ON reservations (closed_at, reserved_at)",
            "CREATE INDEX reservations_by_charge ON reservations (charge_seq)",
        ],
    ),
    Migration(
        6,
        "pool consent and stakes: open pools, invites, members' stakes, draws as consumption",
        [
            # Invite-only unless created open; pools made before this were joined freely,
            # and from now on take new members by invitation.
            "ALTER TABLE pools ADD COLUMN is_open INTEGER NOT NULL DEFAULT 0 "
            "CHECK (is_open IN (0, 1))",
            """
            CREATE TABLE pool_invites (
                pool_id     TEXT NOT NULL REFERENCES pools(id),
                agent       TEXT NOT NULL,
                invited_at  {bigint} NOT NULL,
                PRIMARY KEY (pool_id, agent)
            )
            """,
            # A member's stake: what of the pool's balance is its own. The pool's balance
            # is the sum of its stakes (doctor checks it). left_at: a member that left.
            "ALTER TABLE pool_members ADD COLUMN stake {bigint} NOT NULL DEFAULT 0 "
            "CHECK (stake >= 0)",
            "ALTER TABLE pool_members ADD COLUMN left_at {bigint}",
            # A spend draws from each member in proportion to its stake (the weight was
            # the lifetime contribution before); a draw now counts as the member's own
            # consumption, in its windows (one transfer, a consumption row per member:
            # migration 4's key has room for that).
            "ALTER TABLE pool_credits RENAME COLUMN contributed TO stake",
            "ALTER TABLE pool_credits ADD COLUMN consumed INTEGER NOT NULL DEFAULT 0 "
            "CHECK (consumed IN (0, 1))",
        ],
        backfill=lambda store: store.pools.backfill_stakes(),
    ),
    Migration(
        7,
        "refusal counts: repeats of one refusal within a minute are one row",
        [
            "ALTER TABLE refusals ADD COLUMN count {bigint} NOT NULL DEFAULT 1 "
            "CHECK (count >= 1)",
            "ALTER TABLE refusals ADD COLUMN first_at {bigint} NOT NULL DEFAULT 0",
            "UPDATE refusals SET first_at = at",
            "CREATE INDEX refusals_by_kind ON refusals (agent, operation, code, seq)",
        ],
    ),
]

# The credit market's tables (loans, futures, staking and governance): market_schema.py.
MIGRATIONS += MARKET_MIGRATIONS

SCHEMA_VERSION = MIGRATIONS[-1].number
