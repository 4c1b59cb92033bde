-- Foundation: stores, their API keys, customers and customer addresses.
-- Every primary key, unique key and index leads with store_id so a store is the unit of
-- distribution. The one exception is api_keys_prefix_key: a request names its key before
-- anyone knows its store.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE stores (
    id          uuid        NOT NULL,
    name        text        NOT NULL,
    currency    text        NOT NULL DEFAULT 'USD',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stores_pkey PRIMARY KEY (id),
    CONSTRAINT stores_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
    CONSTRAINT stores_currency_format CHECK (currency ~ '^[A-Z]{3}$')
);

CREATE TABLE api_keys (
    store_id     uuid        NOT NULL,
    id           uuid        NOT NULL,
    name         text        NOT NULL,
    -- The first characters of the secret part, shown in listings and used to find the row.
    prefix       text        NOT NULL,
    -- SHA-256 of the whole key; the key itself is never stored.
    secret_hash  bytea       NOT NULL,
    read_only    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT api_keys_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    CONSTRAINT api_keys_hash_length CHECK (octet_length(secret_hash) = 32)
);

CREATE TABLE customers (
    store_id        uuid        NOT NULL,
    id              uuid        NOT NULL,
    email           text        NOT NULL,
    email_lower     text        NOT NULL GENERATED ALWAYS AS (lower(email)) STORED,
    first_name      text,
    last_name       text,
    phone           text,
    phone_digits    text        GENERATED ALWAYS AS (nullif(regexp_replace(phone, '\D', '', 'g'), '')) STORED,
    -- What `customers(search:)` matches: names and email, lower-cased.
    search_text     text        NOT NULL GENERATED ALWAYS AS (
                        lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || email)
                    ) STORED,
    tags            text[]      NOT NULL DEFAULT '{}',
    metadata        jsonb       NOT NULL DEFAULT '{}',
    total_orders    integer     NOT NULL DEFAULT 0,
    -- Money in minor units (cents) of the store's currency: exact sums, no floating point.
    total_spent     bigint      NOT NULL DEFAULT 0,
    first_order_at  timestamptz,
    last_order_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT customers_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT customers_email_key UNIQUE (store_id, email_lower),
    CONSTRAINT customers_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    CONSTRAINT customers_totals_nonnegative CHECK (total_orders >= 0)
);

-- Keyset pagination: one index per sort key, ties broken by id.
CREATE INDEX customers_created_at_idx ON customers (store_id, created_at, id);
CREATE INDEX customers_updated_at_idx ON customers (store_id, updated_at, id);
CREATE INDEX customers_total_spent_idx ON customers (store_id, total_spent, id);
CREATE INDEX customers_total_orders_idx ON customers (store_id, total_orders, id);
CREATE INDEX customers_email_lower_idx ON customers (store_id, email_lower, id);
-- last_order_at is nullable and sorts nulls last both ways, so each direction has its index.
CREATE INDEX customers_last_order_at_asc_idx ON customers (store_id, last_order_at ASC NULLS LAST, id ASC);
CREATE INDEX customers_last_order_at_desc_idx ON customers (store_id, last_order_at DESC NULLS LAST, id DESC);
-- Substring search (LIKE '%q%') on names, email and phone digits; filters on tags and metadata.
CREATE INDEX customers_search_trgm_idx ON customers USING gin (store_id, search_text gin_trgm_ops);
CREATE INDEX customers_phone_trgm_idx ON customers USING gin (store_id, phone_digits gin_trgm_ops);
CREATE INDEX customers_tags_idx ON customers USING gin (store_id, tags);
CREATE INDEX customers_metadata_idx ON customers USING gin (store_id, metadata jsonb_path_ops);

CREATE TABLE customer_addresses (
    store_id     uuid        NOT NULL,
    id           uuid        NOT NULL,
    customer_id  uuid        NOT NULL,
    position     smallint    NOT NULL,
    is_default   boolean     NOT NULL DEFAULT false,
    first_name   text,
    last_name    text,
    company      text,
    line1        text,
    line2        text,
    city         text,
    state        text,
    postal_code  text,
    country      text,
    phone        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_addresses_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT customer_addresses_customer_fkey FOREIGN KEY (store_id, customer_id)
        REFERENCES customers (store_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_addresses_position_key UNIQUE (store_id, customer_id, position),
    CONSTRAINT customer_addresses_country_format CHECK (country ~ '^[A-Z]{2}$')
);

CREATE UNIQUE INDEX customer_addresses_one_default_key
    ON customer_addresses (store_id, customer_id) WHERE is_default;
CREATE INDEX customer_addresses_country_idx ON customer_addresses (store_id, country, state, city);
