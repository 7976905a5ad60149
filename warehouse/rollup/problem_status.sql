-- The rows of rollup.problem_status for the report dates in temp table report_day (all between
-- $first and $last): for each date, each problem's accepted version valid on that date.
SELECT
    d.as_of_date, v.project_code, v.description, v.source_unit, v.responsible_unit, v.raised_date, v.deadline,
    v.closed, v.closed_date, v.report_date, v.submission_id
FROM core.problem_version AS v
JOIN report_day AS d
  ON v.report_date <= d.as_of_date AND coalesce(v.valid_to, DATE '9999-12-31') > d.as_of_date
WHERE v.report_date <= $last AND coalesce(v.valid_to, DATE '9999-12-31') > $first
