DROP TABLE comments;
DROP TABLE hearings;
