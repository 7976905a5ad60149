-- mart.procedure_history: every accepted report of a project's procedure, from the project's unit
-- or the approving bureau, with the report dates it was valid from and to (valid_to exclusive,
-- NULL while current) and the file and row it came from. "As of D": valid_from <= D < valid_to.
-- Grain: project × procedure × reporting unit × report date.
CREATE OR REPLACE VIEW mart.procedure_history AS
SELECT
    v.project_code, v.procedure, v.source_unit, v.source_role, v.required, v.status, v.promised_date,
    v.accepted_date, v.completed_date, v.approval_number,
    v.report_date AS valid_from,
    lead(v.report_date) OVER (PARTITION BY v.project_code, v.procedure, v.source_unit ORDER BY v.report_date) AS valid_to,
    v.submission_id, s.file_name, v.source_row, s.received_at
FROM core.procedure_version AS v
JOIN core.submission AS s USING (submission_id);
