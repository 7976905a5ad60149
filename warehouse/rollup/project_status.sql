-- The rows of rollup.project_status for the report dates in temp table report_day (all between
-- $first and $last): for each date, each project's registration version valid on that date.
SELECT
    d.as_of_date, v.project_code, v.unit_code, v.project_name, v.total_investment, v.planned_start_date,
    v.construction_state, v.actual_start_date, v.responsible_leader, v.is_campaign, v.submission_id
FROM core.project_version AS v
JOIN report_day AS d
  ON v.report_date <= d.as_of_date AND coalesce(v.valid_to, DATE '9999-12-31') > d.as_of_date
WHERE v.report_date <= $last AND coalesce(v.valid_to, DATE '9999-12-31') > $first
