DROP TABLE decisions;
DROP TABLE versions;
