-- mart.project_history: every accepted registration of a project, with the report dates it was
-- valid from and to (valid_to exclusive, NULL while current) and the file and row it came from.
-- Grain: project × owning unit × report date.
-- Columns:
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- unit_code: code of the owning county or park
-- project_name: project name (项目名称)
-- total_investment: total investment (总投资), 万元
-- planned_start_date: planned start date (计划开工日期)
-- construction_state: construction state (建设状态): 未开工 | 已开工 | 已复工 | 已竣工
-- actual_start_date: actual start date (实际开工日期)
-- responsible_leader: the leader who answers for the project (包保领导)
-- is_campaign: true for a 百日攻坚 campaign project (the rollups count only these)
-- valid_from: report date from which this version counts
-- valid_to: report date from which the next version counts (exclusive); NULL while current
-- submission_id: the submission (received file) it came from, see mart.submissions
-- file_name: the file's name as the unit sent it
-- source_row: the spreadsheet row number of the record, as the person sees it in that file
-- received_at: when the file arrived (Asia/Shanghai wall time)
CREATE OR REPLACE VIEW mart.project_history AS
SELECT
    v.project_code, v.unit_code, v.project_name, v.total_investment, v.planned_start_date,
    v.construction_state, v.actual_start_date, v.responsible_leader, v.is_campaign,
    v.report_date AS valid_from,
    lead(v.report_date) OVER (PARTITION BY v.project_code, v.unit_code ORDER BY v.report_date) AS valid_to,
    v.submission_id, s.file_name, v.source_row, s.received_at
FROM core.project_version AS v
JOIN core.submission AS s USING (submission_id);
