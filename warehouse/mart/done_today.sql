-- mart.done_today: the procedures the dispatch reads out as done (销号) on a report date: required,
-- authoritatively 已办结, and either completed on that date (completed_on_report_date) or not yet
-- 已办结 on the previous report date that has a rollup (newly_done: e.g. a bureau reporting today a
-- completion of a few days ago). Includes non-campaign projects (is_campaign = false).
-- Grain: as_of_date × project × procedure.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- previous_as_of_date: the previous report date that has a rollup (NULL on the first)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- project_name: project name (项目名称)
-- unit_code: code of the project's county or park
-- unit_name: the unit's name, e.g. 连山区
-- responsible_leader: the leader who answers for the project (包保领导)
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- procedure_order: the procedure's place in the reference order (ref.procedure.sort_order): order procedures by it
-- approving_unit: code of the bureau that approves the procedure (ref.procedure.owner_unit), e.g. FGW
-- approving_unit_name: name of that bureau, e.g. 市发改委
-- approval_level: who decides (办理层级): 国家 | 省 | 市 | 县; NULL when not reported
-- promised_date: promised completion date (承诺办结日期)
-- completed_date: completion date (办结日期)
-- approval_number: approval document number (批复文号)
-- overdue_completion: true when done (已办结) after its promised date (逾期办结)
-- authority: whose record the status is: 'bureau' (the approving bureau's report, which wins) or 'unit' (the
--     project's county or park)
-- completed_on_report_date: true when completed_date is the report date itself
-- newly_done: true when it was not 已办结 on the previous report date (a completion reported today)
-- is_campaign: true for a 百日攻坚 campaign project (the rollups count only these)
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
