-- The audit trail, schema version 1. See AuditStore.
CREATE TABLE IF NOT EXISTS iamd_audit_events (
	seq           bigint PRIMARY KEY,
	event_time    bigint  NOT NULL,
	event_id      text    NOT NULL,
	event_name    text    NOT NULL,
	event_source  text    NOT NULL,
	read_only     boolean NOT NULL,
	access_key_id text    NOT NULL,
	username      text    NOT NULL,
	resources     text    NOT NULL,
	body          bytea   NOT NULL,
	prev_hash     bytea   NOT NULL,
	hash          bytea   NOT NULL
);
CREATE INDEX IF NOT EXISTS iamd_audit_events_time   ON iamd_audit_events (event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_events_key    ON iamd_audit_events (access_key_id, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_events_name   ON iamd_audit_events (event_name, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_events_user   ON iamd_audit_events (username, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_events_source ON iamd_audit_events (event_source, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_events_ro     ON iamd_audit_events (read_only, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_events_id     ON iamd_audit_events (event_id);
CREATE TABLE IF NOT EXISTS iamd_audit_resources (
	seq        bigint NOT NULL,
	event_time bigint NOT NULL,
	type       text   NOT NULL,
	name       text   NOT NULL
);
CREATE INDEX IF NOT EXISTS iamd_audit_resources_name ON iamd_audit_resources (name, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_resources_type ON iamd_audit_resources (type, event_time, seq);
CREATE INDEX IF NOT EXISTS iamd_audit_resources_seq  ON iamd_audit_resources (seq);
CREATE TABLE IF NOT EXISTS iamd_audit_chain (
	name text PRIMARY KEY,
	seq  bigint NOT NULL,
	hash bytea  NOT NULL
);
INSERT INTO iamd_audit_chain (name, seq, hash) VALUES
	('anchor', 0, '\x0000000000000000000000000000000000000000000000000000000000000000'),
	('head',   0, '\x0000000000000000000000000000000000000000000000000000000000000000')
ON CONFLICT (name) DO NOTHING;
