DROP TABLE follow_up_measures;
DROP TABLE requirements;
DROP TABLE goals;
DROP TABLE focus_areas;
DROP TABLE sections;
ALTER TABLE plans DROP COLUMN content_revision;
