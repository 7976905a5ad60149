-- mart.unit_completion: how far each unit is with the required procedures of the campaign projects,
-- ranked for the 点名: a county or park (rank_group 'area') by the procedures of its own projects, a
-- bureau (rank_group 'bureau') by the procedures it approves, whoever's record is authoritative, and
-- the whole city (unit_code 'CITY', rank_group 'city'). rank_in_group 1 = highest done_rate; ties go
-- to fewer red lights. campaign_projects: a county's or park's registered campaign projects; a bureau's
-- campaign projects that require one of its procedures. Grain: as_of_date × unit.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- unit_code: unit code, or 'CITY' for the whole city
-- unit_name: the unit's name, 全市 for CITY
-- rank_group: who it is ranked with: area (a county or park, by its own projects) | bureau (by the procedures it
--     approves) | city
-- campaign_projects: area: its registered campaign projects; bureau: campaign projects requiring one of its
--     procedures
-- required_count: required procedures (应办) of those projects (bureau: of its procedures)
-- done_count: of them done (已办结)
-- in_progress_count: of them in progress (正办理)
-- pending_count: of them not started (待办)
-- done_rate: share of required procedures done (办结率), done_count / required_count, 0–1; NULL when none is required
-- green: required procedures showing 绿 (done)
-- yellow: required procedures showing 黄 (promised date near)
-- red: required procedures showing 红 (promised date passed)
-- overdue_completions: required procedures done after their promised date (逾期办结)
-- rank_in_group: rank within rank_group for the 点名: 1 = highest done_rate, ties to fewer 红
-- units_in_group: units in the rank_group that date
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
tallied AS (  -- each required procedure counts for its project's unit, for the city and for its approving bureau
    SELECT
        as_of_date, coalesce(owner_unit, unit_code, 'CITY') AS unit_code, GROUPING(owner_unit) = 0 AS by_bureau,
        count(DISTINCT project_code)::INTEGER AS projects_requiring,
        count(*)::INTEGER AS required_count,
        count(*) FILTER (WHERE status = '已办结')::INTEGER AS done_count,
        count(*) FILTER (WHERE status = '正办理')::INTEGER AS in_progress_count,
        count(*) FILTER (WHERE status = '待办')::INTEGER AS pending_count,
        count(*) FILTER (WHERE light = '绿')::INTEGER AS green,
        count(*) FILTER (WHERE light = '黄')::INTEGER AS yellow,
        count(*) FILTER (WHERE light = '红')::INTEGER AS red,
        count(*) FILTER (WHERE overdue_completion)::INTEGER AS overdue_completions
    FROM required
    GROUP BY GROUPING SETS ((as_of_date, unit_code), (as_of_date), (as_of_date, owner_unit))
),
units AS (  -- a county or park by its registered campaign projects, a bureau by the projects requiring its procedures
    SELECT
        p.as_of_date, p.unit_code, p.campaign_projects,
        coalesce(a.required_count, 0) AS required_count, coalesce(a.done_count, 0) AS done_count,
        coalesce(a.in_progress_count, 0) AS in_progress_count, coalesce(a.pending_count, 0) AS pending_count,
        coalesce(a.green, 0) AS green, coalesce(a.yellow, 0) AS yellow, coalesce(a.red, 0) AS red,
        coalesce(a.overdue_completions, 0) AS overdue_completions
    FROM projects AS p
    LEFT JOIN tallied AS a ON a.as_of_date = p.as_of_date AND a.unit_code = p.unit_code AND NOT a.by_bureau
    UNION ALL BY NAME
    SELECT * EXCLUDE (by_bureau, projects_requiring), projects_requiring AS campaign_projects
    FROM tallied
    WHERE by_bureau
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
