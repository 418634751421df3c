-- What the alert channel last said about each health check, so that a check speaks once per
-- change of state and at most once every 30 minutes, across processes and cold starts.
CREATE TABLE alert_state (
    check_name   TEXT PRIMARY KEY,
    notified     TEXT        NOT NULL CHECK (notified IN ('ok', 'warning', 'critical')),
    last_sent_at TIMESTAMPTZ,
    message      TEXT,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
