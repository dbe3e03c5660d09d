// The database schema, created on first open. PRAGMA user_version records which one a file has.
#pragma once

namespace helsebro::store {

inline constexpr int schema_version = 2;

inline constexpr const char* schema_sql = R"SQL(
-- Every accepted write request exactly as received: the audit trail and the source for replay.
CREATE TABLE IF NOT EXISTS message (
    id           INTEGER PRIMARY KEY,
    received_at  TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    body         BLOB    NOT NULL
);

-- Every version of every resource; never updated in place. The current version is the highest,
-- found through the primary key, so a write touches one table and one index, not three.
CREATE TABLE IF NOT EXISTS resource_version (
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated TEXT    NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    body         BLOB    NOT NULL,
    message_id   INTEGER NOT NULL REFERENCES message(id),
    PRIMARY KEY (type, id, version)
);  -- a rowid table: bodies are large, and WITHOUT ROWID suits only small rows

-- Identifiers of the current versions, for conditional create and linking by national identifier.
CREATE TABLE IF NOT EXISTS resource_identifier (
    type   TEXT NOT NULL,
    system TEXT NOT NULL,
    value  TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (type, system, value, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resource_identifier_by_id ON resource_identifier (type, id);

-- The first reply to an idempotent request (Bundle.identifier, MessageHeader.id) per sender.
CREATE TABLE IF NOT EXISTS reply (
    sender     TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    message_id INTEGER NOT NULL REFERENCES message(id),
    request_sha256 BLOB NOT NULL,  -- of the first request's body: a reused key with other content is refused
    status     INTEGER NOT NULL,
    headers    TEXT    NOT NULL,
    body       BLOB    NOT NULL,
    PRIMARY KEY (sender, key)
);
)SQL";

}  // namespace helsebro::store
