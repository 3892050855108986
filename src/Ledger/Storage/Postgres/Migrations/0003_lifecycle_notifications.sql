-- SmartCity.Ledger PostgreSQL store, schema version 3: the credit lifecycle job's notifications (docs/jobs.md,
-- "CreditLifecycleJob"). Not ledger state: what the node's job derived from the certified state and its clock.
-- A notification is written once: its key (kind | record | objection | due time) is unique.
CREATE TABLE lifecycle_notification (
    sequence     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          text        NOT NULL UNIQUE,
    kind         text        NOT NULL,
    subject      text        NOT NULL,
    record_id    text        NOT NULL,
    objection_id text        NOT NULL,
    designator   text        NOT NULL,
    due_at       timestamptz NOT NULL,
    height       bigint      NOT NULL,
    noted_at     timestamptz NOT NULL
);
CREATE INDEX lifecycle_notification_by_designator ON lifecycle_notification (lower(designator), sequence);
