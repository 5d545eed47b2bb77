-- Measured values of a requirement's or a follow-up measure's indicator. Never changed: a revised
-- figure for a period is a new row, and the latest recorded counts.
CREATE TABLE measurements (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    requirement_id TEXT REFERENCES requirements (id) ON DELETE CASCADE,
    follow_up_measure_id TEXT REFERENCES follow_up_measures (id) ON DELETE CASCADE,
    period_end DATE NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    source TEXT,
    note TEXT,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT NOT NULL,
    CHECK ((requirement_id IS NULL) <> (follow_up_measure_id IS NULL))
);
CREATE INDEX measurements_requirement ON measurements (requirement_id, period_end);
CREATE INDEX measurements_follow_up_measure ON measurements (follow_up_measure_id, period_end);
CREATE INDEX measurements_plan ON measurements (plan_id);
