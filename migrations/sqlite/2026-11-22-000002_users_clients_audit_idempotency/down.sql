DROP TABLE idempotency_keys;
DROP TABLE audit_log;
DROP TABLE clients;
DROP TABLE users;
