-- mart.unit_reports: for each report date that has a rollup, whether each unit sent an accepted
-- or partly accepted file for that date (未报送 units are followed up). Grain: as_of_date × unit.
-- Columns:
-- as_of_date: report date that has a rollup (Asia/Shanghai)
-- unit_code: the unit's code
-- unit_name: the unit's name, e.g. 连山区
-- kind: unit kind: county | park | bureau
-- files_received: files received from the unit for that report date
-- files_accepted: of them accepted or partly accepted
-- last_received_at: when the latest of them arrived (Asia/Shanghai wall time); NULL when none
CREATE OR REPLACE VIEW mart.unit_reports AS
SELECT
    r.as_of_date, u.unit_code, u.unit_name, u.kind,
    count(s.submission_id)::INTEGER AS files_received,
    count(s.submission_id) FILTER (WHERE s.outcome IN ('accepted', 'partial'))::INTEGER AS files_accepted,
    max(s.received_at) AS last_received_at
FROM rollup.rollup_run AS r
CROSS JOIN ref.unit AS u
LEFT JOIN core.submission AS s ON s.unit_code = u.unit_code AND s.report_date = r.as_of_date
GROUP BY ALL;
