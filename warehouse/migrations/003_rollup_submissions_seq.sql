-- Version 3: each day's rollup remembers the last submission it saw, so a late or corrected file
-- for an earlier report date marks that day (and the days after it) as stale.
ALTER TABLE rollup.rollup_run ADD COLUMN IF NOT EXISTS submissions_seq BIGINT;
