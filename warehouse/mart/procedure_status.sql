-- mart.procedure_status: every procedure of every registered project as of each report date,
-- with the authoritative status and its light (亮灯). Grain: as_of_date × project × procedure.
-- Includes non-campaign projects (is_campaign = false); the rollups count campaign projects only.
CREATE OR REPLACE VIEW mart.procedure_status AS
SELECT
    as_of_date, project_code, unit_code, procedure, required, status, promised_date, completed_date,
    light, overdue_completion, is_campaign, approval_level, accepted_date, approval_number, workdays_left,
    authority, source_submission_id
FROM rollup.procedure_status;
