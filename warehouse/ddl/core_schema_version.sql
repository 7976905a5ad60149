-- core.schema_version: the warehouse schema versions applied to this file (see warehouse/migrations/).
-- Grain: one row per version. A file without this table is version 1.
CREATE TABLE IF NOT EXISTS core.schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMP NOT NULL
);
