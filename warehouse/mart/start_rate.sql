-- mart.start_rate: 开复工率 — the share of registered projects of at least 500万元 that have started
-- (已开工) or resumed (已复工); a finished project (已竣工) counts as started, since it could not finish
-- without starting. Every registered project counts, campaign or not (the year's target is about the
-- whole planned list); campaign_* columns give the campaign projects alone. Beside it: the next
-- target of the year on or after the report date (ref.start_rate_target, from
-- schemas/reference/start_rate_targets.csv; NULL when none is loaded) and how many more projects must
-- start to meet it. Grain: as_of_date × unit (+ unit_code 'CITY').
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- unit_code: code of the owning unit, or 'CITY' for the whole city
-- unit_name: the unit's name, 全市 for CITY
-- eligible_projects: registered projects of at least 500万元 total investment
-- started_projects: of them 已开工
-- resumed_projects: of them 已复工
-- finished_projects: of them 已竣工
-- started_or_resumed: of them started, resumed or finished (已开工 + 已复工 + 已竣工)
-- start_rate: 开复工率: started_or_resumed / eligible_projects, 0–1; NULL when none is eligible
-- campaign_eligible_projects: eligible projects that are campaign projects (百日攻坚)
-- campaign_started_or_resumed: of them started, resumed or finished
-- campaign_start_rate: 开复工率 of the campaign projects alone, 0–1
-- target_date: date of the next target on or after the report date (NULL: none loaded)
-- target_rate: that target's 开复工率, 0–1 (0.75 = 75 %)
-- target_label: that target's name, e.g. 年中目标
-- projects_short_of_target: projects that must still start to meet that target (0 when met; NULL without a target)
CREATE OR REPLACE VIEW mart.start_rate AS
WITH counted AS (
    SELECT
        as_of_date, coalesce(unit_code, 'CITY') AS unit_code,
        count(*)::INTEGER AS eligible_projects,
        count(*) FILTER (WHERE construction_state = '已开工')::INTEGER AS started_projects,
        count(*) FILTER (WHERE construction_state = '已复工')::INTEGER AS resumed_projects,
        count(*) FILTER (WHERE construction_state = '已竣工')::INTEGER AS finished_projects,
        count(*) FILTER (WHERE construction_state IN ('已开工', '已复工', '已竣工'))::INTEGER AS started_or_resumed,
        count(*) FILTER (WHERE is_campaign)::INTEGER AS campaign_eligible_projects,
        count(*) FILTER (WHERE is_campaign AND construction_state IN ('已开工', '已复工', '已竣工'))::INTEGER
            AS campaign_started_or_resumed
    FROM rollup.project_status
    WHERE total_investment >= 500  -- 万元
    GROUP BY GROUPING SETS ((as_of_date, unit_code), (as_of_date))
)
SELECT
    c.as_of_date, c.unit_code, coalesce(u.unit_name, '全市') AS unit_name,
    c.eligible_projects, c.started_projects, c.resumed_projects, c.finished_projects, c.started_or_resumed,
    c.started_or_resumed / nullif(c.eligible_projects, 0)::DOUBLE AS start_rate,
    c.campaign_eligible_projects, c.campaign_started_or_resumed,
    c.campaign_started_or_resumed / nullif(c.campaign_eligible_projects, 0)::DOUBLE AS campaign_start_rate,
    t.target_date, t.target_rate, t.label AS target_label,
    CASE WHEN t.target_rate IS NOT NULL
         THEN greatest(ceil(t.target_rate * c.eligible_projects - 1e-9)::INTEGER - c.started_or_resumed, 0)
    END AS projects_short_of_target
FROM counted AS c
LEFT JOIN ref.unit AS u USING (unit_code)
ASOF LEFT JOIN ref.start_rate_target AS t ON t.target_date >= c.as_of_date;
