-- Reports and monitoring: the owner's seat alert settings (with the last state the alert saw,
-- so a crossing is detected by comparing against it), and the outbox of webhook deliveries.

CREATE TABLE alert_settings (
    org_id              TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    free_seat_threshold BIGINT NOT NULL CHECK (free_seat_threshold >= 0),
    webhook_url         TEXT,
    webhook_secret      TEXT,
    -- Free seats (all tiers) and whether anyone waited, as of the last seat change.
    last_free           BIGINT NOT NULL,
    last_queue_nonempty BOOLEAN NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

-- Written in the transaction of the seat change; delivered after commit by `serve`.
CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    failed_at       TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_outbox_org ON webhook_outbox (org_id, created_at);

-- The audit API filters by kind within an organization, newest first.
CREATE INDEX audit_log_org_kind_at ON audit_log (org_id, kind, at);
