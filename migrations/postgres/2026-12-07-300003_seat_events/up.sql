-- Seat events: an ordered feed per organization (seq from 1, written under the organization
-- lock in the transaction of the change it reports), with a stable id for de-duplication.
CREATE TABLE seat_events (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    subject_id  TEXT,
    data        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, seq)
);
-- Webhook delivery of the feed: one cursor per organization (the last seq its webhook
-- acknowledged), so events go out in order and survive restarts; a lease keeps two server
-- processes from sending the same events at once.
CREATE TABLE seat_event_cursors (
    org_id          TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    delivered_seq   BIGINT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    updated_at      TIMESTAMP NOT NULL
);
