"""The credit market's migrations: loans (8), futures on work (9), staking and
governance (10), a wallet's market figure in constant time (11). Appended to
``schema.MIGRATIONS``; the same rules apply (a shipped migration is never edited, a new
one is appended)."""

from __future__ import annotations

from .migration import Migration

MARKET_MIGRATIONS: list[Migration] = [
    Migration(
        8,
        "loans: lenders' offers (escrowed) and the loans borrowers took from them",
        [
            # Amounts in micro-tokens; a rate in parts per million a day; times in
            # microseconds. An open offer's amount waits in escrow:offer-N (doctor).
            """
            CREATE TABLE loan_offers (
                id            TEXT PRIMARY KEY,
                number        {bigint} NOT NULL UNIQUE,
                lender        TEXT NOT NULL,
                amount        {bigint} NOT NULL CHECK (amount > 0),
                rate_ppm      {bigint} NOT NULL CHECK (rate_ppm >= 0),
                term_hours    {bigint} NOT NULL CHECK (term_hours > 0),
                max_defaults  {bigint},
                status        TEXT NOT NULL CHECK (status IN ('open', 'taken', 'cancelled')),
                created_at    {bigint} NOT NULL,
                closed_at     {bigint},
                loan_id       TEXT
            )
            """,
            "CREATE INDEX loan_offers_by_lender ON loan_offers (lender, number)",
            # outstanding: principal not yet repaid; carried: interest accrued up to
            # accrued_at and not yet paid (it bears no interest itself).
            """
            CREATE TABLE loans (
                id              TEXT PRIMARY KEY,
                number          {bigint} NOT NULL UNIQUE,
                offer_id        TEXT NOT NULL UNIQUE REFERENCES loan_offers(id),
                lender          TEXT NOT NULL,
                borrower        TEXT NOT NULL,
                principal       {bigint} NOT NULL CHECK (principal > 0),
                rate_ppm        {bigint} NOT NULL,
                term_hours      {bigint} NOT NULL,
                taken_at        {bigint} NOT NULL,
                due_at          {bigint} NOT NULL,
                status          TEXT NOT NULL CHECK (status IN ('open', 'repaid', 'defaulted')),
                outstanding     {bigint} NOT NULL CHECK (outstanding >= 0),
                carried         {bigint} NOT NULL DEFAULT 0 CHECK (carried >= 0),
                accrued_at      {bigint} NOT NULL,
                interest_paid   {bigint} NOT NULL DEFAULT 0,
                principal_paid  {bigint} NOT NULL DEFAULT 0,
                defaulted_at    {bigint},
                repaid_at       {bigint}
            )
            """,
            # settle finds what fell due with one indexed range: open loans by due time.
            "CREATE INDEX loans_due ON loans (status, due_at)",
            "CREATE INDEX loans_by_borrower ON loans (borrower, number)",
            "CREATE INDEX loans_by_lender ON loans (lender, number)",
        ],
    ),
    Migration(
        9,
        "futures on work: a buyer's price for named work by a deadline, and a seller's "
        "collateral",
        [
            """
            CREATE TABLE futures (
                id            TEXT PRIMARY KEY,
                number        {bigint} NOT NULL UNIQUE,
                buyer         TEXT NOT NULL,
                work          TEXT NOT NULL,
                work_kind     TEXT NOT NULL CHECK (work_kind IN ('bd', 'commit', 'manual')),
                work_target   TEXT NOT NULL DEFAULT '',
                price         {bigint} NOT NULL CHECK (price > 0),
                collateral    {bigint} NOT NULL CHECK (collateral > 0),
                deadline      {bigint} NOT NULL,
                named_seller  TEXT,
                seller        TEXT,
                status        TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'delivered',
                                                              'failed', 'expired', 'cancelled')),
                created_at    {bigint} NOT NULL,
                accepted_at   {bigint},
                closed_at     {bigint},
                proof         TEXT
            )
            """,
            # settle: what has fallen due; a paid commit or issue: the seller's accepted ones.
            "CREATE INDEX futures_due ON futures (status, deadline)",
            "CREATE INDEX futures_by_seller ON futures (seller, status)",
        ],
    ),
    Migration(
        10,
        "staking and governance: stakes, unbondings, proposals, votes, parameter changes",
        [
            # Each agent's staked total: its stake:NAME account holds exactly this.
            """
            CREATE TABLE stakes (
                agent   TEXT PRIMARY KEY,
                staked  {bigint} NOT NULL CHECK (staked >= 0)
            )
            """,
            # Unstaked tokens wait in unbonding:NAME until release_at; its balance is the
            # sum of the agent's unreleased rows.
            """
            CREATE TABLE unbondings (
                id           {id},
                agent        TEXT NOT NULL,
                amount       {bigint} NOT NULL CHECK (amount > 0),
                started_at   {bigint} NOT NULL,
                release_at   {bigint} NOT NULL,
                released_at  {bigint},
                unstake_seq  {bigint} REFERENCES transfers(seq),
                release_seq  {bigint} REFERENCES transfers(seq)
            )
            """,
            "CREATE INDEX unbondings_due ON unbondings (released_at, release_at)",
            # The rules a proposal runs under are kept with it (quorum, timelock), so an
            # edit of config.toml never changes a vote already under way.
            """
            CREATE TABLE proposals (
                id              TEXT PRIMARY KEY,
                number          {bigint} NOT NULL UNIQUE,
                proposer        TEXT NOT NULL,
                parameter       TEXT NOT NULL,
                value           TEXT NOT NULL,
                reason          TEXT NOT NULL,
                created_at      {bigint} NOT NULL,
                voting_ends_at  {bigint} NOT NULL,
                timelock_us     {bigint} NOT NULL,
                quorum          TEXT NOT NULL,
                total_stake     {bigint} NOT NULL,
                status          TEXT NOT NULL CHECK (status IN
                                ('voting', 'passed', 'rejected', 'no_quorum', 'enacted')),
                closed_at       {bigint},
                enacted_at      {bigint}
            )
            """,
            "CREATE INDEX proposals_by_status ON proposals (status, voting_ends_at)",
            # Voting power: every staker's stake when the proposal was made.
            """
            CREATE TABLE proposal_stakes (
                proposal_id  TEXT NOT NULL REFERENCES proposals(id),
                agent        TEXT NOT NULL,
                stake        {bigint} NOT NULL CHECK (stake > 0),
                PRIMARY KEY (proposal_id, agent)
            )
            """,
            """
            CREATE TABLE votes (
                proposal_id  TEXT NOT NULL REFERENCES proposals(id),
                agent        TEXT NOT NULL,
                choice       TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
                power        {bigint} NOT NULL,
                at           {bigint} NOT NULL,
                PRIMARY KEY (proposal_id, agent)
            )
            """,
            # Append-only: the effective config is config.toml with the latest change of
            # each parameter laid over it; MAX(id) tells a process whether it is current.
            """
            CREATE TABLE parameter_changes (
                id           {id},
                parameter    TEXT NOT NULL,
                value        TEXT NOT NULL,
                proposal_id  TEXT NOT NULL REFERENCES proposals(id),
                applied_at   {bigint} NOT NULL
            )
            """,
        ],
    ),
    Migration(
        11,
        "a wallet's market figure without reading its history: its grants, indexed",
        [
            # tokens = grants + earned - spent + market, and the account row holds tokens,
            # earned and spent: so market needs only the grants (one row per agent).
            "CREATE INDEX transfers_grants ON transfers (destination) WHERE kind = 'grant'",
        ],
    ),
]
