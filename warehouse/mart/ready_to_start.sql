-- mart.ready_to_start: campaign projects not yet started whose every required procedure is done
-- (具备开工条件). Grain: as_of_date × project.
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
