-- mart.procedure_changes: what each accepted report changed against the same unit's previous
-- report of that procedure (status, promised or completed date), and when it arrived.
-- Grain: one row per changed version (a first report counts as a change from nothing).
CREATE OR REPLACE VIEW mart.procedure_changes AS
WITH ordered AS (
    SELECT
        v.*, s.received_at,
        lag(v.status) OVER w AS previous_status,
        lag(v.promised_date) OVER w AS previous_promised_date,
        lag(v.completed_date) OVER w AS previous_completed_date,
        lag(v.report_date) OVER w AS previous_report_date
    FROM core.procedure_version AS v
    JOIN core.submission AS s USING (submission_id)
    WINDOW w AS (PARTITION BY v.project_code, v.procedure, v.source_unit ORDER BY v.report_date)
)
SELECT
    project_code, procedure, source_unit, report_date, received_at, submission_id,
    previous_report_date, previous_status, status, previous_promised_date, promised_date,
    previous_completed_date, completed_date
FROM ordered
WHERE previous_report_date IS NULL
   OR status IS DISTINCT FROM previous_status
   OR promised_date IS DISTINCT FROM previous_promised_date
   OR completed_date IS DISTINCT FROM previous_completed_date;
