-- Version 7: a failure of ours while handling a file (not the unit's mistake) is kept with the
-- submission, traceback and all, for the data office.
ALTER TABLE core.submission ADD COLUMN IF NOT EXISTS internal_error VARCHAR;
