package sqlite

import _ "modernc.org/sqlite" // registers "sqlite"

// driverName is the database/sql driver the Store uses; chosen by
// benchmark, see docs/decisions/0004-sqlite-driver.md.
const driverName = "sqlite"
