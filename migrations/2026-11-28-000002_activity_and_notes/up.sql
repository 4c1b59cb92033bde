-- The activity timeline and notes.
--
-- activity_events is hash-partitioned by store_id into 16 partitions: every query names one
-- store, so it touches one partition (smaller indexes, vacuum per partition, and a store stays the
-- unit of distribution). A customer's timeline is one range scan of
-- activity_events_timeline_idx; store-wide time windows (segment conditions such as "opened a
-- campaign in the last 30 days") use the BRIN index on occurred_at, which costs almost nothing
-- to keep because events arrive roughly in time order.

CREATE TABLE activity_events (
    store_id     uuid        NOT NULL,
    id           uuid        NOT NULL,
    customer_id  uuid        NOT NULL,
    event_type   text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    title        text        NOT NULL,
    -- Minor units of the store's currency (orders and custom events only).
    amount       bigint,
    -- The caller's id for the event: recording it again is a no-op.
    external_id  text,
    order_id     text,
    campaign_id  text,
    referrer     text,
    agent        text,
    properties   jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activity_events_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT activity_events_customer_fkey FOREIGN KEY (store_id, customer_id)
        REFERENCES customers (store_id, id) ON DELETE CASCADE,
    CONSTRAINT activity_events_external_id_key UNIQUE (store_id, external_id),
    CONSTRAINT activity_events_type_check
        CHECK (event_type IN ('ORDER', 'EMAIL', 'PAGE_VIEW', 'SUPPORT', 'CUSTOM')),
    CONSTRAINT activity_events_order_amount CHECK (event_type <> 'ORDER' OR amount >= 0),
    CONSTRAINT activity_events_properties_object CHECK (jsonb_typeof(properties) = 'object')
) PARTITION BY HASH (store_id);

CREATE TABLE activity_events_p00 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE activity_events_p01 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE activity_events_p02 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE activity_events_p03 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE activity_events_p04 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE activity_events_p05 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE activity_events_p06 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE activity_events_p07 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE activity_events_p08 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE activity_events_p09 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE activity_events_p10 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE activity_events_p11 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE activity_events_p12 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE activity_events_p13 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE activity_events_p14 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE activity_events_p15 PARTITION OF activity_events FOR VALUES WITH (MODULUS 16, REMAINDER 15);

CREATE INDEX activity_events_timeline_idx
    ON activity_events (store_id, customer_id, occurred_at DESC, id DESC);
CREATE INDEX activity_events_occurred_brin ON activity_events USING brin (store_id, occurred_at);

CREATE TABLE customer_notes (
    store_id     uuid        NOT NULL,
    id           uuid        NOT NULL,
    customer_id  uuid        NOT NULL,
    body         text        NOT NULL,
    author       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_notes_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT customer_notes_customer_fkey FOREIGN KEY (store_id, customer_id)
        REFERENCES customers (store_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_notes_body_length CHECK (char_length(body) BETWEEN 1 AND 10000)
);

CREATE INDEX customer_notes_timeline_idx ON customer_notes (store_id, customer_id, created_at DESC, id DESC);
