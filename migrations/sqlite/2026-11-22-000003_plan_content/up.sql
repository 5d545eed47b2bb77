-- Counts content changes; every content write updates it first, which also serializes content
-- writes per plan on PostgreSQL (the row lock), so positions never collide.
ALTER TABLE plans ADD COLUMN content_revision BIGINT NOT NULL DEFAULT 0;

CREATE TABLE sections (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    heading TEXT NOT NULL,
    body TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX sections_plan ON sections (plan_id, position);

CREATE TABLE focus_areas (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX focus_areas_plan ON focus_areas (plan_id, position);

CREATE TABLE goals (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    focus_area_id TEXT REFERENCES focus_areas (id),
    number TEXT,
    title TEXT NOT NULL,
    description TEXT,
    kind TEXT NOT NULL,
    -- JSON arrays of strings
    target_groups TEXT NOT NULL,
    initiatives TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX goals_plan ON goals (plan_id, position);
CREATE INDEX goals_focus_area ON goals (focus_area_id);

CREATE TABLE requirements (
    id TEXT PRIMARY KEY NOT NULL,
    goal_id TEXT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    statement TEXT NOT NULL,
    indicator TEXT NOT NULL,
    unit TEXT NOT NULL,
    comparator TEXT NOT NULL,
    baseline_value DOUBLE PRECISION,
    baseline_as_of DATE,
    target_value DOUBLE PRECISION,
    target_value_max DOUBLE PRECISION,
    target_due DATE,
    target_placeholder BOOLEAN NOT NULL,
    data_source TEXT,
    frequency TEXT,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX requirements_goal ON requirements (goal_id, position);
CREATE INDEX requirements_plan ON requirements (plan_id);

CREATE TABLE follow_up_measures (
    id TEXT PRIMARY KEY NOT NULL,
    goal_id TEXT NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    indicator TEXT NOT NULL,
    description TEXT,
    unit TEXT NOT NULL,
    data_source TEXT,
    frequency TEXT,
    position INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX follow_up_measures_goal ON follow_up_measures (goal_id, position);
CREATE INDEX follow_up_measures_plan ON follow_up_measures (plan_id);
