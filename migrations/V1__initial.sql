-- Games, one row per The Odds API event id.
CREATE TABLE events (
    id            TEXT PRIMARY KEY,
    sport_key     TEXT        NOT NULL,
    home_team     TEXT        NOT NULL,
    away_team     TEXT        NOT NULL,
    commence_time TIMESTAMPTZ NOT NULL,
    status        TEXT        NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'live', 'final', 'cancelled', 'postponed')),
    home_score    INTEGER,
    away_score    INTEGER,
    completed_at  TIMESTAMPTZ,
    -- Lifecycle bookkeeping (see README "Game lifecycle"), in the collector's clock.
    listed_at              TIMESTAMPTZ,  -- first seen in an API listing
    last_seen_at           TIMESTAMPTZ,  -- last seen in an API listing
    missing_since          TIMESTAMPTZ,  -- first discovery run that no longer listed it
    original_commence_time TIMESTAMPTZ,  -- tip-off before a postponement moved it
    postponed_at           TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_commence_time_idx ON events (commence_time);
CREATE INDEX events_status_commence_idx ON events (status, commence_time);

-- One row per game per fetch: the game's JSON exactly as received.
CREATE TABLE odds_snapshots (
    id                   BIGSERIAL PRIMARY KEY,
    event_id             TEXT             NOT NULL REFERENCES events (id),
    snapshot_time        TIMESTAMPTZ      NOT NULL,
    raw_data             JSONB            NOT NULL,
    fetch_tier           TEXT             NOT NULL
        CHECK (fetch_tier IN ('opening', 'early', 'sharp', 'pregame', 'closing')),
    hours_until_commence DOUBLE PRECISION NOT NULL,
    bookmaker_count      INTEGER          NOT NULL,
    created_at           TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT odds_snapshots_event_time_key UNIQUE (event_id, snapshot_time)
);
CREATE INDEX odds_snapshots_time_idx ON odds_snapshots (snapshot_time);

-- Normalized prices. event_id and snapshot_time are copied from the snapshot so every read
-- ("as of T", line movement, the previous snapshot's lines) uses one index. The table is
-- append-only and written only together with its snapshot, in one transaction; a surrogate key,
-- a foreign-key check and a second index per row would cost more than half of a bulk load.
CREATE TABLE odds (
    snapshot_id      BIGINT           NOT NULL, -- odds_snapshots.id
    event_id         TEXT             NOT NULL,
    snapshot_time    TIMESTAMPTZ      NOT NULL,
    bookmaker_key    TEXT             NOT NULL,
    bookmaker_title  TEXT             NOT NULL,
    market_key       TEXT             NOT NULL,
    outcome_name     TEXT             NOT NULL,
    price            DOUBLE PRECISION NOT NULL, -- American
    point            DOUBLE PRECISION,
    last_update      TIMESTAMPTZ,
    is_valid         BOOLEAN          NOT NULL DEFAULT TRUE,
    validation_notes JSONB -- array of check names; NULL when the row passed every check
);
CREATE INDEX odds_asof_idx ON odds (event_id, market_key, bookmaker_key, snapshot_time);

CREATE TABLE data_quality_logs (
    id          BIGSERIAL PRIMARY KEY,
    event_id    TEXT,
    snapshot_id BIGINT REFERENCES odds_snapshots (id) ON DELETE SET NULL,
    severity    TEXT        NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    issue_type  TEXT        NOT NULL,
    description TEXT        NOT NULL,
    context     JSONB       NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX data_quality_logs_created_idx ON data_quality_logs (created_at);
CREATE INDEX data_quality_logs_event_idx ON data_quality_logs (event_id);

-- Every call to an outside API, with the credits it cost.
CREATE TABLE fetch_logs (
    id                BIGSERIAL PRIMARY KEY,
    fetched_at        TIMESTAMPTZ NOT NULL,
    job_name          TEXT,
    endpoint          TEXT        NOT NULL,
    sport_key         TEXT,
    http_status       INTEGER,
    success           BOOLEAN     NOT NULL,
    events_count      INTEGER,
    credits_last      BIGINT,
    credits_used      BIGINT,
    credits_remaining BIGINT,
    duration_ms       BIGINT      NOT NULL,
    error             TEXT
);
CREATE INDEX fetch_logs_fetched_idx ON fetch_logs (fetched_at);

-- Scheduler state: one row per job (next run, last run, lease for single-flight runs).
CREATE TABLE job_state (
    job_name             TEXT PRIMARY KEY,
    next_run_at          TIMESTAMPTZ,
    next_run_reason      TEXT,
    last_run_at          TIMESTAMPTZ,
    last_outcome         TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER     NOT NULL DEFAULT 0,
    lease_owner          TEXT,
    lease_expires_at     TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- History of job runs.
CREATE TABLE job_runs (
    id          BIGSERIAL PRIMARY KEY,
    job_name    TEXT        NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     TEXT        NOT NULL CHECK (outcome IN ('running', 'success', 'skipped', 'failed')),
    reason      TEXT,
    error       TEXT,
    summary     JSONB
);
CREATE INDEX job_runs_job_started_idx ON job_runs (job_name, started_at DESC);
