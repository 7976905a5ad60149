-- mart.light_rollup: how many required procedures of campaign projects show each light, per unit
-- and for the whole city (unit_code 'CITY'). Grain: as_of_date × unit.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- unit_code: code of the projects' owning unit, or 'CITY' for the whole city
-- green: required procedures showing 绿 (done)
-- yellow: required procedures showing 黄 (promised date near)
-- red: required procedures showing 红 (promised date passed)
-- overdue_completions: required procedures done after their promised date (逾期办结)
CREATE OR REPLACE VIEW mart.light_rollup AS
SELECT
    as_of_date, coalesce(unit_code, 'CITY') AS unit_code,
    count(*) FILTER (WHERE light = '绿')::INTEGER AS green,
    count(*) FILTER (WHERE light = '黄')::INTEGER AS yellow,
    count(*) FILTER (WHERE light = '红')::INTEGER AS red,
    count(*) FILTER (WHERE overdue_completion)::INTEGER AS overdue_completions
FROM rollup.procedure_status
WHERE is_campaign AND required
GROUP BY GROUPING SETS ((as_of_date, unit_code), (as_of_date));
