-- Webhooks (SPEC §10): a store's endpoints, and the log of every event delivered to them. A
-- delivery is sent by a job (`webhook.deliver`) queued in the transaction of the write that
-- caused the event, and retried with backoff for about a day.
CREATE TABLE webhook_endpoints (
    store_id     uuid        NOT NULL,
    id           uuid        NOT NULL,
    url          text        NOT NULL,
    -- the event types it receives, e.g. {customer.created,data_request.completed}
    events       text[]      NOT NULL,
    description  text,
    -- the signing secret: shown once, at creation; kept to sign every delivery
    secret       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT webhook_endpoints_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) >= 1),
    CONSTRAINT webhook_endpoints_url_length CHECK (char_length(url) <= 2048),
    CONSTRAINT webhook_endpoints_description_length CHECK (char_length(description) <= 500)
);

-- The delivery log: one row per event and endpoint. `customer_id` names whom the payload is
-- about, so an erasure can delete every payload that holds their data.
CREATE TABLE webhook_deliveries (
    store_id         uuid        NOT NULL,
    id               uuid        NOT NULL,
    endpoint_id      uuid        NOT NULL,
    -- the same for every endpoint the event went to (receivers deduplicate on it)
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    customer_id      uuid,
    -- the event as JSON, exactly as signed and sent
    payload          text        NOT NULL,
    status           text        NOT NULL DEFAULT 'PENDING',
    attempts         integer     NOT NULL DEFAULT 0,
    response_status  integer,
    response_body    text,
    last_error       text,
    last_attempt_at  timestamptz,
    job_id           uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT webhook_deliveries_endpoint_fkey FOREIGN KEY (store_id, endpoint_id)
        REFERENCES webhook_endpoints (store_id, id) ON DELETE CASCADE,
    CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED'))
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (store_id, endpoint_id, created_at, id);
-- finished deliveries are pruned after 30 days
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'PENDING';
CREATE INDEX webhook_deliveries_customer_idx ON webhook_deliveries (store_id, customer_id) WHERE customer_id IS NOT NULL;
