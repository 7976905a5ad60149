-- mart.lineage: where each procedure_status figure comes from — the unit, file, sheet row and time
-- of the record it counts (the bureau's when it reported). Grain: as_of_date × project × procedure.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- status: authoritative status (办理状态): 待办 | 正办理 | 已办结
-- authority: whose record the status is: 'bureau' (the approving bureau's report, which wins) or 'unit' (the
--     project's county or park)
-- source_unit: code of the unit whose record is counted
-- submission_id: the submission (received file) it came from, see mart.submissions
-- file_name: the file's name as the unit sent it
-- source_row: the spreadsheet row number of the record, as the person sees it in that file
-- source_report_date: the report date of that file
-- received_at: when the file arrived (Asia/Shanghai wall time)
-- sha256: SHA-256 of the file's bytes (hex)
CREATE OR REPLACE VIEW mart.lineage AS
SELECT
    p.as_of_date, p.project_code, p.procedure, p.status, p.authority,
    s.unit_code AS source_unit, s.submission_id, s.file_name, p.source_row, s.report_date AS source_report_date,
    s.received_at, s.sha256
FROM rollup.procedure_status AS p
JOIN core.submission AS s ON s.submission_id = p.source_submission_id;
