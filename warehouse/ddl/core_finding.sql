-- core.finding: what was wrong (error) or worth telling (warning) in a submission.
-- Grain: one row per finding; row_number is the spreadsheet row the person sees (NULL: whole file).
CREATE TABLE IF NOT EXISTS core.finding (
    submission_id VARCHAR NOT NULL,
    unit_code     VARCHAR NOT NULL,
    sheet         VARCHAR,
    row_number    INTEGER,
    column_name   VARCHAR,
    value         VARCHAR,
    rule          VARCHAR NOT NULL,
    message       VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,
    tab           VARCHAR,  -- the worksheet tab in the unit's own file
    cell          VARCHAR   -- e.g. D12
);
