-- Keys are bytea, not text: bytea compares bytewise whatever the
-- database's collation, which is the order kv.Tx promises, and it accepts
-- any bytes where text would reject invalid UTF-8.
CREATE TABLE iamd_kv (
	tbl text  NOT NULL,
	k   bytea NOT NULL,
	v   bytea NOT NULL,
	PRIMARY KEY (tbl, k)
);

-- One row. Every committed Update increments it; Update also locks this
-- table first, which makes it the cluster-wide writer lock.
CREATE TABLE iamd_generation (
	one   boolean PRIMARY KEY DEFAULT true CHECK (one),
	value bigint  NOT NULL CHECK (value >= 0)
);
INSERT INTO iamd_generation (value) VALUES (0);
