-- Owner members (for owner authentication), contracts, invoices with their lines.
-- Portable types only; money in BIGINT minor units of the contract currency.

CREATE TABLE org_members (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    email_norm  TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('primary_owner', 'owner', 'admin', 'member')),
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (org_id, email_norm)
);
-- Exactly one Primary Owner per organization (at most one here; creation adds the first).
CREATE UNIQUE INDEX org_members_one_primary_owner ON org_members (org_id) WHERE role = 'primary_owner';

CREATE TABLE contracts (
    org_id               TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    term_start           DATE NOT NULL,
    -- Exclusive: term_start + 12 months, the first day of the next term (the renewal date).
    term_end             DATE NOT NULL,
    auto_renew           BOOLEAN NOT NULL,
    currency             TEXT NOT NULL,
    price_standard_minor BIGINT NOT NULL CHECK (price_standard_minor >= 0),
    price_premium_minor  BIGINT NOT NULL CHECK (price_premium_minor >= price_standard_minor),
    status               TEXT NOT NULL CHECK (status IN ('active', 'expired')),
    invoice_counter      BIGINT NOT NULL DEFAULT 0,
    -- term_start of the last term a renewal started (NULL before the first renewal).
    renewed_through      DATE,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    CHECK (term_end > term_start)
);
CREATE INDEX contracts_due ON contracts (status, term_end);

CREATE TABLE invoices (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    number          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('seat_change', 'renewal')),
    issued_on       DATE NOT NULL,
    term_start      DATE NOT NULL,
    term_end        DATE NOT NULL,
    currency        TEXT NOT NULL,
    total_minor     BIGINT NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT,
    request         TEXT NOT NULL,
    issued_by       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (org_id, seq),
    UNIQUE (org_id, number),
    -- A retried confirm finds its invoice; two racing ones cannot both insert.
    UNIQUE (org_id, idempotency_key)
);
-- A term is renewed (and invoiced) at most once.
CREATE UNIQUE INDEX invoices_one_renewal_per_term ON invoices (org_id, term_start) WHERE kind = 'renewal';
CREATE INDEX invoices_org_issued ON invoices (org_id, seq);

CREATE TABLE invoice_lines (
    invoice_id       TEXT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('add_seats', 'upgrade', 'renewal')),
    tier             TEXT CHECK (tier IN ('premium', 'standard')),
    description      TEXT NOT NULL,
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT NOT NULL,
    months_whole     INTEGER NOT NULL,
    days_left        INTEGER NOT NULL,
    days_in_period   INTEGER NOT NULL,
    amount_minor     BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, position)
);
