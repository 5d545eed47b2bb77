CREATE INDEX measurements_requirement ON measurements (requirement_id, period_end);
CREATE INDEX measurements_follow_up_measure ON measurements (follow_up_measure_id, period_end);
DROP INDEX measurements_requirement_latest;
DROP INDEX measurements_follow_up_measure_latest;
