-- Metrics (SPEC §7): the per-customer inputs of the buy-till-you-die models, kept exact by
-- recomputing a customer's order aggregates from its ORDER events whenever orders arrive; the
-- store's RFM breakpoints; and the store's fitted model.

ALTER TABLE customers
    -- Distinct UTC calendar days with at least one order (same-day orders are one purchase).
    ADD COLUMN order_days integer NOT NULL DEFAULT 0,
    -- Amount spent on the first purchase day (minor units): repeat spend = total_spent - this.
    ADD COLUMN first_day_spent bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT customers_order_days_nonnegative CHECK (order_days >= 0);

-- Quintile breakpoints among the store's customers with at least one order, refreshed in the
-- background. A customer's scores come from its own values and these.
CREATE TABLE rfm_breakpoints (
    store_id        uuid        NOT NULL,
    -- 20th, 40th, 60th and 80th percentiles (discrete) of last_order_at, total_orders and
    -- total_spent.
    recency         timestamptz[] NOT NULL,
    frequency       integer[]   NOT NULL,
    monetary        bigint[]    NOT NULL,
    customers       integer     NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rfm_breakpoints_pkey PRIMARY KEY (store_id),
    CONSTRAINT rfm_breakpoints_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT rfm_breakpoints_four_each CHECK (
        cardinality(recency) = 4 AND cardinality(frequency) = 4 AND cardinality(monetary) = 4)
);

-- The store's BG/NBD and Gamma-Gamma fit, with the data it came from and how it went.
CREATE TABLE metrics_models (
    store_id            uuid        NOT NULL,
    -- BG/NBD (alpha in days).
    bgnbd_r             double precision,
    bgnbd_alpha         double precision,
    bgnbd_a             double precision,
    bgnbd_b             double precision,
    bgnbd_log_likelihood double precision,
    bgnbd_iterations    integer,
    bgnbd_converged     boolean     NOT NULL DEFAULT false,
    -- Gamma-Gamma.
    gamma_gamma_p       double precision,
    gamma_gamma_q       double precision,
    gamma_gamma_v       double precision,
    gamma_gamma_converged boolean   NOT NULL DEFAULT false,
    -- What the fit used.
    customers_used      integer     NOT NULL DEFAULT 0,
    repeat_customers_used integer   NOT NULL DEFAULT 0,
    orders_used         bigint      NOT NULL DEFAULT 0,
    observed_until      date,
    fit_duration_ms     integer,
    fitted_at           timestamptz,
    -- Why the closed forms are not used yet, when they are not.
    fallback_reason     text,
    CONSTRAINT metrics_models_pkey PRIMARY KEY (store_id),
    CONSTRAINT metrics_models_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE
);
