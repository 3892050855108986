-- SmartCity.Ledger PostgreSQL store, schema version 2: the persisted state tree, so a node reopens at its head and
-- proves any retained state version without replaying history.

-- Content-addressed state-tree nodes of every retained version. created_height is the newest block that created
-- the node (a node can leave the state and be created again); pruning compares it with the height it went stale.
CREATE TABLE state_nodes (
    hash           bytea  PRIMARY KEY,
    node           bytea  NOT NULL,
    created_height bigint NOT NULL
);

-- Nodes of version stale_height - 1 that version stale_height no longer holds: what pruning deletes once the
-- retention floor passes stale_height (unless created again since).
CREATE TABLE state_stale_nodes (
    stale_height bigint NOT NULL,
    hash         bytea  NOT NULL
);
CREATE INDEX state_stale_nodes_by_height ON state_stale_nodes (stale_height);

-- State versions below retained_from have been pruned. One row.
CREATE TABLE state_retention (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    retained_from bigint  NOT NULL
);
INSERT INTO state_retention (singleton, retained_from) VALUES (true, 0);
