-- mart.procedure_changes: what each accepted report changed against the same unit's previous
-- report of that procedure (status, promised or completed date), and when it arrived.
-- Grain: one row per changed version (a first report counts as a change from nothing).
-- Columns:
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- source_unit: code of the unit that reported it (the project's county/park or the approving bureau)
-- report_date: report date of the report that made the change
-- received_at: when the file arrived (Asia/Shanghai wall time)
-- submission_id: the submission (received file) it came from, see mart.submissions
-- previous_report_date: report date of the same unit's previous report of the procedure (NULL: first report)
-- previous_status: status before (办理状态)
-- status: status reported (待办 | 正办理 | 已办结)
-- previous_promised_date: promised completion date before
-- promised_date: promised completion date reported (承诺办结日期)
-- previous_completed_date: completion date before
-- completed_date: completion date reported (办结日期)
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
