-- The rows of rollup.supervision for the report dates in temp table report_day (all between $first and
-- $last; rollup.procedure_status already holds those dates): each campaign project's required red
-- procedure overdue at least $level1_workdays working days, 二级 from $level2_workdays. level_since: the
-- first report date at this level against this promised date, from the rows before the span and the
-- span's own (working days overdue only grow while the promise stands, so those dates are contiguous).
WITH red AS (
    SELECT
        s.as_of_date, s.project_code, s.procedure, s.unit_code, rp.owner_unit AS approving_unit_code,
        p.responsible_leader, s.promised_date, greatest(-s.workdays_left, 0) AS workdays_overdue,
        if(greatest(-s.workdays_left, 0) >= $level2_workdays, '二级', '一级') AS level
    FROM rollup.procedure_status AS s
    JOIN rollup.project_status AS p USING (as_of_date, project_code)
    LEFT JOIN ref.procedure AS rp ON rp.procedure = s.procedure
    WHERE s.as_of_date BETWEEN $first AND $last AND s.as_of_date IN (SELECT as_of_date FROM report_day)
      AND p.as_of_date BETWEEN $first AND $last
      AND s.is_campaign AND s.required AND s.light = '红' AND greatest(-s.workdays_left, 0) >= $level1_workdays
),
earlier AS (
    SELECT project_code, procedure, promised_date, level, min(as_of_date) AS since
    FROM rollup.supervision
    WHERE as_of_date < $first
    GROUP BY project_code, procedure, promised_date, level
)
SELECT
    r.as_of_date, r.project_code, r.procedure, r.unit_code, r.approving_unit_code, r.responsible_leader,
    r.promised_date, r.workdays_overdue, r.level,
    least(coalesce(e.since, DATE '9999-12-31'),
          min(r.as_of_date) OVER (PARTITION BY r.project_code, r.procedure, r.promised_date, r.level)) AS level_since
FROM red AS r
LEFT JOIN earlier AS e USING (project_code, procedure, promised_date, level)
