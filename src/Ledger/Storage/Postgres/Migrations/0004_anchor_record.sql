-- SmartCity.Ledger PostgreSQL store, schema version 4: what the node's AnchorJob anchored on an EVM chain
-- (docs/anchoring.md, "The AnchorJob"), so a restarted node resumes without re-anchoring.

-- One row per checkpoint this node saw confirmed in a CheckpointAnchor contract (lower-case address).
CREATE TABLE anchor_record (
    contract         text        NOT NULL,
    height           bigint      NOT NULL,
    header_hash      text        NOT NULL,
    transaction_hash text        NOT NULL,
    evm_block        bigint      NOT NULL,
    anchored_at      timestamptz NOT NULL,
    PRIMARY KEY (contract, height)
);

-- The anchor sent and not yet confirmed, per contract: followed after a restart instead of sending another.
CREATE TABLE anchor_pending (
    contract         text        PRIMARY KEY,
    height           bigint      NOT NULL,
    header_hash      text        NOT NULL,
    transaction_hash text        NOT NULL,
    nonce            text        NOT NULL,
    sent_at          timestamptz NOT NULL
);
