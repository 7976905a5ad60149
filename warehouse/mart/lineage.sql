-- mart.lineage: where each procedure_status figure comes from — the unit, file, sheet row and time
-- of the record it counts (the bureau's when it reported). Grain: as_of_date × project × procedure.
CREATE OR REPLACE VIEW mart.lineage AS
SELECT
    p.as_of_date, p.project_code, p.procedure, p.status, p.authority,
    s.unit_code AS source_unit, s.submission_id, s.file_name, p.source_row, s.report_date AS source_report_date,
    s.received_at, s.sha256
FROM rollup.procedure_status AS p
JOIN core.submission AS s ON s.submission_id = p.source_submission_id;
