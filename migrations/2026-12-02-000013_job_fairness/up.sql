-- Fair background work. Every job belongs to a lane, chosen by its kind: data requests
-- (erasures, exports and their expiry), maintenance (refits, enrichment) and webhooks. Workers
-- serve the lanes in that order and keep each later lane from taking every worker, so a data request
-- never waits behind a webhook delivery. Within a lane the next job comes from the store served
-- least recently (its turn row below), not from the oldest job in the whole queue, and a store
-- has at most a few jobs of one lane running at once, so one store's backlog or slow webhook
-- receiver delays only that store.
ALTER TABLE jobs ADD COLUMN lane text NOT NULL DEFAULT 'maintenance';
UPDATE jobs SET lane = CASE
    WHEN kind = 'webhook.deliver' THEN 'webhooks'
    WHEN kind IN ('data_request.erasure', 'data_request.export', 'data_export.expire') THEN 'data_requests'
    ELSE 'maintenance'
END;
ALTER TABLE jobs ALTER COLUMN lane DROP DEFAULT;
ALTER TABLE jobs ADD CONSTRAINT jobs_lane_length CHECK (char_length(lane) BETWEEN 1 AND 200);

-- a store's due jobs of a lane in order, and its running ones (for its limit and taken-over leases)
CREATE INDEX jobs_due_idx ON jobs (store_id, lane, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_running_idx ON jobs (store_id, lane, locked_until) WHERE state = 'running';
-- the single global queue order is no longer used
DROP INDEX jobs_ready_idx;

-- One row per store and lane that has had jobs: when the lane last served the store. A claim
-- locks the row (FOR UPDATE SKIP LOCKED), so claims for one store and lane never run at once
-- and its running count is exact, and moves it to the back of the lane's round.
CREATE TABLE job_turns (
    lane       text        NOT NULL,
    store_id   uuid        NOT NULL,
    served_at  timestamptz NOT NULL DEFAULT '-infinity',
    CONSTRAINT job_turns_pkey PRIMARY KEY (lane, store_id),
    CONSTRAINT job_turns_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE
);
CREATE INDEX job_turns_round_idx ON job_turns (lane, served_at);
INSERT INTO job_turns (lane, store_id) SELECT DISTINCT lane, store_id FROM jobs WHERE state IN ('queued', 'running');

-- A writer that does not name the lane (a server of the version before this one, during a
-- rolling upgrade) still queues jobs that are claimed: the lane is chosen by the kind, and the
-- store's turn row made if it is missing.
CREATE FUNCTION jobs_lane_by_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.lane IS NULL THEN
        NEW.lane := CASE
            WHEN NEW.kind = 'webhook.deliver' THEN 'webhooks'
            WHEN NEW.kind IN ('data_request.erasure', 'data_request.export', 'data_export.expire') THEN 'data_requests'
            ELSE 'maintenance'
        END;
        INSERT INTO job_turns (lane, store_id) VALUES (NEW.lane, NEW.store_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER jobs_lane_by_kind BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_lane_by_kind();
