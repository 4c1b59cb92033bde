-- Enrichment: facts derived from a customer's profile (written with it, in its transaction) and
-- from their timeline (recomputed by a job after new events: `behaviour_version` counts the
-- changes, `behaviour_computed` the one the facts reflect).
CREATE TABLE customer_enrichment (
    store_id             uuid        NOT NULL,
    customer_id          uuid        NOT NULL,
    phone_e164           text,
    phone_country        text,
    phone_line_type      text,
    phone_valid          boolean,
    email_normalized     text        NOT NULL,
    email_domain         text        NOT NULL,
    free_email_provider  boolean     NOT NULL,
    disposable_email     boolean     NOT NULL,
    role_account         boolean     NOT NULL,
    company_domain       text,
    country              text,
    region               text,
    time_zone            text,
    preferred_channel    text,
    most_active_hour     integer,
    most_active_weekday  integer,
    last_seen_at         timestamptz,
    behaviour_version    bigint      NOT NULL DEFAULT 1,
    behaviour_computed   bigint      NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_enrichment_pkey PRIMARY KEY (store_id, customer_id),
    CONSTRAINT customer_enrichment_customer_fkey FOREIGN KEY (store_id, customer_id)
        REFERENCES customers (store_id, id) ON DELETE CASCADE,
    CONSTRAINT customer_enrichment_hour_check CHECK (most_active_hour BETWEEN 0 AND 23),
    CONSTRAINT customer_enrichment_weekday_check CHECK (most_active_weekday BETWEEN 1 AND 7)
);
-- what the behaviour job has left to do
CREATE INDEX customer_enrichment_stale_idx ON customer_enrichment (store_id) WHERE behaviour_version > behaviour_computed;
CREATE INDEX customer_enrichment_company_idx ON customer_enrichment (store_id, company_domain) WHERE company_domain IS NOT NULL;
