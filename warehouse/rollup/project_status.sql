-- The rows of rollup.project_status for one report date ($as_of_date): each project's latest
-- accepted registration with report_date <= $as_of_date (the version valid on that date).
SELECT
    $as_of_date, project_code, unit_code, project_name, total_investment, planned_start_date,
    construction_state, actual_start_date, responsible_leader, is_campaign, submission_id
FROM core.project_version
WHERE report_date <= $as_of_date AND (valid_to IS NULL OR valid_to > $as_of_date)
