-- mart.light_rollup: how many required procedures of campaign projects show each light, per unit
-- and for the whole city (unit_code 'CITY'). Grain: as_of_date × unit.
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
