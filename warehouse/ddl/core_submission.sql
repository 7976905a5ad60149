-- core.submission: every file received, with its outcome. Grain: one row per received file.
-- seq orders submissions by arrival; later beats earlier for the same unit and report date.
CREATE TABLE IF NOT EXISTS core.submission (
    submission_id VARCHAR PRIMARY KEY,
    seq           BIGINT NOT NULL,
    unit_code     VARCHAR NOT NULL,
    report_date   DATE,
    received_at   TIMESTAMP NOT NULL,  -- Asia/Shanghai wall time
    file_name     VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    outcome       VARCHAR NOT NULL,    -- accepted | partial | returned | duplicate
    rows_total    INTEGER NOT NULL,
    rows_accepted INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    archive_path  VARCHAR NOT NULL,    -- the received bytes, kept for replay and annotated returns
    claim_key     VARCHAR,             -- which drop: unit / arrival time / file name (resuming a killed run)
    batch_id      VARCHAR,             -- the files judged together (replay judges them together again)
    internal_error VARCHAR             -- traceback of a failure of ours that kept the file out (for the office)
);
