-- SmartCity.Ledger PostgreSQL store, schema version 1.
-- Runs inside the node's own schema (search_path is set by the migrator). Text keys use the "C" collation so that
-- ordering is byte-wise and identical to the embedded store's ordinal ordering.

-- The last committed block. One row; its lock serialises writers.
CREATE TABLE head (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    height       bigint  NOT NULL,
    block_hash   bytea   NOT NULL,
    history_size bigint  NOT NULL
);

CREATE TABLE blocks (
    height              bigint  PRIMARY KEY,
    block_hash          bytea   NOT NULL UNIQUE,
    parent_hash         bytea   NOT NULL,
    timestamp_ms        bigint  NOT NULL,
    header              bytea   NOT NULL,
    certificate         bytea   NOT NULL,
    tx_count            integer NOT NULL,
    first_history_index bigint  NOT NULL
);

-- The history index is the transaction's leaf position in the RFC 6962 history tree; a block's transactions are
-- the history range [first_history_index, first_history_index + tx_count), so no index by height is needed.
CREATE TABLE transactions (
    tx_hash        bytea   PRIMARY KEY,
    height         bigint  NOT NULL,
    index_in_block integer NOT NULL,
    history_index  bigint  NOT NULL UNIQUE,
    bytes          bytea   NOT NULL
);

-- The state at the head: Keccak-256 key to value. bytea orders byte-wise, as Hash256 does.
CREATE TABLE state (
    key   bytea PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE history_nodes (
    level      smallint NOT NULL,
    node_index bigint   NOT NULL,
    hash       bytea    NOT NULL,
    PRIMARY KEY (level, node_index)
);

CREATE TABLE credit_records (
    record_id          text COLLATE "C" PRIMARY KEY,
    subject            text COLLATE "C" NOT NULL,
    tx_hash            bytea    NOT NULL,
    height             bigint   NOT NULL,
    kind               smallint NOT NULL,
    status             smallint NOT NULL,
    severity           smallint NOT NULL,
    designating_member bytea    NOT NULL,
    published_at       bigint   NOT NULL,
    expires_at         bigint   NOT NULL
);
CREATE INDEX credit_records_by_subject ON credit_records (subject, height, record_id);

-- Every version of every licence; the latest version is the one with the highest version number.
CREATE TABLE licences (
    identifier       text COLLATE "C" NOT NULL,
    version          integer  NOT NULL,
    holder_code      text COLLATE "C" NOT NULL,
    status           smallint NOT NULL,
    issuer           bytea    NOT NULL,
    tx_hash          bytea    NOT NULL,
    previous_tx_hash bytea    NOT NULL,
    height           bigint   NOT NULL,
    valid_until      bigint   NOT NULL,
    PRIMARY KEY (identifier, version)
);
CREATE INDEX licences_by_holder ON licences (holder_code, identifier);

CREATE TABLE list_entries (
    entry_id   text COLLATE "C" PRIMARY KEY,
    subject    text COLLATE "C" NOT NULL,
    list_kind  smallint NOT NULL,
    status     smallint NOT NULL,
    listed_by  bytea    NOT NULL,
    tx_hash    bytea    NOT NULL,
    height     bigint   NOT NULL,
    listed_at  bigint   NOT NULL,
    expires_at bigint   NOT NULL
);
CREATE INDEX list_entries_by_subject ON list_entries (subject, height, entry_id);

CREATE TABLE memoranda (
    memorandum_id text COLLATE "C" PRIMARY KEY,
    title         text   NOT NULL,
    publisher     bytea  NOT NULL,
    tx_hash       bytea  NOT NULL,
    height        bigint NOT NULL,
    rules         bytea  NOT NULL
);

CREATE TABLE measure_applications (
    application_id text COLLATE "C" PRIMARY KEY,
    memorandum_id  text COLLATE "C" NOT NULL,
    entry_id       text COLLATE "C" NOT NULL,
    subject        text COLLATE "C" NOT NULL,
    measure        smallint NOT NULL,
    outcome        smallint NOT NULL,
    implementer    bytea    NOT NULL,
    tx_hash        bytea    NOT NULL,
    height         bigint   NOT NULL
);
CREATE INDEX measure_applications_by_subject ON measure_applications (subject, height, application_id);
CREATE INDEX measure_applications_by_memorandum ON measure_applications (memorandum_id, height, application_id);

-- The hash-chained access log (see AccessLogChain); rows are only ever inserted.
CREATE TABLE access_log (
    sequence       bigint PRIMARY KEY CHECK (sequence >= 0),
    requester      bytea  NOT NULL,
    method         text   NOT NULL,
    subject        text   NOT NULL,
    timestamp_ms   bigint NOT NULL,
    request_digest bytea  NOT NULL,
    signature      bytea  NOT NULL,
    previous_hash  bytea  NOT NULL,
    entry_hash     bytea  NOT NULL
);
