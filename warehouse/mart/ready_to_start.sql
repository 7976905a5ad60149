-- mart.ready_to_start: campaign projects not yet started whose every required procedure is done
-- (具备开工条件). Grain: as_of_date × project.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- unit_code: code of the owning county or park
-- project_name: project name (项目名称)
-- total_investment: total investment (总投资), 万元
-- planned_start_date: planned start date (计划开工日期)
-- responsible_leader: the leader who answers for the project (包保领导)
CREATE OR REPLACE VIEW mart.ready_to_start AS
SELECT
    p.as_of_date, p.project_code, p.unit_code, p.project_name, p.total_investment,
    p.planned_start_date, p.responsible_leader
FROM rollup.project_status AS p
JOIN rollup.procedure_status AS s USING (as_of_date, project_code)
WHERE p.is_campaign AND p.construction_state = '未开工'
GROUP BY ALL
HAVING count(*) FILTER (WHERE s.required) > 0
   AND count(*) FILTER (WHERE s.required AND s.status IS DISTINCT FROM '已办结') = 0;
