-- mart.submissions: every file received and what became of it. Grain: one row per received file.
-- Columns:
-- submission_id: the submission's id: S<6-digit arrival sequence>-<unit code>-<first 8 hex digits of sha256>
-- unit_code: code of the unit whose inbox folder the file came in
-- report_date: the report date the file is for (填报日期); NULL when it could not be told
-- received_at: when the file arrived (Asia/Shanghai wall time)
-- file_name: the file's name as the unit sent it
-- sha256: SHA-256 of the file's bytes (hex)
-- outcome: accepted | partial (some rows returned) | returned (the whole file) | duplicate (same bytes as an
--     earlier file)
-- rows_total: data rows read
-- rows_accepted: of them accepted
-- rows_returned: of them returned to the unit (退回)
-- rows_rejected: DEPRECATED alias of rows_returned (the same value), kept for one release (0.1.x) and removed in
--     the next: read rows_returned
CREATE OR REPLACE VIEW mart.submissions AS
SELECT
    submission_id, unit_code, report_date, received_at, file_name, sha256, outcome,
    rows_total, rows_accepted, rows_rejected AS rows_returned,
    rows_rejected  -- deprecated alias of rows_returned, for one release
FROM core.submission;
