-- mart.procedure_rollup: completion by procedure for each unit and for the whole city (unit_code
-- 'CITY'), counting campaign projects by their owning unit and the authoritative status.
-- Grain: as_of_date × unit × procedure. done_rate is done/required (NULL when nothing is required).
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- unit_code: code of the projects' owning unit, or 'CITY' for the whole city
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- required_count: campaign projects that require the procedure (应办)
-- done_count: of them done (已办结)
-- in_progress_count: of them in progress (正办理)
-- pending_count: of them not started (待办)
-- done_rate: share of required procedures done (办结率), done_count / required_count, 0–1; NULL when none is required
CREATE OR REPLACE VIEW mart.procedure_rollup AS
WITH counted AS (
    SELECT
        as_of_date, unit_code, procedure,
        count(*) FILTER (WHERE required)::INTEGER                         AS required_count,
        count(*) FILTER (WHERE required AND status = '已办结')::INTEGER   AS done_count,
        count(*) FILTER (WHERE required AND status = '正办理')::INTEGER   AS in_progress_count,
        count(*) FILTER (WHERE required AND status = '待办')::INTEGER     AS pending_count
    FROM rollup.procedure_status
    WHERE is_campaign
    GROUP BY GROUPING SETS ((as_of_date, unit_code, procedure), (as_of_date, procedure))
)
SELECT
    as_of_date, coalesce(unit_code, 'CITY') AS unit_code, procedure,
    required_count, done_count, in_progress_count, pending_count,
    done_count / nullif(required_count, 0)::DOUBLE AS done_rate
FROM counted;
