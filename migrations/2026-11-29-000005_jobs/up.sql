-- Durable background jobs. A job is enqueued in the transaction of the write that causes it,
-- claimed by one worker with FOR UPDATE SKIP LOCKED under a lease the worker keeps renewing; a
-- job whose lease ran out (its worker died) is claimed again. Failures retry with backoff until
-- max_attempts, then the job is 'failed' for good. Finished jobs are pruned after a week.
CREATE TABLE jobs (
    id            uuid        NOT NULL,
    store_id      uuid        NOT NULL,
    kind          text        NOT NULL,
    payload       jsonb       NOT NULL DEFAULT '{}',
    -- at most one queued job per (store, kind, dedupe_key)
    dedupe_key    text,
    state         text        NOT NULL DEFAULT 'queued',
    attempts      integer     NOT NULL DEFAULT 0,
    max_attempts  integer     NOT NULL,
    run_at        timestamptz NOT NULL DEFAULT now(),
    locked_by     text,
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    CONSTRAINT jobs_pkey PRIMARY KEY (id),
    CONSTRAINT jobs_store_fkey FOREIGN KEY (store_id) REFERENCES stores (id) ON DELETE CASCADE,
    CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT jobs_attempts_check CHECK (max_attempts >= 1 AND attempts >= 0),
    CONSTRAINT jobs_lease_check CHECK ((state = 'running') = (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE state IN ('succeeded', 'failed');
CREATE INDEX jobs_store_idx ON jobs (store_id, kind, created_at);
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (store_id, kind, dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL;
