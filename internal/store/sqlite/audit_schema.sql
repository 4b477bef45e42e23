-- The audit trail (audit.db), schema version 1. See AuditStore.

CREATE TABLE audit_events (
	seq           INTEGER PRIMARY KEY,   -- position in the hash chain
	event_time    INTEGER NOT NULL,      -- eventTime, unix seconds
	event_id      TEXT    NOT NULL,
	event_name    TEXT    NOT NULL,
	event_source  TEXT    NOT NULL,
	read_only     INTEGER NOT NULL,
	access_key_id TEXT    NOT NULL,
	username      TEXT    NOT NULL,
	resources     TEXT    NOT NULL,      -- [[type, name], …] or ''
	body          BLOB    NOT NULL,      -- the CloudTrail JSON, as hashed
	prev_hash     BLOB    NOT NULL,
	hash          BLOB    NOT NULL
);

-- An index per selective LookupEvents attribute, each ordered the way
-- pages are read (newest first), so a page is a short index range scan.
-- ReadOnly and EventSource take a handful of values, each matching a large
-- share of the trail: a page of them is found by walking the time index
-- newest first, about as fast, without two more indexes on every write.
CREATE INDEX audit_events_time   ON audit_events (event_time, seq);
CREATE INDEX audit_events_key    ON audit_events (access_key_id, event_time, seq);
CREATE INDEX audit_events_name   ON audit_events (event_name, event_time, seq);
CREATE INDEX audit_events_user   ON audit_events (username, event_time, seq);
CREATE INDEX audit_events_id     ON audit_events (event_id);

CREATE TABLE audit_resources (
	seq        INTEGER NOT NULL,
	event_time INTEGER NOT NULL,
	type       TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	PRIMARY KEY (seq, type, name)
) WITHOUT ROWID;
CREATE INDEX audit_resources_name ON audit_resources (name, event_time, seq);
CREATE INDEX audit_resources_type ON audit_resources (type, event_time, seq);

-- 'anchor': the point just before the first kept record (0 and the zero
-- hash until records are pruned); 'head': the last record written.
CREATE TABLE audit_chain (
	name TEXT PRIMARY KEY,
	seq  INTEGER NOT NULL,
	hash BLOB    NOT NULL
) WITHOUT ROWID;
INSERT INTO audit_chain (name, seq, hash) VALUES
	('anchor', 0, zeroblob(32)),
	('head',   0, zeroblob(32));
