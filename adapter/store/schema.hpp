// The database schema, created on first open. PRAGMA user_version records which one a file has.
#pragma once

namespace helsebro::store {

inline constexpr int schema_version = 4;
// Older versions this build upgrades in place (migrate() in store.cpp).
inline constexpr int oldest_upgradable_version = 2;

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
-- What one request wrote, for the processing stage (which reads it back once per request).
CREATE INDEX IF NOT EXISTS resource_version_by_message ON resource_version (message_id);

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

-- How far each stored request got through the mapping rules. No row: not processed yet.
-- 'done' is final; 'failed' and 'waiting' (behind a failed message of the same patient) are
-- tried again, in message order, when the rules change.
CREATE TABLE IF NOT EXISTS processing (
    message_id INTEGER PRIMARY KEY REFERENCES message(id),
    state      TEXT    NOT NULL,
    rule_set   TEXT    NOT NULL,
    error      TEXT    NOT NULL DEFAULT '',
    patients   TEXT    NOT NULL DEFAULT '',  -- "system|value" of each patient, space-separated
    updated_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS processing_unfinished ON processing (state) WHERE state <> 'done';

-- "What Helsebro holds for this patient": every resource linked to a national identifier.
CREATE TABLE IF NOT EXISTS patient_resource (
    system TEXT NOT NULL,
    value  TEXT NOT NULL,
    type   TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (system, value, type, id)
) WITHOUT ROWID;

-- Messages the rules made, and their delivery. The id is the MessageHeader.id, derived from the
-- input, so processing a message again queues nothing twice; it travels with every attempt. The
-- rowid is the order of queuing: rows of one (recipient, lane) are delivered in rowid order.
-- `lane` is a hash of the patient's national identifier ('' for a message about no patient, which
-- waits for nothing): the order key, without the identifier itself.
-- state: queued -> delivered | dead (the recipient refused it; replayable) | discarded (by an
-- administrator, with a reason). Rows are never deleted: the table is also the delivery record.
CREATE TABLE IF NOT EXISTS outbox (
    id              TEXT    PRIMARY KEY,
    message_id      INTEGER NOT NULL REFERENCES message(id),
    recipient       TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    lane            TEXT    NOT NULL DEFAULT '',
    state           TEXT    NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,  -- Unix ms; 0: at once
    last_attempt_at TEXT    NOT NULL DEFAULT '',
    last_status     INTEGER NOT NULL DEFAULT 0,  -- HTTP status; 0: none came
    last_error      TEXT    NOT NULL DEFAULT '',
    finished_at     TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL DEFAULT '',  -- why dead or discarded
    replayed_at     TEXT    NOT NULL DEFAULT '',  -- retry.max_age_hours counts from here
    last_response   BLOB    NOT NULL DEFAULT '',  -- the recipient's answer
    -- Last, so that reading a row's state (the queue reads thousands) never walks the message's
    -- overflow pages.
    body            BLOB    NOT NULL
);
-- The queue in order per recipient, and the next row of a lane; delivered rows leave both.
CREATE INDEX IF NOT EXISTS outbox_queued ON outbox (recipient) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS outbox_lane ON outbox (recipient, lane) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (recipient) WHERE state = 'dead';

-- Every administrator action on deliveries (replay, discard): who, when, what, why.
CREATE TABLE IF NOT EXISTS audit (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    client TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);

-- Search (adapter/store/search.hpp): one row per resource for its current version. `key` is the
-- rowid of the resource's first version: fixed for the resource's life and ascending in the order
-- resources were created, so results paged by key never skip or repeat under concurrent writes.
-- `rows`: empty since v4 (the next version makes the rows it removes again from this one's body);
-- earlier versions kept them here, encoded, and they are read while they last.
CREATE TABLE IF NOT EXISTS search_resource (
    type         TEXT    NOT NULL,
    key          INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated TEXT    NOT NULL,
    deleted      INTEGER NOT NULL,
    rows         BLOB    NOT NULL,
    PRIMARY KEY (type, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_resource_by_updated ON search_resource (type, last_updated);

-- The values each current version is found by, per search parameter, in the order queries look
-- them up. One B-tree only: a second one by resource (to remove a version's rows) doubled the
-- writer's cost; the previous version's body names them instead. `a` has no type affinity: numbers stay
-- numbers (number and quantity parameters), text stays text.
CREATE TABLE IF NOT EXISTS search_index (
    type  TEXT    NOT NULL,
    param TEXT    NOT NULL,
    a             NOT NULL,
    b     TEXT    NOT NULL,
    key   INTEGER NOT NULL,
    PRIMARY KEY (type, param, a, b, key)
) WITHOUT ROWID;
)SQL";

// Version 3's outbox had no delivery columns: it is renamed before schema_sql makes the new one
// and its rows (none delivered yet) are copied over, keeping their order.
inline constexpr const char* outbox_v3_rename_sql = "ALTER TABLE outbox RENAME TO outbox_v3";
inline constexpr const char* outbox_v3_copy_sql = R"SQL(
INSERT INTO outbox (rowid, id, message_id, recipient, created_at, body)
    SELECT rowid, id, message_id, recipient, created_at, body FROM outbox_v3 ORDER BY rowid;
DROP TABLE outbox_v3;
)SQL";

}  // namespace helsebro::store
