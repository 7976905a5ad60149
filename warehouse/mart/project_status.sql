-- mart.project_status: every registered project as of each report date (its latest accepted
-- registration), with its unit's name. Includes non-campaign projects (is_campaign = false).
-- Grain: as_of_date × project.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- project_name: project name (项目名称)
-- unit_code: code of the owning county or park
-- unit_name: the unit's name, e.g. 连山区
-- total_investment: total investment (总投资), 万元
-- planned_start_date: planned start date (计划开工日期)
-- construction_state: construction state (建设状态): 未开工 | 已开工 | 已复工 | 已竣工
-- actual_start_date: actual start date (实际开工日期)
-- responsible_leader: the leader who answers for the project (包保领导)
-- is_campaign: true for a 百日攻坚 campaign project (the rollups count only these)
CREATE OR REPLACE VIEW mart.project_status AS
SELECT
    p.as_of_date, p.project_code, p.project_name, p.unit_code, u.unit_name, p.total_investment,
    p.planned_start_date, p.construction_state, p.actual_start_date, p.responsible_leader, p.is_campaign
FROM rollup.project_status AS p
LEFT JOIN ref.unit AS u USING (unit_code);
