-- The follow-up report picks, per series, the latest period up to a date and of revised figures
-- the latest recorded (the id breaks ties): with these columns that is one backward seek per
-- requirement or follow-up measure that the index answers alone. They supersede the
-- (series, period_end) indexes, which are their prefixes.
CREATE INDEX measurements_requirement_latest ON measurements (requirement_id, period_end, recorded_at, id);
CREATE INDEX measurements_follow_up_measure_latest ON measurements (follow_up_measure_id, period_end, recorded_at, id);
DROP INDEX measurements_requirement;
DROP INDEX measurements_follow_up_measure;
