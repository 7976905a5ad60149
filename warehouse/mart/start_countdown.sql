-- mart.start_countdown: the campaign projects not yet started (未开工), counting down to their planned
-- start date (计划开工日期) in calendar and working days (negative: the date has passed), with the
-- required procedures still outstanding (outstanding_procedures, in the reference order, joined by 、)
-- and whether the latest promise among them falls after the planned start (promised_after_start:
-- the start date is at risk; also when an outstanding procedure has no promised date).
-- Grain: as_of_date × project.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- project_name: project name (项目名称)
-- unit_code: code of the owning county or park
-- unit_name: the unit's name, e.g. 连山区
-- responsible_leader: the leader who answers for the project (包保领导)
-- total_investment: total investment (总投资), 万元
-- planned_start_date: planned start date (计划开工日期)
-- days_to_start: calendar days from the report date to the planned start (negative: passed)
-- workdays_to_start: working days d with as_of_date < d <= planned_start_date (negative: passed)
-- required_count: required procedures (应办)
-- outstanding_count: of them not yet done (未办结)
-- red_count: procedures showing 红
-- outstanding_procedures: the outstanding procedures' names in the reference order, joined by 、 ('' when none)
-- latest_promised_date: the latest promised completion date among the outstanding procedures
-- promised_after_start: true when an outstanding procedure is promised after the planned start or has no promised
--     date: the start is at risk
CREATE OR REPLACE VIEW mart.start_countdown AS
SELECT
    p.as_of_date, p.project_code, p.project_name, p.unit_code, u.unit_name, p.responsible_leader,
    p.total_investment, p.planned_start_date,
    p.planned_start_date - p.as_of_date AS days_to_start,
    start_day.workday_seq - today.workday_seq AS workdays_to_start,
    count(s.procedure) FILTER (WHERE s.required)::INTEGER AS required_count,
    count(s.procedure) FILTER (WHERE s.required AND s.status IS DISTINCT FROM '已办结')::INTEGER AS outstanding_count,
    count(s.procedure) FILTER (WHERE s.light = '红')::INTEGER AS red_count,
    coalesce(string_agg(s.procedure, '、' ORDER BY rp.sort_order)
             FILTER (WHERE s.required AND s.status IS DISTINCT FROM '已办结'), '') AS outstanding_procedures,
    max(s.promised_date) FILTER (WHERE s.required AND s.status IS DISTINCT FROM '已办结') AS latest_promised_date,
    coalesce(bool_or(s.required AND s.status IS DISTINCT FROM '已办结'
                     AND (s.promised_date IS NULL OR s.promised_date > p.planned_start_date)), false)
        AS promised_after_start
FROM rollup.project_status AS p
LEFT JOIN rollup.procedure_status AS s USING (as_of_date, project_code)
LEFT JOIN ref.procedure AS rp ON rp.procedure = s.procedure
LEFT JOIN ref.unit AS u ON u.unit_code = p.unit_code
LEFT JOIN ref.calendar AS today ON today.day = p.as_of_date
LEFT JOIN ref.calendar AS start_day ON start_day.day = p.planned_start_date
WHERE p.is_campaign AND p.construction_state = '未开工'
GROUP BY ALL;
