-- The rows of rollup.project_status for one report date ($as_of_date): each project's latest
-- accepted registration with report_date <= $as_of_date (later report date, then later arrival, wins).
SELECT
    $as_of_date, project_code, unit_code, project_name, total_investment, planned_start_date,
    construction_state, actual_start_date, responsible_leader, is_campaign, submission_id
FROM core.project_version
WHERE report_date <= $as_of_date
QUALIFY row_number() OVER (PARTITION BY project_code ORDER BY report_date DESC, seq DESC) = 1
