-- A hearing (høring) on one version of a plan. Its status is derived from the times: scheduled
-- before opens_at, open until closes_at (or closed_at, when closed early), closed after.
CREATE TABLE hearings (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    -- JSON array of invited parties, e.g. ["Handicaprådet", "RAR Hovedstaden"]
    parties TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1,
    FOREIGN KEY (plan_id, version) REFERENCES versions (plan_id, number)
);
CREATE INDEX hearings_plan ON hearings (plan_id);

CREATE TABLE comments (
    id TEXT PRIMARY KEY NOT NULL,
    hearing_id TEXT NOT NULL REFERENCES hearings (id) ON DELETE CASCADE,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    party TEXT NOT NULL,
    body TEXT NOT NULL,
    stance TEXT,
    target_type TEXT,
    target_id TEXT,
    status TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    submitted_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    response_disposition TEXT,
    response_text TEXT,
    responded_at TIMESTAMP,
    responded_by TEXT,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX comments_hearing ON comments (hearing_id, submitted_at);
CREATE INDEX comments_plan ON comments (plan_id);
