-- The rows of rollup.problem_status for one report date ($as_of_date): each problem's latest accepted
-- version with report_date <= $as_of_date (the version valid on that date).
SELECT
    $as_of_date, project_code, description, source_unit, responsible_unit, raised_date, deadline,
    closed, closed_date, report_date, submission_id
FROM core.problem_version
WHERE report_date <= $as_of_date AND (valid_to IS NULL OR valid_to > $as_of_date)
