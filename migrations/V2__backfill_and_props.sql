-- Every call a backfill made to the historical archive: the moment it asked for and the one the
-- archive answered with. A rerun plans around these, so it never pays twice for one moment, and
-- an interrupted backfill resumes where it stopped.
CREATE TABLE backfill_calls (
    id            BIGSERIAL PRIMARY KEY,
    sport_key     TEXT        NOT NULL,
    endpoint      TEXT        NOT NULL
        CHECK (endpoint IN ('historical_odds', 'historical_events', 'historical_event_odds')),
    -- The markets asked for, sorted and comma-joined; a call for other markets does not count.
    markets       TEXT        NOT NULL DEFAULT '',
    requested_for TIMESTAMPTZ NOT NULL,
    -- The archive's own `timestamp` (at or before requested_for); NULL before the archive starts.
    snapshot_time TIMESTAMPTZ,
    -- The archive's `next_timestamp`: asking for any moment before it returns the same snapshot.
    next_snapshot TIMESTAMPTZ,
    -- Game discovery: the US Eastern game day whose games were asked for.
    game_day      DATE,
    games         INTEGER     NOT NULL,
    credits       BIGINT      NOT NULL,
    made_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX backfill_calls_lookup_idx ON backfill_calls (sport_key, endpoint, requested_for);

-- The player (or other subject) of an outcome: player props name it here, with `Over`/`Under`
-- as the outcome's name. Part of a price's identity, so two players' lines never merge.
ALTER TABLE odds ADD COLUMN description TEXT;
