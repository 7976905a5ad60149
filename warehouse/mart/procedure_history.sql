-- mart.procedure_history: every accepted report of a project's procedure, from the project's unit
-- or the approving bureau, with the report dates it was valid from and to (valid_to exclusive,
-- NULL while current) and the file and row it came from. "As of D": valid_from <= D < valid_to.
-- Grain: project × procedure × reporting unit × report date.
-- Columns:
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- source_unit: code of the unit that reported it (the project's county/park or the approving bureau)
-- source_role: 'unit' (the project's county or park) or 'bureau' (the approving bureau)
-- required: true when the project must obtain this procedure (应办)
-- status: status reported (办理状态): 待办 | 正办理 | 已办结
-- promised_date: promised completion date (承诺办结日期)
-- accepted_date: date the application was accepted (受理日期)
-- completed_date: completion date (办结日期)
-- approval_number: approval document number (批复文号)
-- valid_from: report date from which this version counts
-- valid_to: report date from which the next version counts (exclusive); NULL while current
-- submission_id: the submission (received file) it came from, see mart.submissions
-- file_name: the file's name as the unit sent it
-- source_row: the spreadsheet row number of the record, as the person sees it in that file
-- received_at: when the file arrived (Asia/Shanghai wall time)
CREATE OR REPLACE VIEW mart.procedure_history AS
SELECT
    v.project_code, v.procedure, v.source_unit, v.source_role, v.required, v.status, v.promised_date,
    v.accepted_date, v.completed_date, v.approval_number,
    v.report_date AS valid_from,
    lead(v.report_date) OVER (PARTITION BY v.project_code, v.procedure, v.source_unit ORDER BY v.report_date) AS valid_to,
    v.submission_id, s.file_name, v.source_row, s.received_at
FROM core.procedure_version AS v
JOIN core.submission AS s USING (submission_id);
