-- Export archives (SPEC §10), kept in the database (durable, transactional, erased with the
-- customer's data) until they expire; a job deletes each when it does.
CREATE TABLE data_exports (
    store_id      uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    customer_id   uuid        NOT NULL,
    content_type  text        NOT NULL,
    filename      text        NOT NULL,
    content       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CONSTRAINT data_exports_pkey PRIMARY KEY (store_id, request_id),
    CONSTRAINT data_exports_request_fkey FOREIGN KEY (store_id, request_id)
        REFERENCES data_requests (store_id, id) ON DELETE CASCADE
);
-- a download link names the request alone (its signature is the credential)
CREATE UNIQUE INDEX data_exports_request_key ON data_exports (request_id);
CREATE INDEX data_exports_customer_idx ON data_exports (store_id, customer_id);
