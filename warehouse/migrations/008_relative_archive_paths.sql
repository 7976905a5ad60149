-- Version 8: a submission's archive_path is relative to the data directory (archive/<UNIT>/<sha256>.<ext>),
-- so a data directory restored or moved elsewhere can still be replayed. Absolute paths written by
-- earlier versions lose everything up to their last /archive/ (greedy: a data directory that itself
-- sits under a folder named archive keeps only its own archive/ part).
UPDATE core.submission
SET archive_path = regexp_replace(archive_path, '^.*/archive/', 'archive/')
WHERE archive_path LIKE '/%/archive/%';
