-- GDPR/CCPA data requests (SPEC §10). A request outlives its customer (no foreign key to
-- customers): after an erasure it is the proof, holding no personal data — its reason is
-- cleared — but a keyed hash of the email the customer had.
CREATE TABLE data_requests (
    store_id         uuid        NOT NULL,
    id               uuid        NOT NULL,
    customer_id      uuid        NOT NULL,
    kind             text        NOT NULL,
    format           text,
    status           text        NOT NULL DEFAULT 'PENDING',
    reason           text,
    notify_customer  boolean     NOT NULL DEFAULT false,
    email_hash       text,
    job_id           uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    completed_at     timestamptz,
    CONSTRAINT data_requests_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT data_requests_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT data_requests_kind_check CHECK (kind IN ('ERASURE', 'EXPORT')),
    CONSTRAINT data_requests_format_check CHECK ((kind = 'EXPORT') = (format IN ('JSON', 'CSV'))),
    CONSTRAINT data_requests_status_check CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    CONSTRAINT data_requests_reason_length CHECK (char_length(reason) <= 500)
);
-- one open request per customer and kind
CREATE UNIQUE INDEX data_requests_open_key ON data_requests (store_id, customer_id, kind) WHERE status IN ('PENDING', 'PROCESSING');
CREATE INDEX data_requests_created_at_idx ON data_requests (store_id, created_at, id);
CREATE INDEX data_requests_customer_idx ON data_requests (store_id, customer_id, created_at);
