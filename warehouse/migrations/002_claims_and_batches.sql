-- Version 2: submissions remember which drop they were (claim_key) and which files were judged
-- together (batch_id), so a killed run can be resumed and the history replayed.
ALTER TABLE core.submission ADD COLUMN IF NOT EXISTS claim_key VARCHAR;
ALTER TABLE core.submission ADD COLUMN IF NOT EXISTS batch_id VARCHAR;
