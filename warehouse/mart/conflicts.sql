-- mart.conflicts: procedures where the owning bureau and the project's unit disagree on status or
-- completion date, as of each report date. The bureau's record is the one counted; both units are
-- told. Grain: as_of_date × project × procedure.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- unit_code: code of the project's county or park
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- unit_status: status the county or park reports (待办 | 正办理 | 已办结)
-- unit_completed_date: completion date the county or park reports
-- bureau_unit: code of the approving bureau that reported
-- bureau_status: status the bureau reports: the one counted
-- bureau_completed_date: completion date the bureau reports: the one counted
CREATE OR REPLACE VIEW mart.conflicts AS
SELECT
    as_of_date, project_code, unit_code, procedure,
    unit_status, unit_completed_date, bureau_unit, bureau_status, bureau_completed_date
FROM rollup.procedure_status
WHERE bureau_status IS NOT NULL AND unit_status IS NOT NULL
  AND (unit_status IS DISTINCT FROM bureau_status OR unit_completed_date IS DISTINCT FROM bureau_completed_date);
