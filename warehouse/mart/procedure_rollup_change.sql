-- mart.procedure_rollup_change: mart.procedure_rollup beside the same unit and procedure on the
-- previous report date that has a rollup (mart.report_dates), and the change since then: what the
-- dispatch's headline shows. done_change and rate_change are NULL on the first report date.
-- Grain: as_of_date × unit × procedure (+ unit_code 'CITY').
-- Reads mart.procedure_rollup so the figures are the same ones; this file's name sorts after
-- procedure_rollup.sql, the order in which the views are created.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- unit_code: code of the projects' owning unit, or 'CITY' for the whole city
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- procedure_order: the procedure's place in the reference order (ref.procedure.sort_order): order procedures by it
-- required_count: campaign projects that require the procedure (应办)
-- done_count: of them done (已办结)
-- in_progress_count: of them in progress (正办理)
-- pending_count: of them not started (待办)
-- done_rate: share of required procedures done (办结率), done_count / required_count, 0–1; NULL when none is required
-- previous_as_of_date: the previous report date that has a rollup (NULL on the first)
-- previous_required_count: required_count on the previous report date
-- previous_done_count: done_count on the previous report date
-- previous_done_rate: done_rate on the previous report date, 0–1
-- done_change: done_count minus the previous one (a missing previous row counts 0); NULL on the first report date
-- rate_change: done_rate minus the previous one, in fractions of 1 (0.01 = one percentage point); NULL on the
--     first report date
CREATE OR REPLACE VIEW mart.procedure_rollup_change AS
WITH dates AS (
    SELECT as_of_date, lag(as_of_date) OVER (ORDER BY as_of_date) AS previous_as_of_date
    FROM rollup.rollup_run
)
SELECT
    today.as_of_date, today.unit_code, today.procedure, p.sort_order AS procedure_order,
    today.required_count, today.done_count, today.in_progress_count, today.pending_count, today.done_rate,
    d.previous_as_of_date,
    before.required_count AS previous_required_count,
    before.done_count AS previous_done_count,
    before.done_rate AS previous_done_rate,
    CASE WHEN d.previous_as_of_date IS NOT NULL
         THEN today.done_count - coalesce(before.done_count, 0) END AS done_change,
    CASE WHEN d.previous_as_of_date IS NOT NULL
         THEN today.done_rate - coalesce(before.done_rate, 0) END AS rate_change
FROM mart.procedure_rollup AS today
JOIN dates AS d USING (as_of_date)
LEFT JOIN mart.procedure_rollup AS before
    ON before.as_of_date = d.previous_as_of_date AND before.unit_code = today.unit_code
   AND before.procedure = today.procedure
LEFT JOIN ref.procedure AS p ON p.procedure = today.procedure;
