-- mart.supervision: the escalated red procedures (督办) of campaign projects, one row per procedure per
-- report date: 一级 when red for at least level1_workdays working days (schemas/reference/city.csv,
-- default 3; pressed on the approving bureau and the unit), 二级 from level2_workdays (default 10; pressed
-- on the 包保领导 and the leading-group office). Working days overdue count as mart.light_list's do.
-- Grain: as_of_date × project × procedure.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- project_name: project name (项目名称)
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- procedure_order: the procedure's place in the reference order (ref.procedure.sort_order): order procedures by it
-- unit_code: code of the project's county or park (the unit a 督办单 is addressed to)
-- unit_name: the unit's name, e.g. 连山区
-- approving_unit_code: code of the bureau that approves the procedure (ref.procedure.owner_unit), e.g. FGW
-- approving_unit_name: name of that bureau, e.g. 市发改委
-- responsible_leader: the leader who answers for the project (包保领导), from its registration (项目 sheet)
-- level: 一级 or 二级
-- workdays_overdue: working days d with promised_date < d <= as_of_date
-- promised_date: the promised completion date (承诺办结日期) it is overdue against
-- level_since: the first report date at this level against this promised date (the day it was escalated)
-- escalated_today: true when level_since is the report date itself (a new 一级 or a rise to 二级)
CREATE OR REPLACE VIEW mart.supervision AS
SELECT
    s.as_of_date, s.project_code, p.project_name, s.procedure, rp.sort_order AS procedure_order, s.unit_code,
    u.unit_name, s.approving_unit_code, b.unit_name AS approving_unit_name, s.responsible_leader, s.level,
    s.workdays_overdue, s.promised_date, s.level_since, s.level_since = s.as_of_date AS escalated_today
FROM rollup.supervision AS s
JOIN rollup.project_status AS p USING (as_of_date, project_code)
LEFT JOIN ref.procedure AS rp ON rp.procedure = s.procedure
LEFT JOIN ref.unit AS u ON u.unit_code = s.unit_code
LEFT JOIN ref.unit AS b ON b.unit_code = s.approving_unit_code;
