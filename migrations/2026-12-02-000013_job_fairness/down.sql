DROP TRIGGER jobs_lane_by_kind ON jobs;
DROP FUNCTION jobs_lane_by_kind();
DROP TABLE job_turns;
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE state = 'queued';
DROP INDEX jobs_running_idx;
DROP INDEX jobs_due_idx;
ALTER TABLE jobs DROP CONSTRAINT jobs_lane_length;
ALTER TABLE jobs DROP COLUMN lane;
