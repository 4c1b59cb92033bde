-- Segments (SPEC §8): dynamic ones keep their rule tree (evaluated on read); static ones list
-- their members. Deleting a customer removes it from every static segment.
CREATE TABLE segments (
    store_id     uuid        NOT NULL,
    id           uuid        NOT NULL,
    name         text        NOT NULL,
    kind         text        NOT NULL,
    rules        jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT segments_pkey PRIMARY KEY (store_id, id),
    CONSTRAINT segments_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT segments_name_length CHECK (char_length(name) BETWEEN 1 AND 255),
    CONSTRAINT segments_kind_check CHECK (kind IN ('DYNAMIC', 'STATIC')),
    CONSTRAINT segments_rules_for_dynamic CHECK ((kind = 'DYNAMIC') = (rules IS NOT NULL))
);
CREATE INDEX segments_created_at_idx ON segments (store_id, created_at, id);

CREATE TABLE segment_members (
    store_id     uuid        NOT NULL,
    segment_id   uuid        NOT NULL,
    customer_id  uuid        NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT segment_members_pkey PRIMARY KEY (store_id, segment_id, customer_id),
    CONSTRAINT segment_members_segment_fkey FOREIGN KEY (store_id, segment_id)
        REFERENCES segments (store_id, id) ON DELETE CASCADE,
    CONSTRAINT segment_members_customer_fkey FOREIGN KEY (store_id, customer_id)
        REFERENCES customers (store_id, id) ON DELETE CASCADE
);
CREATE INDEX segment_members_customer_idx ON segment_members (store_id, customer_id);
