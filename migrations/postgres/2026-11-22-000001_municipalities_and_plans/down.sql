DROP TABLE plans;
DROP TABLE municipalities;
