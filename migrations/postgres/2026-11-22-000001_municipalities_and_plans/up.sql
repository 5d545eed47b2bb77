-- Timestamps are UTC, stored as TIMESTAMP WITHOUT TIME ZONE.
CREATE TABLE municipalities (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    municipality_code TEXT NOT NULL REFERENCES municipalities (code),
    year INTEGER NOT NULL,
    title TEXT NOT NULL,
    summary TEXT,
    -- JSON array of municipality codes the plan covers (one jobcenter may serve several)
    covers TEXT NOT NULL,
    status TEXT NOT NULL,
    latest_version INTEGER,
    adopted_version INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1,
    UNIQUE (municipality_code, year)
);

CREATE INDEX plans_year ON plans (year);
CREATE INDEX plans_status ON plans (status);
