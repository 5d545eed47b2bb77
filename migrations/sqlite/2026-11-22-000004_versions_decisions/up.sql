-- A version is immutable: `body` is its JSON representation (with the whole plan document),
-- serialized once when the version is made and served as stored; `etag` is a hash of it.
CREATE TABLE versions (
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    -- Set when the city council approves the version; adopted versions stay public.
    adopted_at TIMESTAMP,
    PRIMARY KEY (plan_id, number)
);

CREATE TABLE decisions (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    outcome TEXT NOT NULL,
    version INTEGER NOT NULL,
    meeting_date DATE NOT NULL,
    case_number TEXT,
    text TEXT,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX decisions_plan ON decisions (plan_id, recorded_at);
