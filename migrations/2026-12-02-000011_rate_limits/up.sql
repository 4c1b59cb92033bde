-- Per-key rate limiting by query cost (a leaky bucket per key, Shopify's model), a store's own
-- bucket settings, and keys that may not introspect the schema.

ALTER TABLE stores
    -- NULL: the server's defaults (WHALE_RATE_LIMIT_BUCKET, WHALE_RATE_LIMIT_RESTORE).
    ADD COLUMN rate_limit_bucket  integer,
    ADD COLUMN rate_limit_restore integer,
    ADD CONSTRAINT stores_rate_limit_bucket_positive CHECK (rate_limit_bucket IS NULL OR rate_limit_bucket > 0),
    ADD CONSTRAINT stores_rate_limit_restore_positive CHECK (rate_limit_restore IS NULL OR rate_limit_restore > 0);

ALTER TABLE api_keys
    ADD COLUMN introspection boolean NOT NULL DEFAULT true;

-- One bucket per key: the points it had at `updated_at` (it refills at the store's restore rate
-- up to its size). UNLOGGED: written on every request, so it skips the WAL; after a crash the
-- table is empty and every bucket starts full again, which is harmless.
CREATE UNLOGGED TABLE rate_limit_buckets (
    store_id   uuid             NOT NULL,
    key_id     uuid             NOT NULL,
    available  double precision NOT NULL,
    updated_at timestamptz      NOT NULL,
    -- Whether the last request that touched the bucket was let through.
    granted    boolean          NOT NULL,
    CONSTRAINT rate_limit_buckets_pkey PRIMARY KEY (store_id, key_id)
);

-- The points a bucket holds now: what it had, refilled since at `rate` a second, up to `size`.
CREATE FUNCTION rate_limit_level(available float8, since timestamptz, size float8, rate float8) RETURNS float8
    LANGUAGE sql STABLE AS $$ SELECT least(size, available + rate * extract(epoch FROM now() - since)::float8) $$;

-- Takes `cost` points from a key's bucket if it holds them (a missing bucket is full); returns
-- what it holds afterwards and whether the points were taken. One statement, under the row's
-- lock, so concurrent requests of one key (on any instance) are counted exactly.
CREATE FUNCTION rate_limit_take(p_store uuid, p_key uuid, p_size float8, p_rate float8, p_cost float8)
    RETURNS TABLE (available float8, granted boolean)
    LANGUAGE sql AS $$
    INSERT INTO rate_limit_buckets AS b (store_id, key_id, available, updated_at, granted)
    VALUES (p_store, p_key, CASE WHEN p_cost <= p_size THEN p_size - p_cost ELSE p_size END, now(), p_cost <= p_size)
    ON CONFLICT (store_id, key_id) DO UPDATE SET
        available = CASE WHEN rate_limit_level(b.available, b.updated_at, p_size, p_rate) >= p_cost
                         THEN rate_limit_level(b.available, b.updated_at, p_size, p_rate) - p_cost
                         ELSE rate_limit_level(b.available, b.updated_at, p_size, p_rate) END,
        granted = rate_limit_level(b.available, b.updated_at, p_size, p_rate) >= p_cost,
        updated_at = now()
    RETURNING b.available, b.granted
$$;

-- Gives points back to buckets (what requests were charged beyond what they cost), up to size.
CREATE FUNCTION rate_limit_refund(p_stores uuid[], p_keys uuid[], p_points float8[], p_sizes float8[]) RETURNS void
    LANGUAGE sql AS $$
    UPDATE rate_limit_buckets b SET available = least(v.size, b.available + v.points)
    FROM unnest(p_stores, p_keys, p_points, p_sizes) AS v(store_id, key_id, points, size)
    WHERE b.store_id = v.store_id AND b.key_id = v.key_id
$$;
