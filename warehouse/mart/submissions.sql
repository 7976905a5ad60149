-- mart.submissions: every file received and what became of it. Grain: one row per received file.
CREATE OR REPLACE VIEW mart.submissions AS
SELECT
    submission_id, unit_code, report_date, received_at, file_name, sha256, outcome,
    rows_total, rows_accepted, rows_rejected
FROM core.submission;
