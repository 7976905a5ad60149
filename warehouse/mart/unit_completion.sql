-- mart.unit_completion: how far each unit is with the required procedures of the campaign projects,
-- ranked for the 点名: a county or park (rank_group 'area') by the procedures of its own projects, a
-- bureau (rank_group 'bureau') by the procedures it approves, whoever's record is authoritative, and
-- the whole city (unit_code 'CITY', rank_group 'city'). rank_in_group 1 = highest done_rate; ties go
-- to fewer red lights. campaign_projects: a county's or park's registered campaign projects; a bureau's
-- campaign projects that require one of its procedures. Grain: as_of_date × unit.
CREATE OR REPLACE VIEW mart.unit_completion AS
WITH required AS (
    SELECT s.as_of_date, s.unit_code, p.owner_unit, s.project_code, s.status, s.light, s.overdue_completion
    FROM rollup.procedure_status AS s
    JOIN ref.procedure AS p USING (procedure)
    WHERE s.is_campaign AND s.required
),
projects AS (
    SELECT as_of_date, coalesce(unit_code, 'CITY') AS unit_code, count(*)::INTEGER AS campaign_projects
    FROM rollup.project_status
    WHERE is_campaign
    GROUP BY GROUPING SETS ((as_of_date, unit_code), (as_of_date))
),
by_area AS (
    SELECT
        as_of_date, coalesce(unit_code, 'CITY') AS unit_code,
        count(*)::INTEGER AS required_count,
        count(*) FILTER (WHERE status = '已办结')::INTEGER AS done_count,
        count(*) FILTER (WHERE status = '正办理')::INTEGER AS in_progress_count,
        count(*) FILTER (WHERE status = '待办')::INTEGER AS pending_count,
        count(*) FILTER (WHERE light = '绿')::INTEGER AS green,
        count(*) FILTER (WHERE light = '黄')::INTEGER AS yellow,
        count(*) FILTER (WHERE light = '红')::INTEGER AS red,
        count(*) FILTER (WHERE overdue_completion)::INTEGER AS overdue_completions
    FROM required
    GROUP BY GROUPING SETS ((as_of_date, unit_code), (as_of_date))
),
by_bureau AS (
    SELECT
        as_of_date, owner_unit AS unit_code,
        count(DISTINCT project_code)::INTEGER AS campaign_projects,
        count(*)::INTEGER AS required_count,
        count(*) FILTER (WHERE status = '已办结')::INTEGER AS done_count,
        count(*) FILTER (WHERE status = '正办理')::INTEGER AS in_progress_count,
        count(*) FILTER (WHERE status = '待办')::INTEGER AS pending_count,
        count(*) FILTER (WHERE light = '绿')::INTEGER AS green,
        count(*) FILTER (WHERE light = '黄')::INTEGER AS yellow,
        count(*) FILTER (WHERE light = '红')::INTEGER AS red,
        count(*) FILTER (WHERE overdue_completion)::INTEGER AS overdue_completions
    FROM required
    GROUP BY ALL
),
units AS (
    SELECT
        p.as_of_date, p.unit_code, p.campaign_projects,
        coalesce(a.required_count, 0) AS required_count, coalesce(a.done_count, 0) AS done_count,
        coalesce(a.in_progress_count, 0) AS in_progress_count, coalesce(a.pending_count, 0) AS pending_count,
        coalesce(a.green, 0) AS green, coalesce(a.yellow, 0) AS yellow, coalesce(a.red, 0) AS red,
        coalesce(a.overdue_completions, 0) AS overdue_completions
    FROM projects AS p
    LEFT JOIN by_area AS a USING (as_of_date, unit_code)
    UNION ALL BY NAME
    SELECT * FROM by_bureau
),
rated AS (
    SELECT
        units.*,
        coalesce(u.unit_name, '全市') AS unit_name,
        CASE WHEN units.unit_code = 'CITY' THEN 'city' WHEN u.kind = 'bureau' THEN 'bureau' ELSE 'area' END
            AS rank_group,
        done_count / nullif(required_count, 0)::DOUBLE AS done_rate
    FROM units
    LEFT JOIN ref.unit AS u USING (unit_code)
)
SELECT
    as_of_date, unit_code, unit_name, rank_group, campaign_projects, required_count, done_count,
    in_progress_count, pending_count, done_rate, green, yellow, red, overdue_completions,
    rank() OVER (PARTITION BY as_of_date, rank_group ORDER BY done_rate DESC NULLS LAST, red)::INTEGER
        AS rank_in_group,
    count(*) OVER (PARTITION BY as_of_date, rank_group)::INTEGER AS units_in_group
FROM rated;
