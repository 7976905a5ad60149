-- mart.light_list: the red (红) and yellow (黄) lights the dispatch reads out, one row per required
-- procedure that shows one, with who answers for it: the project's unit and 包保领导 and the bureau
-- that approves the procedure (approval_level says when the province or the ministry decides).
-- workdays_overdue counts working days d with promised_date < d <= as_of_date (0 when the promise
-- passed on a day off); days_overdue counts calendar days. Includes non-campaign projects
-- (is_campaign = false; the rollups count campaign projects only). Grain: as_of_date × project × procedure.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- light: 红 (promised date passed) or 黄 (promised date near)
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
-- status: authoritative status (办理状态): 待办 | 正办理 | 已办结
-- promised_date: promised completion date (承诺办结日期)
-- workdays_left: working days d with as_of_date < d <= promised_date (0 or negative once it has passed); NULL
--     without a promised date
-- workdays_overdue: for 红: working days d with promised_date < d <= as_of_date (0 when the promise passed on a day
--     off); NULL for 黄
-- days_overdue: for 红: calendar days since the promised date; NULL for 黄
-- authority: whose record the status is: 'bureau' (the approving bureau's report, which wins) or 'unit' (the
--     project's county or park)
-- is_campaign: true for a 百日攻坚 campaign project (the rollups count only these)
CREATE OR REPLACE VIEW mart.light_list AS
SELECT
    s.as_of_date, s.light, s.project_code, p.project_name, s.unit_code, u.unit_name, p.responsible_leader,
    s.procedure, rp.sort_order AS procedure_order, rp.owner_unit AS approving_unit,
    b.unit_name AS approving_unit_name, s.approval_level, s.status, s.promised_date, s.workdays_left,
    CASE WHEN s.light = '红' THEN greatest(-s.workdays_left, 0) END AS workdays_overdue,
    CASE WHEN s.light = '红' THEN s.as_of_date - s.promised_date END AS days_overdue,
    s.authority, s.is_campaign
FROM rollup.procedure_status AS s
JOIN rollup.project_status AS p USING (as_of_date, project_code)
LEFT JOIN ref.unit AS u ON u.unit_code = s.unit_code
LEFT JOIN ref.procedure AS rp ON rp.procedure = s.procedure
LEFT JOIN ref.unit AS b ON b.unit_code = rp.owner_unit
WHERE s.required AND s.light IN ('红', '黄');
