-- mart.project_history: every accepted registration of a project, with the report dates it was
-- valid from and to (valid_to exclusive, NULL while current) and the file and row it came from.
-- Grain: project × owning unit × report date.
CREATE OR REPLACE VIEW mart.project_history AS
SELECT
    v.project_code, v.unit_code, v.project_name, v.total_investment, v.planned_start_date,
    v.construction_state, v.actual_start_date, v.responsible_leader, v.is_campaign,
    v.report_date AS valid_from,
    lead(v.report_date) OVER (PARTITION BY v.project_code, v.unit_code ORDER BY v.report_date) AS valid_to,
    v.submission_id, s.file_name, v.source_row, s.received_at
FROM core.project_version AS v
JOIN core.submission AS s USING (submission_id);
