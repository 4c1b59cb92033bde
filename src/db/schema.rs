// @generated-compatible: written to match `migrations/` (what `diesel print-schema` would emit,
// with `tags` as `Array<Text>` since the column is `text[] NOT NULL` of non-null elements).

diesel::table! {
    stores (id) {
        id -> Uuid,
        name -> Text,
        currency -> Text,
        created_at -> Timestamptz,
        rate_limit_bucket -> Nullable<Int4>,
        rate_limit_restore -> Nullable<Int4>,
    }
}

diesel::table! {
    api_keys (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        name -> Text,
        prefix -> Text,
        secret_hash -> Bytea,
        read_only -> Bool,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        introspection -> Bool,
    }
}

diesel::table! {
    customers (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        email -> Text,
        email_lower -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        phone_digits -> Nullable<Text>,
        search_text -> Text,
        tags -> Array<Text>,
        metadata -> Jsonb,
        total_orders -> Int4,
        total_spent -> Int8,
        first_order_at -> Nullable<Timestamptz>,
        last_order_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        order_days -> Int4,
        first_day_spent -> Int8,
    }
}

diesel::table! {
    customer_addresses (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        position -> Int2,
        is_default -> Bool,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        company -> Nullable<Text>,
        line1 -> Nullable<Text>,
        line2 -> Nullable<Text>,
        city -> Nullable<Text>,
        state -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        country -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    activity_events (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        event_type -> Text,
        occurred_at -> Timestamptz,
        title -> Text,
        amount -> Nullable<Int8>,
        external_id -> Nullable<Text>,
        order_id -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        referrer -> Nullable<Text>,
        agent -> Nullable<Text>,
        properties -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    customer_notes (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        body -> Text,
        author -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    rfm_breakpoints (store_id) {
        store_id -> Uuid,
        recency -> Array<Timestamptz>,
        frequency -> Array<Int4>,
        monetary -> Array<Int8>,
        customers -> Int4,
        computed_at -> Timestamptz,
    }
}

diesel::table! {
    metrics_models (store_id) {
        store_id -> Uuid,
        bgnbd_r -> Nullable<Float8>,
        bgnbd_alpha -> Nullable<Float8>,
        bgnbd_a -> Nullable<Float8>,
        bgnbd_b -> Nullable<Float8>,
        bgnbd_log_likelihood -> Nullable<Float8>,
        bgnbd_iterations -> Nullable<Int4>,
        bgnbd_converged -> Bool,
        gamma_gamma_p -> Nullable<Float8>,
        gamma_gamma_q -> Nullable<Float8>,
        gamma_gamma_v -> Nullable<Float8>,
        gamma_gamma_converged -> Bool,
        customers_used -> Int4,
        repeat_customers_used -> Int4,
        orders_used -> Int8,
        observed_until -> Nullable<Date>,
        fit_duration_ms -> Nullable<Int4>,
        fitted_at -> Nullable<Timestamptz>,
        fallback_reason -> Nullable<Text>,
    }
}

diesel::table! {
    segments (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        name -> Text,
        kind -> Text,
        rules -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    segment_members (store_id, segment_id, customer_id) {
        store_id -> Uuid,
        segment_id -> Uuid,
        customer_id -> Uuid,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    jobs (id) {
        id -> Uuid,
        store_id -> Uuid,
        kind -> Text,
        payload -> Jsonb,
        dedupe_key -> Nullable<Text>,
        state -> Text,
        attempts -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        lane -> Text,
    }
}

diesel::table! {
    job_turns (lane, store_id) {
        lane -> Text,
        store_id -> Uuid,
        served_at -> Timestamptz,
    }
}

diesel::table! {
    data_requests (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        kind -> Text,
        format -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        notify_customer -> Bool,
        email_hash -> Nullable<Text>,
        job_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    data_exports (store_id, request_id) {
        store_id -> Uuid,
        request_id -> Uuid,
        customer_id -> Uuid,
        content_type -> Text,
        filename -> Text,
        content -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        url -> Text,
        events -> Array<Text>,
        description -> Nullable<Text>,
        secret -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (store_id, id) {
        store_id -> Uuid,
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        customer_id -> Nullable<Uuid>,
        payload -> Text,
        status -> Text,
        attempts -> Int4,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Text>,
        last_error -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamptz>,
        job_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    customer_enrichment (store_id, customer_id) {
        store_id -> Uuid,
        customer_id -> Uuid,
        phone_e164 -> Nullable<Text>,
        phone_country -> Nullable<Text>,
        phone_line_type -> Nullable<Text>,
        phone_valid -> Nullable<Bool>,
        email_normalized -> Text,
        email_domain -> Text,
        free_email_provider -> Bool,
        disposable_email -> Bool,
        role_account -> Bool,
        company_domain -> Nullable<Text>,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        preferred_channel -> Nullable<Text>,
        most_active_hour -> Nullable<Int4>,
        most_active_weekday -> Nullable<Int4>,
        last_seen_at -> Nullable<Timestamptz>,
        behaviour_version -> Int8,
        behaviour_computed -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (store_id, key) {
        store_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        state -> Text,
        locked_until -> Nullable<Timestamptz>,
        status -> Nullable<Int2>,
        content_type -> Nullable<Text>,
        response -> Nullable<Text>,
        customer_ids -> Array<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(api_keys -> stores (store_id));
diesel::allow_tables_to_appear_in_same_query!(
    stores,
    idempotency_keys,
    api_keys,
    customers,
    customer_addresses,
    activity_events,
    customer_notes,
    rfm_breakpoints,
    metrics_models,
    segments,
    segment_members,
    jobs,
    job_turns,
    data_requests,
    data_exports,
    webhook_endpoints,
    webhook_deliveries,
    customer_enrichment
);
