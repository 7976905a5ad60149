-- mart.conflicts: procedures where the owning bureau and the project's unit disagree on status or
-- completion date, as of each report date. The bureau's record is the one counted; both units are
-- told. Grain: as_of_date × project × procedure.
CREATE OR REPLACE VIEW mart.conflicts AS
SELECT
    as_of_date, project_code, unit_code, procedure,
    unit_status, unit_completed_date, bureau_unit, bureau_status, bureau_completed_date
FROM rollup.procedure_status
WHERE bureau_status IS NOT NULL AND unit_status IS NOT NULL
  AND (unit_status IS DISTINCT FROM bureau_status OR unit_completed_date IS DISTINCT FROM bureau_completed_date);
