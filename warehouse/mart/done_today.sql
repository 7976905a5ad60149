-- mart.done_today: the procedures the dispatch reads out as done (销号) on a report date: required,
-- authoritatively 已办结, and either completed on that date (completed_on_report_date) or not yet
-- 已办结 on the previous report date that has a rollup (newly_done: e.g. a bureau reporting today a
-- completion of a few days ago). Includes non-campaign projects (is_campaign = false).
-- Grain: as_of_date × project × procedure.
CREATE OR REPLACE VIEW mart.done_today AS
WITH dates AS (
    SELECT as_of_date, lag(as_of_date) OVER (ORDER BY as_of_date) AS previous_as_of_date
    FROM rollup.rollup_run
)
SELECT
    s.as_of_date, d.previous_as_of_date, s.project_code, p.project_name, s.unit_code, u.unit_name,
    p.responsible_leader, s.procedure, rp.sort_order AS procedure_order, rp.owner_unit AS approving_unit,
    b.unit_name AS approving_unit_name, s.approval_level, s.promised_date, s.completed_date,
    s.approval_number, s.overdue_completion, s.authority,
    s.completed_date IS NOT DISTINCT FROM s.as_of_date AS completed_on_report_date,
    before.status IS NOT NULL AND before.status IS DISTINCT FROM '已办结' AS newly_done,
    s.is_campaign
FROM rollup.procedure_status AS s
JOIN dates AS d USING (as_of_date)
JOIN rollup.project_status AS p USING (as_of_date, project_code)
LEFT JOIN rollup.procedure_status AS before
    ON before.as_of_date = d.previous_as_of_date AND before.project_code = s.project_code
   AND before.procedure = s.procedure
LEFT JOIN ref.unit AS u ON u.unit_code = s.unit_code
LEFT JOIN ref.procedure AS rp ON rp.procedure = s.procedure
LEFT JOIN ref.unit AS b ON b.unit_code = rp.owner_unit
WHERE s.required AND s.status = '已办结'
  AND (s.completed_date = s.as_of_date
       OR (before.status IS NOT NULL AND before.status IS DISTINCT FROM '已办结'));
