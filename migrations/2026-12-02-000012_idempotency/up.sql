-- Idempotency keys (Stripe's rules): a mutation sent again with the same `Idempotency-Key` and
-- the same body gets the first response back for 24 hours instead of running twice.

CREATE TABLE idempotency_keys (
    store_id      uuid        NOT NULL,
    key           text        NOT NULL,
    -- SHA-256 of the request body: the same key with another body is a conflict.
    request_hash  bytea       NOT NULL,
    -- in_flight while the first request runs (until locked_until: a server that died lets go).
    state         text        NOT NULL DEFAULT 'in_flight',
    locked_until  timestamptz,
    status        smallint,
    content_type  text,
    response      text,
    -- Customers the request or response names: an erasure deletes the records about them.
    customer_ids  uuid[]      NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (store_id, key),
    CONSTRAINT idempotency_keys_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT idempotency_keys_state CHECK (state IN ('in_flight', 'done')),
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_hash_length CHECK (octet_length(request_hash) = 32),
    CONSTRAINT idempotency_keys_done CHECK (state = 'in_flight' OR (status IS NOT NULL AND response IS NOT NULL))
);
