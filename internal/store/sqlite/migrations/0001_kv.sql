-- The whole IAM model lives in one ordered key-value table: the domain
-- packages own the layout of keys (see docs/decisions/0001-kv-store-contract.md).
-- k is TEXT compared with the default BINARY collation, which is memcmp:
-- bytewise order, as kv.Tx promises. WITHOUT ROWID keeps rows clustered by
-- (tbl, k), so a Scan is a range read of one b-tree.
CREATE TABLE kv (
	tbl TEXT NOT NULL,
	k   TEXT NOT NULL,
	v   BLOB NOT NULL,
	PRIMARY KEY (tbl, k)
) WITHOUT ROWID;

-- Every committed Update increments this in the same transaction.
INSERT INTO meta (name, value) VALUES ('generation', 0);
